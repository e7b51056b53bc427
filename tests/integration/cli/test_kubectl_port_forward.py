"""Real `kubectl port-forward` (v1.32) against a one-machine cluster (`orc up`: etcd, apiserver, kubelet,
real Docker): kubectl tunnels SPDY through the apiserver's pods/portforward WebSocket, the apiserver
forwards each connection through the kubelet to the echo pod.

Traffic goes only to 127.0.0.1 (the forwarded ports) and, from the kubelet, to this test's pod.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.cluster.ports import free_port
from tests.e2e.helpers import http_get, wait_for

# The cluster, `orc` and the echo pod (behind Service forward-echo, port 80 -> http/8080) of the orc tests.
from tests.integration.cli.test_port_forward_exec import cluster_env, echo_pod, orc  # noqa: F401
from tests.support import requires_docker

pytestmark = requires_docker
OUTPUT_TIMEOUT_SECONDS = 30


class KubectlForward:
    """`kubectl port-forward ARGS` running, its output lines collected by reader threads."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(["kubectl", "port-forward", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        self.stdout: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        self.stderr_closed = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self.stdout.put(line.rstrip("\n"))
        self.stdout.put(None)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))
        self.stderr_closed.set()

    def next_line(self) -> str:
        line = self.stdout.get(timeout=OUTPUT_TIMEOUT_SECONDS)
        if line is None:
            self.process.wait(10)
            raise AssertionError(f"kubectl port-forward exited {self.process.returncode}: "
                                 + "\n".join(self.stderr_lines))
        return line

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.stderr_closed.wait(5)
        return code


def host_behind(local_port: int) -> str:
    answer = wait_for(lambda: http_get(f"http://127.0.0.1:{local_port}/"), timeout=30,
                      message="an answer through kubectl port-forward")
    return json.loads(answer)["host"]


@pytest.mark.parametrize("target, remote", [
    pytest.param("pod/forward-echo", "8080", id="pod"),
    pytest.param("svc/forward-echo", "80", id="service-port-to-named-target-port"),
])
def test_kubectl_port_forward_reaches_the_pod(cluster_env, echo_pod, target, remote):  # noqa: F811
    local_port = free_port()
    forward = KubectlForward(cluster_env, target, f"{local_port}:{remote}", "--address", "127.0.0.1")
    try:
        assert forward.next_line() == f"Forwarding from 127.0.0.1:{local_port} -> 8080"
        assert [host_behind(local_port) for _ in range(3)] == [echo_pod] * 3
        # Two connections at once share kubectl's one tunnel, each with its own pair of SPDY streams.
        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(host_behind, [local_port, local_port])) == [echo_pod] * 2
    finally:
        forward.stop()
    assert not [line for line in forward.stderr_lines if line.startswith("E")], forward.stderr_lines


def test_a_port_nothing_listens_on_is_reported_by_kubectl(cluster_env, echo_pod):  # noqa: F811
    local_port = free_port()
    forward = KubectlForward(cluster_env, f"pod/{echo_pod}", f"{local_port}:9999", "--address", "127.0.0.1")
    try:
        assert forward.next_line() == f"Forwarding from 127.0.0.1:{local_port} -> 9999"
        assert http_get(f"http://127.0.0.1:{local_port}/") is None
        # kubectl prints the error stream's message and gives up the whole forward, as with Kubernetes.
        assert forward.process.wait(OUTPUT_TIMEOUT_SECONDS) == 1
    finally:
        forward.stop()
    stderr = "\n".join(forward.stderr_lines)
    assert f"error forwarding port 9999 to pod {echo_pod}" in stderr
    assert "error: lost connection to pod" in stderr


def test_without_websockets_kubectl_reads_why(cluster_env, echo_pod):  # noqa: F811
    """kubectl's SPDY fallback (forced here) cannot be served under uvicorn: the Status says what to use."""
    result = subprocess.run(["kubectl", "port-forward", f"pod/{echo_pod}", f"{free_port()}:8080"],
                            capture_output=True, text=True, timeout=60,
                            env={**cluster_env, "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: error upgrading connection: upgrading to SPDY/3.1 is not supported"), \
        result.stderr


def test_a_missing_pod_is_a_status_on_the_tunnel_and_on_its_fallback(cluster_env):  # noqa: F811
    """kubectl reads the pod before it dials, but the tunnel and the SPDY fallback refuse alone too."""
    import httpx
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from orchestrator.client.config import load_client_config

    config = load_client_config(kubeconfig=cluster_env["KUBECONFIG"], server=None, context=None, token=None)
    path = "/api/v1/namespaces/default/pods/no-such-pod/portforward"
    # websockets' client checks subprotocol names as strictly as its server: pass the header by hand.
    with pytest.raises(InvalidStatus) as refused:
        connect(config.server.replace("https://", "wss://") + path, ssl=config.ssl_context(), open_timeout=10,
                additional_headers={"Authorization": f"Bearer {config.token}",
                                    "Sec-WebSocket-Protocol": "SPDY/3.1+portforward.k8s.io"})
    fallback = httpx.post(config.server + path, verify=config.ssl_context(), timeout=10,
                          headers={"Authorization": f"Bearer {config.token}", "Upgrade": "SPDY/3.1",
                                   "X-Stream-Protocol-Version": "portforward.k8s.io"})
    for status_code, body in [(refused.value.response.status_code, refused.value.response.body),
                              (fallback.status_code, fallback.content)]:
        assert status_code == 404
        status = json.loads(body)
        assert (status["kind"], status["reason"], status["code"], status["message"]) == \
            ("Status", "NotFound", 404, 'pods "no-such-pod" not found')
