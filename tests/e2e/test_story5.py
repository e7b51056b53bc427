"""Story 5 of the user scenarios: declarative vs imperative, through real kubectl and `orc`.

The same manifest applied twice changes nothing the second time; a field removed from the file is
removed from the object; `get -o yaml` shows `status` next to `spec`; and after the controller-manager,
the scheduler and the kubelet are killed (`orc up` starts them again), the cluster still converges
status to a new spec.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import yaml

from tests.e2e.helpers import running_pods, wait_for

REPO_ORC = [sys.executable, "-m", "cli.main"]


def manifest(*, replicas: int, with_tier_label: bool, with_env: bool) -> str:
    labels = {"app": "declared", **({"tier": "web"} if with_tier_label else {})}
    container = {"name": "main", "image": "busybox", "command": ["sleep", "3600"]}
    if with_env:
        container["env"] = [{"name": "GREETING", "value": "hello"}]
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "declared", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "declared"}},
                 "template": {"metadata": {"labels": {"app": "declared"}},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]}}},
    })


def kill_component(cluster, component: str) -> None:
    pattern = f"cli.main {component} .*{cluster.parent}"
    pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    assert pids, f"no {component} process of this cluster"
    for pid in pids:
        subprocess.run(["kill", "-s", str(int(signal.SIGKILL)), pid])
    wait_for(lambda: set(subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split())
             - set(pids), timeout=60, message=f"{component} started again")


def test_story_5_declarative_vs_imperative(kubectl, cluster, tmp_path):
    path = tmp_path / "declared.yaml"
    orc_env = {"KUBECONFIG": str(cluster), "PATH": "/usr/bin:/bin"}

    def apply_with_kubectl() -> str:
        return kubectl("apply", "-f", str(path)).stdout

    def apply_with_orc() -> str:
        result = subprocess.run([*REPO_ORC, "apply", "-f", str(path)], capture_output=True, text=True,
                                env=orc_env, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    try:
        path.write_text(manifest(replicas=2, with_tier_label=True, with_env=True))
        assert apply_with_kubectl() == "deployment.apps/declared created\n"
        assert apply_with_kubectl() == "deployment.apps/declared unchanged\n"
        assert apply_with_orc() == "deployment.apps/declared unchanged\n"
        wait_for(lambda: len(running_pods(kubectl, "app=declared")) == 2, message="2 declared pods running")
        generation = json.loads(kubectl("get", "deploy", "declared", "-o", "json").stdout)["metadata"]["generation"]

        # Remove the label and the env var from the file: applying removes them from the object.
        path.write_text(manifest(replicas=2, with_tier_label=False, with_env=False))
        assert apply_with_orc() == "deployment.apps/declared configured\n"
        deployment = json.loads(kubectl("get", "deploy", "declared", "-o", "json").stdout)
        assert "tier" not in deployment["metadata"]["labels"]
        assert "env" not in deployment["spec"]["template"]["spec"]["containers"][0]
        assert deployment["metadata"]["generation"] == generation + 1
        assert apply_with_kubectl() == "deployment.apps/declared unchanged\n"

        # `get -o yaml` shows the status the controllers wrote, next to the spec.
        def rolled_out() -> bool:
            status = json.loads(kubectl("get", "deploy", "declared", "-o", "json").stdout)["status"]
            return status.get("observedGeneration") == generation + 1 and \
                status.get("replicas") == status.get("updatedReplicas") == status.get("availableReplicas") == 2

        wait_for(rolled_out, message="the new template rolled out, old pods gone")
        document = yaml.safe_load(kubectl("get", "deploy", "declared", "-o", "yaml").stdout)
        assert document["spec"]["replicas"] == 2
        assert document["status"]["replicas"] == 2 and document["status"]["observedGeneration"] == generation + 1

        # Kill the controller-manager, the scheduler and the kubelet; the desired state still wins.
        for component in ("controller-manager", "scheduler", "kubelet"):
            kill_component(cluster, component)
        path.write_text(manifest(replicas=3, with_tier_label=False, with_env=False))
        assert apply_with_kubectl() == "deployment.apps/declared configured\n"

        def converged() -> bool:
            status = json.loads(kubectl("get", "deploy", "declared", "-o", "json").stdout)["status"]
            return status.get("readyReplicas") == 3 and len(running_pods(kubectl, "app=declared")) == 3

        wait_for(converged, timeout=120, message="3 ready replicas after the restarts")
    finally:
        kubectl("delete", "deploy", "declared", "--ignore-not-found", "--wait=false", check=False)
