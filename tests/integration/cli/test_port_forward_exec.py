"""`orc port-forward` and `orc exec` against a real one-machine cluster (`orc up`: etcd, apiserver,
kubelet, real Docker), through the apiserver's pods/portforward WebSocket and pods/exec relays;
`kubectl exec` (remote-command WebSocket v5) side by side with `orc exec`.

Traffic goes only to 127.0.0.1 (the forwarded ports) and, from the kubelet, to this test's pods.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.cluster.ports import free_port
from tests.e2e.helpers import http_get, wait_for
from tests.support import requires_docker

pytestmark = requires_docker
REPOSITORY = Path(__file__).resolve().parents[3]
ORC = [sys.executable, "-m", "cli.main"]


@pytest.fixture(scope="module")
def cluster_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """An `orc up` cluster, as tests/e2e/conftest.py starts one; yields the environment orc needs."""
    data_dir = tmp_path_factory.mktemp("orc-up-forward")
    log = open(data_dir / "up.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen([*ORC, "up", "--data-dir", str(data_dir), "--port", str(free_port())], stdout=log,
                               stderr=subprocess.STDOUT, cwd=REPOSITORY, start_new_session=True)
    kubeconfig = data_dir / "kubeconfig"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "ORC_CACHE_DIR": str(data_dir / "cache")}
    try:
        def nodes_ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError((data_dir / "up.log").read_text())
            if not kubeconfig.exists():
                return False
            result = subprocess.run(["kubectl", "get", "nodes", "-o", "json"], capture_output=True, text=True,
                                    env=env)
            nodes = json.loads(result.stdout or "{}").get("items", []) if result.returncode == 0 else []
            return bool(nodes) and all(c["status"] == "True" for n in nodes for c in n["status"]["conditions"]
                                       if c["type"] == "Ready")

        wait_for(nodes_ready, timeout=90, message="the cluster's node Ready")
        yield env
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run([*ORC, "down", "--data-dir", str(data_dir)], cwd=REPOSITORY, capture_output=True)
        log.close()


@pytest.fixture(scope="module")
def orc(cluster_env) -> Callable[..., subprocess.CompletedProcess]:
    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*ORC, *args], capture_output=True, text=True, env=cluster_env, cwd=REPOSITORY,
                              timeout=timeout)

    return run


@pytest.fixture(scope="module")
def echo_pod(orc, cluster_env) -> str:
    """A Running echo:v1 pod `forward-echo` (HTTP on 8080) behind Service `forward-echo` (port 80 -> http)."""
    manifest = """
apiVersion: v1
kind: Pod
metadata: {name: forward-echo, labels: {app: forward-echo}}
spec:
  containers:
  - name: echo
    image: echo:v1
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: forward-echo}
spec:
  selector: {app: forward-echo}
  ports: [{name: web, port: 80, targetPort: http}]
"""
    created = subprocess.run([*ORC, "apply", "-f", "-"], input=manifest, capture_output=True, text=True,
                             env=cluster_env, cwd=REPOSITORY)
    assert created.returncode == 0, created.stderr

    def running() -> bool:
        pod = json.loads(orc("get", "pod", "forward-echo", "-o", "json").stdout or "{}")
        return (pod.get("status") or {}).get("phase") == "Running"

    wait_for(running, timeout=90, message="forward-echo Running")
    return "forward-echo"


def start_forward(cluster_env: dict[str, str], *args: str) -> tuple[subprocess.Popen, str]:
    """Start `orc port-forward ARGS` and return it with its first `Forwarding from` line."""
    process = subprocess.Popen([*ORC, "port-forward", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=cluster_env, cwd=REPOSITORY)
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        raise AssertionError(f"orc port-forward {' '.join(args)} failed: {process.stderr.read()}")
    return process, line.strip()


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


@pytest.mark.parametrize("target, remote", [
    pytest.param("pod/forward-echo", "8080", id="pod"),
    pytest.param("forward-echo", "http", id="bare-pod-name-named-port"),
    pytest.param("svc/forward-echo", "80", id="service-port-to-named-target-port"),
])
def test_port_forward_reaches_the_pod(cluster_env, echo_pod, target, remote):
    local_port = free_port()
    process, first_line = start_forward(cluster_env, target, f"{local_port}:{remote}")
    try:
        assert first_line == f"Forwarding from 127.0.0.1:{local_port} -> 8080"
        answers = [json.loads(wait_for(lambda: http_get(f"http://127.0.0.1:{local_port}/"), timeout=30,
                                       message="an answer through the forward")) for _ in range(3)]
        assert {answer["host"] for answer in answers} == {echo_pod}
    finally:
        assert stop(process) == 0


def test_port_forward_refuses_an_unknown_service_port(orc, echo_pod):
    result = orc("port-forward", "svc/forward-echo", "9999")
    assert result.returncode == 1
    assert result.stderr == "error: Service forward-echo does not have a service port 9999\n"


# kubectl's own log line when the server's "stream ready" frame beats its stream set-up (a client-side race
# that kube-apiserver's translator provokes the same way): harmless, and not part of the command's output.
KUBECTL_STREAM_RACE = re.compile(r"^E\d{4} [^\n]*\] Unknown stream id \d+, discarding message\n", re.MULTILINE)
EXEC_TIMEOUT_SECONDS = 60


def exec_with(tool: str, cluster_env: dict[str, str], *args: str, input: str = "") -> tuple[int, str, str]:
    """`kubectl exec ARGS` or `orc exec ARGS`: (exit code, stdout, stderr). Stdin is always a pipe given
    here (empty by default), never the test runner's own: CI's stdin is whatever its harness left open.

    A command still running at the timeout is made to print where it waits (Python's faulthandler on
    SIGABRT, Go's goroutine dump on SIGQUIT) and the test fails with that. A kubelet that a loaded
    machine left undialled (503 `error dialing backend`) gets one more try, as a user would retry."""
    argv = ["kubectl"] if tool == "kubectl" else [sys.executable, "-X", "faulthandler", *ORC[1:]]
    for attempt in (1, 2):
        process = subprocess.Popen([*argv, "exec", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=cluster_env, cwd=REPOSITORY)
        try:
            stdout, stderr = process.communicate(input, timeout=EXEC_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGQUIT if tool == "kubectl" else signal.SIGABRT)
            try:
                stdout, stderr = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            raise AssertionError(f"{tool} exec {' '.join(args)} still ran after {EXEC_TIMEOUT_SECONDS}s; it was "
                                 f"waiting here:\n{stderr[-6000:]}") from None
        if attempt == 1 and process.returncode == 1 and "error dialing backend" in stderr:
            continue
        return process.returncode, stdout, KUBECTL_STREAM_RACE.sub("", stderr)
    raise AssertionError("unreachable")


TOOLS = [pytest.param("kubectl", id="kubectl"), pytest.param("orc", id="orc")]


@pytest.mark.parametrize("tool", TOOLS)
def test_exec_prints_the_output(cluster_env, echo_pod, tool):
    assert exec_with(tool, cluster_env, echo_pod, "--", "echo", "hi") == (0, "hi\n", "")


@pytest.mark.parametrize("tool", TOOLS)
def test_exec_exits_with_the_commands_code(cluster_env, echo_pod, tool):
    code, stdout, stderr = exec_with(tool, cluster_env, echo_pod, "-c", "echo", "--", "sh", "-c",
                                     "echo out; echo err >&2; exit 3")
    assert (code, stdout, stderr) == (3, "out\n", "err\ncommand terminated with exit code 3\n")


@pytest.mark.parametrize("tool", TOOLS)
def test_exec_passes_stdin_to_the_end(cluster_env, echo_pod, tool):
    """`-i` streams stdin; its end reaches the command (v5's close of the stdin channel), so `cat` ends."""
    assert exec_with(tool, cluster_env, "-i", echo_pod, "--", "cat", input="hello\n") == (0, "hello\n", "")


@pytest.mark.parametrize("args", [
    pytest.param(("-c", "nope", "--", "true"), id="unknown-container"),
    pytest.param(("--", "no-such-command"), id="missing-executable"),
    pytest.param(("-it", "--", "sh", "-c", "echo no tty"), id="tty-without-a-terminal"),
])
def test_orc_exec_reads_like_kubectl(cluster_env, echo_pod, args):
    theirs = exec_with("kubectl", cluster_env, echo_pod, *args)
    assert exec_with("orc", cluster_env, echo_pod, *args) == theirs
    assert theirs[0] != 0 or "Unable to use a TTY" in theirs[2]


def in_terminal(argv: list[str], env: dict[str, str], *, rows: int, columns: int) -> tuple[int, bytes]:
    """Run `argv` on a new pseudo-terminal of `rows` x `columns`; its exit code and all it printed."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    pid, terminal = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(REPOSITORY)
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the command ended: the terminal is gone
            break
        if not chunk:
            break
        output += chunk
    else:  # the deadline passed with the command still running: have it say where it waits, then end it
        os.kill(pid, signal.SIGQUIT if argv[0] == "kubectl" else signal.SIGABRT)
        while select.select([terminal], [], [], 5)[0]:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.close(terminal)
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), output


@pytest.mark.parametrize("tool", TOOLS)
def test_exec_with_a_terminal(cluster_env, echo_pod, tool):
    """-it on a terminal: the remote command gets a TTY of the local terminal's size (the first resize frame).

    The TTY starts at 0x0 and the size follows a moment later (Docker before API 1.42 cannot be given one
    at the start), so the command waits for it as a shell started by hand would never notice."""
    argv = ["kubectl"] if tool == "kubectl" else [sys.executable, "-X", "faulthandler", *ORC[1:]]
    # busybox's `stty size` succeeds on a 0x0 terminal with an error message: wait for digits instead.
    script = 'while :; do case "$(stty size 2>&1)" in [1-9]*) break;; esac; sleep 0.1; done; stty size; tty; exit 4'
    code, output = in_terminal([*argv, "exec", "-it", echo_pod, "--", "sh", "-c", script], cluster_env, rows=30,
                               columns=100)
    assert code == 4, output.decode(errors="replace")[-6000:]
    assert output.decode().replace("\r\n", "\n").splitlines() == [
        "30 100", "/dev/pts/0", "command terminated with exit code 4"]


def test_port_forward_websocket_needs_the_token(cluster_env, echo_pod):
    """The WebSocket route is authenticated like every other route: a wrong token is refused at the handshake."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from orchestrator.client.config import load_client_config

    config = load_client_config(kubeconfig=cluster_env["KUBECONFIG"], server=None, context=None, token=None)
    url = config.server.replace("https://", "wss://") + f"/api/v1/namespaces/default/pods/{echo_pod}/portforward" \
        "?ports=8080"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, ssl=config.ssl_context(), additional_headers={"Authorization": "Bearer wrong"}, open_timeout=10)
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("args", [
    pytest.param(("exec", "no-such-pod", "--", "sh"), id="exec"),
    pytest.param(("port-forward", "pod/no-such-pod", "8080"), id="port-forward"),
])
def test_a_missing_pod_reads_like_kubectl(orc, cluster_env, args):
    ours = orc(*args)
    theirs = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=cluster_env, timeout=60)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)
