"""`orc rollout history|undo|pause|resume|restart|status` next to kubectl (issue 6, acceptance 1).

No controller runs in this cluster, so the test writes the ReplicaSets a Deployment controller would
have written (owner reference, `deployment.kubernetes.io/revision`, `kubernetes.io/change-cause`).
"""

from __future__ import annotations

import json

import pytest
import yaml


def replicaset(deployment: dict, *, revision: int, image: str, replicas: int, change_cause: str | None) -> dict:
    name = deployment["metadata"]["name"]
    hash_label = f"h{revision}"
    labels = {"app": name, "pod-template-hash": hash_label}
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if change_cause:
        annotations["kubernetes.io/change-cause"] = change_cause
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"{name}-{hash_label}", "labels": labels, "annotations": annotations,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                          "uid": deployment["metadata"]["uid"], "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "echo", "image": image}]}}},
    }


@pytest.fixture
def rolled(kubectl, namespace) -> str:
    """Deployments `ours` and `theirs` at revision 3 (echo:v3), with ReplicaSets for revisions 1 to 3."""
    for name in ("ours", "theirs"):
        kubectl("create", "deployment", name, "--image=echo:v3", "-n", namespace)
        deployment = json.loads(kubectl("get", "deploy", name, "-n", namespace, "-o", "json").stdout)
        sets = [replicaset(deployment, revision=1, image="echo:v1", replicas=0, change_cause="first"),
                replicaset(deployment, revision=2, image="echo:v2", replicas=0, change_cause=None),
                replicaset(deployment, revision=3, image="echo:v3", replicas=1, change_cause="third")]
        kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(sets))
    return namespace


def both_on(orc, kubectl_env, args: list[str], namespace: str):
    ours = orc(*[part.replace("{name}", "ours") for part in args], "-n", namespace)
    theirs = kubectl_env(*[part.replace("{name}", "theirs") for part in args], "-n", namespace)
    return ours, theirs


@pytest.mark.parametrize("args", [
    pytest.param(["rollout", "history", "deployment", "{name}"], id="history"),
    pytest.param(["rollout", "history", "deployment/{name}", "--revision=1"], id="history-revision"),
    pytest.param(["rollout", "history", "deployment/{name}", "--revision=9"], id="history-missing-revision"),
    pytest.param(["rollout", "undo", "deployment/{name}", "--dry-run=client"], id="undo-dry-run"),
])
def test_rollout_reports_like_kubectl(orc, kubectl_env, rolled, args):
    ours, theirs = both_on(orc, kubectl_env, args, rolled)
    assert ours.returncode == theirs.returncode
    assert ours.stdout.replace("ours", "X") == theirs.stdout.replace("theirs", "X")
    assert ours.stderr == theirs.stderr


@pytest.mark.parametrize("to_revision", [pytest.param([], id="previous"),
                                         pytest.param(["--to-revision=1"], id="to-revision-1")])
def test_undo_restores_the_same_template_as_kubectl(orc, kubectl_env, kubectl, rolled, to_revision):
    ours, theirs = both_on(orc, kubectl_env, ["rollout", "undo", "deployment", "{name}", *to_revision], rolled)
    assert ours.stdout == "deployment.apps/ours rolled back\n"
    assert theirs.stdout == "deployment.apps/theirs rolled back\n"
    documents = {name: json.loads(kubectl("get", "deploy", name, "-n", rolled, "-o", "json").stdout)
                 for name in ("ours", "theirs")}
    assert json.dumps(documents["ours"]["spec"]["template"]) == \
        json.dumps(documents["theirs"]["spec"]["template"]).replace("theirs", "ours")
    assert documents["ours"]["metadata"].get("annotations") == documents["theirs"]["metadata"].get("annotations")
    again, _ = both_on(orc, kubectl_env, ["rollout", "undo", "deployment", "{name}", *to_revision], rolled)
    if to_revision:
        assert again.stdout == ("deployment.apps/ours skipped rollback (current template already matches "
                                "revision 1)\n")


def test_pause_resume_restart(orc, kubectl_env, kubectl, rolled):
    for args in (["rollout", "pause", "deploy/{name}"], ["rollout", "pause", "deploy/{name}"],
                 ["rollout", "resume", "deploy/{name}"], ["rollout", "resume", "deploy/{name}"],
                 ["rollout", "restart", "deploy/{name}"]):
        ours, theirs = both_on(orc, kubectl_env, args, rolled)
        assert (ours.returncode, ours.stdout.replace("ours", "X"), ours.stderr.replace("ours", "X")) == \
            (theirs.returncode, theirs.stdout.replace("theirs", "X"), theirs.stderr.replace("theirs", "X")), args
    annotations = json.loads(kubectl("get", "deploy", "ours", "-n", rolled, "-o", "json").stdout)[
        "spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations


def test_status_prints_progress_until_rolled_out(cli_env, kubectl, namespace):
    """The test plays the controller: status reports each stage kubectl reports, then succeeds."""
    import subprocess
    import sys
    import time

    kubectl("create", "deployment", "web", "--image=echo:v1", "--replicas=5", "-n", namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web/status"

    def set_status(**status) -> None:
        document = json.loads(kubectl("get", "--raw", path.removesuffix("/status")).stdout)
        document["status"] = {"observedGeneration": document["metadata"]["generation"], **status}
        kubectl("replace", "--raw", path, "-f", "-", input=json.dumps(document))

    set_status(replicas=5, updatedReplicas=2, availableReplicas=0)
    watcher = subprocess.Popen([sys.executable, "-m", "cli.main", "rollout", "status", "deployment/web", "-n",
                                namespace, "--timeout=60s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=cli_env)
    time.sleep(1.5)
    set_status(replicas=5, updatedReplicas=5, readyReplicas=2, availableReplicas=2)
    time.sleep(1.5)
    set_status(replicas=5, updatedReplicas=5, readyReplicas=5, availableReplicas=5)
    output, errors = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, errors
    assert output.splitlines() == [
        'Waiting for deployment "web" rollout to finish: 2 out of 5 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 2 of 5 updated replicas are available...',
        'deployment "web" successfully rolled out',
    ]


def test_rollout_refuses_other_kinds(orc, kubectl, namespace):
    kubectl("create", "configmap", "c", "-n", namespace)
    result = orc("rollout", "status", "configmap/c", "-n", namespace)
    assert result.returncode == 1
    assert result.stderr == "error: no status viewer has been implemented for ConfigMap\n"
