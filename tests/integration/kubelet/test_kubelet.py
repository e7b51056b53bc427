"""Acceptance of the kubelet (issue 4, 2-4 and 6): real `orc kubelet`, real apiserver, real Docker, real kubectl.

All pods of the module are created at once by the `workload` fixture, so their slow
parts (crash-loop back-off, probes) run side by side; each test then waits, bounded,
for what Kubernetes would show. Pods are bound to the node directly (no scheduler).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from typing import Any

import pytest

from orchestrator.cluster.ports import free_port
from tests.integration.kubelet.helpers import KubeletUnderTest, pod_manifest, wait_until

pytestmark = pytest.mark.docker

BUSYBOX = "busybox:1.36"
HOST_PORT = free_port()


def busybox(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": BUSYBOX, "command": ["sh", "-c", script], **fields}


def workload(node: str) -> list[dict[str, Any]]:
    http_probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"password": "s3cret"}},
        pod_manifest("pair", [
            {"name": "web", "image": "echo:v1", "ports": [{"containerPort": 8080}], "readinessProbe": http_probe},
            busybox("client", "until wget -qO- http://localhost:8080/; do sleep 0.2; done; echo; sleep 3600"),
        ], node_name=node),
        pod_manifest("config", [busybox(
            "main",
            'echo "env $GREETING|$POD_NAME|$POD_IP|$NODE|$MODE|$PASSWORD|$CFG_mode"; '
            'echo "file $(cat /config/mode)|$(cat /shared/init.txt)"; pwd; cat /etc/resolv.conf; sleep 3600',
            workingDir="/shared",
            env=[{"name": "WHO", "value": "world"}, {"name": "GREETING", "value": "hello-$(WHO)"},
                 {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                 {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                 {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                 {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
                 {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}],
            envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
            volumeMounts=[{"name": "shared", "mountPath": "/shared"}, {"name": "config", "mountPath": "/config"}],
            resources={"limits": {"cpu": "500m", "memory": "64Mi"}},
        )], initContainers=[busybox("setup", "echo initialized > /shared/init.txt",
                                    volumeMounts=[{"name": "shared", "mountPath": "/shared"}])],
            volumes=[{"name": "shared", "emptyDir": {}}, {"name": "config", "configMap": {"name": "settings"}}],
            node_name=node),
        pod_manifest("sleeper", [busybox("main", "echo started; sleep 3600")], node_name=node),
        pod_manifest("crasher", [busybox("main", "echo crashing; exit 1")], node_name=node),
        pod_manifest("once-failed", [busybox("main", "exit 3")], restartPolicy="Never", node_name=node),
        pod_manifest("once-ok", [busybox("main", "echo done")], restartPolicy="OnFailure", node_name=node),
        pod_manifest("liveness", [busybox(
            "main", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600",
            livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 1},
        )], node_name=node),
        pod_manifest("unready", [{"name": "web", "image": "echo:v1",
                                  "readinessProbe": {"httpGet": {"path": "/missing", "port": 8080},
                                                     "periodSeconds": 1},
                                  "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}],
                     node_name=node),
        pod_manifest("no-image", [{"name": "main", "image": "registry.invalid/nope:1.0"}], node_name=node),
        pod_manifest("never-pull", [{"name": "main", "image": "nope-local:1.0", "imagePullPolicy": "Never"}],
                     node_name=node),
        pod_manifest("hostport", [{"name": "web", "image": "echo:v1",
                                   "ports": [{"containerPort": 8080, "hostPort": HOST_PORT, "hostIP": "127.0.0.1"}]}],
                     node_name=node),
        pod_manifest("chatty", [busybox("main", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")],
                     node_name=node),
        pod_manifest("sidecar", [busybox("main", "sleep 3600")],
                     initContainers=[busybox("helper", "sleep 3600", restartPolicy="Always")], node_name=node),
        pod_manifest("hostnet", [busybox("main", "sleep 3600")], hostNetwork=True, node_name=node),
        pod_manifest("goner", [busybox("main", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.2; done")],
                     node_name=node),
    ]


@pytest.fixture(scope="module")
def node(kubelet_node: KubeletUnderTest) -> KubeletUnderTest:
    kubelet_node.apply(*workload(kubelet_node.node_name))
    return kubelet_node


def state_of(node: KubeletUnderTest, pod: str, container: str = "main") -> dict[str, Any]:
    return node.container_status(pod, container).get("state") or {}


def waiting_reason(node: KubeletUnderTest, pod: str, container: str = "main") -> str:
    return (state_of(node, pod, container).get("waiting") or {}).get("reason", "")


def pods_table(node: KubeletUnderTest) -> dict[str, list[str]]:
    """`kubectl get pods` as the user sees it: name -> [READY, STATUS, RESTARTS, ...]."""
    output = node.kubectl("get", "pods", "--no-headers").stdout
    return {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}


def logs(node: KubeletUnderTest, *args: str) -> str:
    return node.kubectl("logs", *args).stdout


def logs_so_far(node: KubeletUnderTest, *args: str) -> str:
    """The logs, or "" while the container has none to give (not started yet)."""
    result = node.kubectl("logs", *args, check=False)
    return result.stdout if result.returncode == 0 else ""


# ---------------------------------------------------------------- the node


def test_node_registers_with_capacity_and_a_lease(node: KubeletUnderTest) -> None:
    node_object = node.get("node", node.node_name)
    assert node_object is not None
    status = node_object["status"]
    assert int(status["capacity"]["cpu"]) >= 1 and status["capacity"]["memory"].endswith("Ki")
    assert status["capacity"]["pods"] == "110"
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("docker://")
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.0-orc"
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == node.port
    assert node_object["metadata"]["labels"]["kubernetes.io/hostname"] == node.node_name
    lease = node.get("lease", node.node_name, namespace="kube-node-lease")
    assert lease is not None and lease["spec"]["holderIdentity"] == node.node_name
    assert lease["spec"]["leaseDurationSeconds"] == 40


# ---------------------------------------------------------------- running pods


def test_two_containers_reach_each_other_on_localhost(node: KubeletUnderTest) -> None:
    wait_until(lambda: pods_table(node).get("pair", [""])[0] == "2/2", what="pair 2/2 ready")
    answer = wait_until(lambda: logs_so_far(node, "pair", "-c", "client").strip(), what="the client's answer")
    assert json.loads(answer.splitlines()[0]) == {"host": "pair", "version": "v1"}
    status = node.pod_status("pair")
    assert status["phase"] == "Running" and status["podIP"] and status["hostIP"] == "127.0.0.1"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True", "ContainersReady": "True",
        "PodScheduled": "True"}
    for container in status["containerStatuses"]:
        assert container["containerID"].startswith("docker://") and container["imageID"].startswith("docker://")
        assert container["ready"] and container["started"] and "running" in container["state"]
    assert status["qosClass"] == "BestEffort" and status["startTime"]


def test_init_container_volumes_and_environment(node: KubeletUnderTest) -> None:
    output = wait_until(lambda: "options" in logs_so_far(node, "config") and logs(node, "config"), what="the config pod's output")
    pod_ip = node.pod_status("config")["podIP"]
    assert f"env hello-world|config|{pod_ip}|{node.node_name}|fast|s3cret|fast" in output
    assert "file fast|initialized" in output
    assert "/shared" in output.splitlines()
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in output  # ClusterFirst DNS
    assert "options ndots:5" in output
    (init_status,) = node.pod_status("config")["initContainerStatuses"]
    assert init_status["state"]["terminated"]["reason"] == "Completed" and init_status["ready"] is True
    (main,) = [c for c in node.containers(include_sandboxes=False) if c.labels["orc.pod.name"] == "config"
               and c.labels["orc.container.name"] == "main"]
    host_config = main.attrs["HostConfig"]
    assert host_config["NanoCpus"] == 500_000_000 and host_config["Memory"] == 64 * 1024 * 1024
    assert any(mount["Destination"] == "/config" and not mount["RW"] for mount in main.attrs["Mounts"])


def test_host_port_is_published(node: KubeletUnderTest) -> None:
    wait_until(lambda: pods_table(node).get("hostport", [""])[0] == "1/1", what="hostport running")

    def answer() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{HOST_PORT}/healthz", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return ""

    assert wait_until(answer, what="the hostPort answers").strip() == "ok"


def test_sidecar_keeps_running_beside_the_app_container(node: KubeletUnderTest) -> None:
    wait_until(lambda: pods_table(node).get("sidecar", [""])[:2] == ["2/2", "Running"], what="sidecar pod 2/2")
    (helper,) = node.pod_status("sidecar")["initContainerStatuses"]
    assert "running" in helper["state"] and helper["started"] and helper["ready"]


def test_host_network_pod_gets_the_node_address(node: KubeletUnderTest) -> None:
    wait_until(lambda: pods_table(node).get("hostnet", [""])[0] == "1/1", what="hostnet running")
    status = node.pod_status("hostnet")
    assert status["podIP"] == status["hostIP"] == "127.0.0.1"


# ---------------------------------------------------------------- restarts


def test_docker_kill_restarts_the_container_and_counts_it(node: KubeletUnderTest) -> None:
    wait_until(lambda: "running" in state_of(node, "sleeper"), what="sleeper running")
    before = node.container_status("sleeper", "main")
    node.docker.containers.get(before["containerID"].removeprefix("docker://")).kill()
    after = wait_until(lambda: (s := node.container_status("sleeper", "main")).get("restartCount") == 1
                       and "running" in s["state"] and s, what="sleeper restarted")
    assert after["containerID"] != before["containerID"]
    assert after["lastState"]["terminated"]["exitCode"] == 137
    assert after["lastState"]["terminated"]["containerID"] == before["containerID"]
    assert pods_table(node)["sleeper"][2] == "1"
    assert logs(node, "sleeper", "--previous").strip() == "started"


def test_always_failing_container_goes_into_crash_loop_back_off_with_growing_delays(node: KubeletUnderTest) -> None:
    uid = node.get("pod", "crasher")["metadata"]["uid"]
    pattern = re.compile(rf"^back-off (\d+)s restarting failed container=main pod=crasher_default\({uid}\)$")

    def delay() -> int:
        waiting = state_of(node, "crasher").get("waiting") or {}
        match = pattern.match(waiting.get("message", "")) if waiting.get("reason") == "CrashLoopBackOff" else None
        return int(match.group(1)) if match else 0

    first = wait_until(delay, what="CrashLoopBackOff")
    wait_until(lambda: delay() > first, timeout=120, what=f"the back-off growing beyond {first}s")
    assert pods_table(node)["crasher"][1] == "CrashLoopBackOff"
    status = node.container_status("crasher", "main")
    assert status["restartCount"] >= 2
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert node.pod_status("crasher")["phase"] == "Running"
    reasons = {(event["reason"], event["type"]) for event in node.events("crasher")}
    assert ("BackOff", "Warning") in reasons and ("Started", "Normal") in reasons


@pytest.mark.parametrize(
    ("pod", "phase", "table_status", "exit_code"),
    [
        pytest.param("once-failed", "Failed", "Error", 3, id="never-failed"),
        pytest.param("once-ok", "Succeeded", "Completed", 0, id="onfailure-succeeded"),
    ],
)
def test_run_once_pods_end_in_a_terminal_phase(
    node: KubeletUnderTest, pod: str, phase: str, table_status: str, exit_code: int
) -> None:
    wait_until(lambda: node.pod_status(pod).get("phase") == phase, what=f"{pod} {phase}")
    terminated = state_of(node, pod)["terminated"]
    assert terminated["exitCode"] == exit_code
    assert pods_table(node)[pod][1] == table_status
    assert node.container_status(pod, "main")["restartCount"] == 0
    uid = node.get("pod", pod)["metadata"]["uid"]
    # The sandbox of a finished pod is stopped; the container stays for `kubectl logs`.
    wait_until(lambda: all(c.status != "running" for c in node.containers(pod_uid=uid)), what="nothing running")


# ---------------------------------------------------------------- probes


def test_failing_liveness_probe_restarts_the_container(node: KubeletUnderTest) -> None:
    wait_until(lambda: node.container_status("liveness", "main").get("restartCount", 0) >= 1, timeout=60,
               what="liveness restart")
    messages = {(event["reason"], event["message"]) for event in node.events("liveness")}
    assert ("Killing", "Container main failed liveness probe, will be restarted") in messages
    assert any(reason == "Unhealthy" and message.startswith("Liveness probe failed:") for reason, message in messages)


def test_failing_readiness_probe_keeps_the_pod_unready(node: KubeletUnderTest) -> None:
    wait_until(lambda: "running" in state_of(node, "unready", "web"), what="unready running")
    wait_until(lambda: any(e["reason"] == "Unhealthy" for e in node.events("unready")), what="a failed probe")
    assert pods_table(node)["unready"][:2] == ["0/1", "Running"]
    conditions = {c["type"]: c for c in node.pod_status("unready")["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["ContainersReady"]["message"] == "containers with unready status: [web]"
    messages = [e["message"] for e in node.events("unready") if e["reason"] == "Unhealthy"]
    assert "Readiness probe failed: HTTP probe failed with statuscode: 404" in messages
    assert node.container_status("unready", "web")["restartCount"] == 0  # the tcp liveness probe passes


# ---------------------------------------------------------------- images


def test_missing_image_gives_err_image_pull_then_image_pull_back_off(node: KubeletUnderTest) -> None:
    # ErrImagePull shows only for a moment after each failed pull; its event stays.
    wait_until(lambda: waiting_reason(node, "no-image") == "ImagePullBackOff", what="ImagePullBackOff")
    messages = {event["message"] for event in node.events("no-image")}
    assert 'Pulling image "registry.invalid/nope:1.0"' in messages
    assert "Error: ErrImagePull" in messages and 'Back-off pulling image "registry.invalid/nope:1.0"' in messages
    assert node.pod_status("no-image")["phase"] == "Pending"
    assert pods_table(node)["no-image"][1] in ("ImagePullBackOff", "ErrImagePull")
    assert wait_until(lambda: waiting_reason(node, "never-pull")) == "ErrImageNeverPull"


# ---------------------------------------------------------------- logs through the apiserver


def test_kubectl_logs_tail_container_since_and_selector(node: KubeletUnderTest) -> None:
    wait_until(lambda: len(logs_so_far(node, "chatty").splitlines()) >= 5, what="some lines")
    assert len(logs(node, "chatty", "--tail", "2").splitlines()) == 2
    assert logs(node, "chatty", "-c", "main", "--tail", "1").startswith("line ")
    assert logs(node, "chatty", "--since", "1h").startswith("line 0")
    assert logs(node, "-l", "test=chatty", "--tail", "1").startswith("line ")
    stamped = logs(node, "chatty", "--tail", "1", "--timestamps")
    assert stamped[:4].isdigit() and "Z line " in stamped
    failed = node.kubectl("logs", "no-image", check=False)
    assert failed.returncode != 0 and 'is waiting to start' in failed.stderr


def test_kubectl_logs_follow_streams_new_lines(node: KubeletUnderTest) -> None:
    command = ["kubectl", "--kubeconfig", str(node.apiserver.kubeconfig), "logs", "-f", "chatty", "--tail", "1"]
    with pytest.raises(subprocess.TimeoutExpired) as following:
        subprocess.run(command, capture_output=True, timeout=3)  # it follows until stopped
    output = following.value.stdout or b""
    numbers = [int(line.split()[1]) for line in output.decode().splitlines()]
    assert len(numbers) >= 4 and numbers == sorted(numbers) and numbers[-1] - numbers[0] == len(numbers) - 1


# ---------------------------------------------------------------- deletion


def test_graceful_deletion_removes_everything(node: KubeletUnderTest) -> None:
    wait_until(lambda: "running" in state_of(node, "goner"), what="goner running")
    uid = node.get("pod", "goner")["metadata"]["uid"]
    assert node.containers(pod_uid=uid)
    started = time.monotonic()
    node.kubectl("delete", "pod", "goner", "--timeout=60s")
    assert node.get("pod", "goner") is None
    assert time.monotonic() - started < 60
    assert node.containers(pod_uid=uid) == []
    assert not (node.directory / "root" / node.cluster / node.node_name / "pods" / uid).exists()
    reasons = [event["reason"] for event in node.events("goner")]
    assert "Killing" in reasons
