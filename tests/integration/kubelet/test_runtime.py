"""Integration tests of orchestrator/kubelet/runtime.py against the real Docker engine.

Every test runs under a cluster name of its own (a uuid), so parallel runs never meet,
and removes whatever carries that cluster label afterwards. Traffic goes only to
127.0.0.1 and to containers these tests started.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import docker
import httpx
import pytest

from orchestrator.cluster.images import PAUSE_IMAGE, ensure_images
from orchestrator.cluster.ports import free_port
from orchestrator.kubelet.runtime import (
    LABEL_CLUSTER,
    ROLE_INIT,
    ROLE_SANDBOX,
    ContainerInfo,
    ContainerNotFound,
    DockerRuntime,
    DockerRuntimeError,
    ExecTimeout,
    ImageNotPresent,
    ImagePullError,
    StartContainerError,
)
from tests.support import requires_docker

pytestmark = requires_docker

NODE = "node-1"
# A bounded wait, never a timing assertion: enough for a slow CI machine.
WAIT_STEPS = 400
WAIT_STEP_SECONDS = 0.05


@pytest.fixture(scope="module")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="module")
def local_images(docker_client: docker.DockerClient) -> None:
    ensure_images(["busybox:latest", "echo:v1", PAUSE_IMAGE], docker_client=docker_client)


@pytest.fixture(scope="module")
def entrypoint_image(docker_client: docker.DockerClient, local_images: None) -> Iterator[str]:
    """An image with both ENTRYPOINT and CMD, to tell Kubernetes' command/args semantics apart."""
    tag = f"orc-test-entrypoint:{uuid.uuid4().hex[:12]}"
    dockerfile = 'FROM busybox:latest\nENTRYPOINT ["echo", "entry"]\nCMD ["cmd"]\n'
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


def remove_cluster(docker_client: docker.DockerClient, cluster: str) -> None:
    """Remove every container and network of the test's cluster, and nothing else."""
    for container in docker_client.containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={cluster}"}):
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    for network in docker_client.networks.list(filters={"label": f"{LABEL_CLUSTER}={cluster}"}):
        network.remove()


@pytest.fixture
def cluster(docker_client: docker.DockerClient) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    remove_cluster(docker_client, name)


@pytest.fixture
async def runtime(cluster: str, local_images: None) -> AsyncIterator[DockerRuntime]:
    docker_runtime = DockerRuntime(cluster=cluster, node=NODE)
    yield docker_runtime
    await docker_runtime.close()


@pytest.fixture
async def network(runtime: DockerRuntime, cluster: str) -> str:
    name = f"orc-{cluster}"
    await runtime.ensure_network(name)
    return name


async def new_sandbox(runtime: DockerRuntime, network: str, *, pod_name: str = "web", **options: Any) -> ContainerInfo:
    return await runtime.create_sandbox(
        pod_namespace="default",
        pod_name=pod_name,
        pod_uid=str(uuid.uuid4()),
        hostname=pod_name,
        image=PAUSE_IMAGE,
        network=network,
        **options,
    )


async def new_container(
    runtime: DockerRuntime,
    sandbox: ContainerInfo,
    *,
    name: str = "main",
    image: str = "busybox:latest",
    start: bool = True,
    **options: Any,
) -> ContainerInfo:
    container = await runtime.create_container(
        sandbox_id=sandbox.id,
        pod_namespace=sandbox.pod_namespace,
        pod_name=sandbox.pod_name,
        pod_uid=sandbox.pod_uid,
        container_name=name,
        image=image,
        **options,
    )
    if start:
        await runtime.start_container(container.id)
    return container


async def wait_until_exited(runtime: DockerRuntime, container_id: str) -> ContainerInfo:
    for _ in range(WAIT_STEPS):
        info = await runtime.inspect(container_id)
        if info.state == "exited":
            return info
        await asyncio.sleep(WAIT_STEP_SECONDS)
    raise AssertionError(f"container {container_id} did not exit")


async def read_logs(runtime: DockerRuntime, container_id: str, **options: Any) -> bytes:
    return b"".join([chunk async for chunk in runtime.logs(container_id, **options)])


async def http_get(url: str) -> httpx.Response:
    """GET with retries while the server in a just-started container comes up."""
    # trust_env=False: a proxy from the environment must never see pod traffic.
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        for _ in range(WAIT_STEPS):
            try:
                return await client.get(url)
            except httpx.TransportError:
                await asyncio.sleep(WAIT_STEP_SECONDS)
    raise AssertionError(f"nothing answered at {url}")


async def test_engine_answers(runtime: DockerRuntime) -> None:
    assert await runtime.ping()
    info = await runtime.info()
    assert info["NCPU"] >= 1 and info["MemTotal"] > 0 and info["Architecture"]


async def test_sandbox_holds_the_pod_ip_and_serves_its_containers(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network, pod_name="echo-pod")
    assert sandbox.role == ROLE_SANDBOX and sandbox.running and sandbox.ip
    assert await runtime.sandbox_ip(sandbox.id) == sandbox.ip
    await new_container(runtime, sandbox, name="echo", image="echo:v1")
    client_container = await new_container(runtime, sandbox, name="client", command=["sleep", "3600"])

    from_outside = await http_get(f"http://{sandbox.ip}:8080/")
    assert from_outside.status_code == 200
    assert from_outside.headers["content-type"] == "application/json"
    assert from_outside.json() == {"host": "echo-pod", "version": "v1"}
    assert (await http_get(f"http://{sandbox.ip}:8080/healthz")).text == "ok"

    exit_code, output = await runtime.exec(client_container.id, ["wget", "-qO-", "http://localhost:8080/"])
    assert exit_code == 0
    assert json.loads(output) == {"host": "echo-pod", "version": "v1"}


async def test_host_port_is_published_by_the_sandbox(runtime: DockerRuntime, network: str) -> None:
    host_port = free_port()
    sandbox = await new_sandbox(runtime, network, port_bindings={"8080/tcp": ("127.0.0.1", host_port)})
    await new_container(runtime, sandbox, name="echo", image="echo:v1")
    response = await http_get(f"http://127.0.0.1:{host_port}/healthz")
    assert response.status_code == 200 and response.text == "ok"


async def test_taken_host_port_fails_the_sandbox_and_leaves_nothing(runtime: DockerRuntime, network: str) -> None:
    host_port = free_port()
    await new_sandbox(runtime, network, pod_name="first", port_bindings={"8080/tcp": ("127.0.0.1", host_port)})
    with pytest.raises(StartContainerError, match="allocated|in use"):
        await new_sandbox(runtime, network, pod_name="second", port_bindings={"8080/tcp": ("127.0.0.1", host_port)})
    assert [info.pod_name for info in await runtime.list_containers()] == ["first"]


async def test_listing_sees_only_this_cluster_and_node(
    runtime: DockerRuntime, network: str, docker_client: docker.DockerClient
) -> None:
    other_cluster = f"test-{uuid.uuid4().hex[:10]}"
    other_cluster_runtime = DockerRuntime(cluster=other_cluster, node=NODE)
    other_node_runtime = DockerRuntime(cluster=runtime.cluster, node="node-2")
    try:
        ours = await new_sandbox(runtime, network)
        theirs = await other_cluster_runtime.create_sandbox(
            pod_namespace="default",
            pod_name="web",
            pod_uid=ours.pod_uid,  # even the same pod uid must not leak across clusters
            hostname="web",
            image=PAUSE_IMAGE,
            network=network,
        )
        other_node = await new_sandbox(other_node_runtime, network, pod_name="elsewhere")

        assert [info.id for info in await runtime.list_containers()] == [ours.id]
        assert [info.id for info in await other_cluster_runtime.list_containers()] == [theirs.id]
        assert [info.id for info in await other_node_runtime.list_containers()] == [other_node.id]

        await runtime.remove_pod_containers(ours.pod_uid)
        assert await runtime.list_containers() == []
        assert (await other_cluster_runtime.inspect(theirs.id)).running
    finally:
        await other_cluster_runtime.close()
        await other_node_runtime.close()
        remove_cluster(docker_client, other_cluster)


async def test_labels_and_name_describe_the_container(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network, labels={"app": "web"})
    init = await new_container(
        runtime, sandbox, name="setup", role=ROLE_INIT, restart_count=2, spec_hash="abc123", start=False
    )
    assert init.role == ROLE_INIT and init.restart_count == 2 and init.spec_hash == "abc123"
    assert init.sandbox_id == sandbox.id and init.state == "created"
    assert init.name == f"orc_{runtime.cluster}_{NODE}_default_web_setup_{sandbox.pod_uid[:8]}_2"
    assert sandbox.labels["app"] == "web" and sandbox.container_name == "POD"
    listed = {info.id: info for info in await runtime.list_containers(pod_uid=sandbox.pod_uid)}
    assert listed.keys() == {sandbox.id, init.id}
    assert listed[init.id].container_name == "setup"


async def test_create_replaces_a_leftover_with_the_same_name(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    first = await new_container(runtime, sandbox, command=["sleep", "3600"])
    second = await new_container(runtime, sandbox, command=["sleep", "3600"])
    assert first.name == second.name and first.id != second.id
    with pytest.raises(ContainerNotFound):
        await runtime.inspect(first.id)


@pytest.mark.parametrize(
    ("command", "args", "expected_output"),
    [
        pytest.param(None, None, b"entry cmd\n", id="image-entrypoint-and-cmd"),
        pytest.param(["echo", "override"], None, b"override\n", id="command-drops-image-cmd"),
        pytest.param(None, ["argument"], b"entry argument\n", id="args-replace-only-cmd"),
        pytest.param(["echo", "command"], ["and", "args"], b"command and args\n", id="command-and-args"),
        pytest.param([], [], b"entry cmd\n", id="empty-lists-mean-unset"),
    ],
)
async def test_command_and_args_follow_kubernetes(
    runtime: DockerRuntime,
    network: str,
    entrypoint_image: str,
    command: list[str] | None,
    args: list[str] | None,
    expected_output: bytes,
) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(runtime, sandbox, image=entrypoint_image, command=command, args=args)
    finished = await wait_until_exited(runtime, container.id)
    assert finished.exit_code == 0
    assert await read_logs(runtime, container.id) == expected_output


async def test_env_working_dir_and_mounts(runtime: DockerRuntime, network: str, tmp_path: Any) -> None:
    (tmp_path / "config.txt").write_text("from the host\n")
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(
        runtime,
        sandbox,
        command=[
            "sh",
            "-c",
            'echo "$GREETING"; pwd; cat /config/config.txt; touch /config/new 2>/dev/null || echo read-only',
        ],
        env={"GREETING": "hello pod"},
        working_dir="/tmp",
        mounts=[{"source": str(tmp_path), "target": "/config", "read_only": True}],
        memory_limit_bytes=64 * 1024 * 1024,
        cpu_limit_millis=250,
    )
    await wait_until_exited(runtime, container.id)
    lines = (await read_logs(runtime, container.id)).decode().splitlines()
    assert lines[:3] == ["hello pod", "/tmp", "from the host"]
    assert lines[-1] == "read-only"


async def test_logs_tail_and_timestamps(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(runtime, sandbox, command=["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done"])
    await wait_until_exited(runtime, container.id)
    assert await read_logs(runtime, container.id) == b"".join(b"line %d\n" % i for i in range(1, 6))
    assert await read_logs(runtime, container.id, tail=2) == b"line 4\nline 5\n"
    assert await read_logs(runtime, container.id, tail=0) == b""
    stamped = (await read_logs(runtime, container.id, tail=1, timestamps=True)).decode()
    timestamp, text = stamped.split(" ", 1)
    assert timestamp[:2] == "20" and timestamp.endswith("Z") and text == "line 5\n"


async def test_following_logs_streams_until_the_consumer_stops(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(
        runtime, sandbox, command=["sh", "-c", "echo first; while :; do sleep 1; echo tick; done"]
    )
    stream = runtime.logs(container.id, follow=True)
    assert await anext(stream) == b"first\n"
    assert await anext(stream) == b"tick\n"
    await stream.aclose()


async def test_exec_returns_exit_code_and_output(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(runtime, sandbox, command=["sleep", "3600"])
    exit_code, output = await runtime.exec(container.id, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    # stdout and stderr travel apart inside the engine, so their relative order is not kept.
    assert exit_code == 3 and sorted(output.splitlines()) == [b"err", b"out"]
    with pytest.raises(ExecTimeout):
        await runtime.exec(container.id, ["sleep", "30"], timeout_seconds=0.5)


@pytest.mark.parametrize(
    ("script", "timeout_seconds", "expected_exit_code"),
    [
        # `sleep & wait`: the shell runs its trap at once instead of after the sleep.
        pytest.param('trap "exit 0" TERM; while :; do sleep 1 & wait; done', 30, 0, id="handles-sigterm"),
        pytest.param('trap "" TERM; while :; do sleep 1; done', 1, 137, id="ignores-sigterm-gets-sigkill"),
    ],
)
async def test_stop_sends_sigterm_then_sigkill(
    runtime: DockerRuntime, network: str, script: str, timeout_seconds: int, expected_exit_code: int
) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(runtime, sandbox, command=["sh", "-c", script])
    await runtime.stop_container(container.id, timeout_seconds=timeout_seconds)
    stopped = await runtime.inspect(container.id)
    assert stopped.state == "exited" and stopped.exit_code == expected_exit_code
    assert stopped.finished_at is not None and stopped.started_at is not None
    await runtime.stop_container(container.id, timeout_seconds=1)  # stopping again is fine


async def test_sandbox_stops_on_sigterm(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    await runtime.stop_container(sandbox.id, timeout_seconds=30)
    assert (await runtime.inspect(sandbox.id)).exit_code == 0


async def test_missing_executable_is_a_start_error(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    with pytest.raises(StartContainerError, match="no-such-binary"):
        await new_container(runtime, sandbox, command=["no-such-binary"])


async def test_remove_is_idempotent(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    await runtime.remove_container(sandbox.id)
    await runtime.remove_container(sandbox.id)
    with pytest.raises(ContainerNotFound):
        await runtime.inspect(sandbox.id)


async def test_events_report_a_container_dying(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    events = runtime.events()
    first_event = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.2)  # let the event stream subscribe before anything happens
    container = await new_container(runtime, sandbox, name="short", command=["sh", "-c", "exit 7"])
    seen = [await first_event]
    while not (seen[-1]["action"] == "die" and seen[-1]["container_id"] == container.id):
        seen.append(await asyncio.wait_for(anext(events), timeout=30))
    await events.aclose()
    assert seen[-1]["exit_code"] == 7
    assert seen[-1]["pod_uid"] == sandbox.pod_uid and seen[-1]["container_name"] == "short"


@pytest.mark.parametrize(
    ("image", "present"),
    [
        pytest.param("busybox", True, id="bare-name-means-latest"),
        pytest.param("docker.io/library/busybox:latest", True, id="fully-qualified"),
        pytest.param(PAUSE_IMAGE, True, id="other-registry"),
        pytest.param(f"orc-never-built-{uuid.uuid4().hex[:8]}:v1", False, id="missing"),
    ],
)
async def test_image_present(runtime: DockerRuntime, image: str, present: bool) -> None:
    assert await runtime.image_present(image) is present


async def test_image_id_of_present_and_missing_images(runtime: DockerRuntime) -> None:
    assert (await runtime.image_id("busybox")).startswith("sha256:")
    with pytest.raises(ImageNotPresent):
        await runtime.image_id("orc-never-built:v1")


async def test_pull_without_registry_raises_image_pull_error(runtime: DockerRuntime) -> None:
    with pytest.raises(ImagePullError):
        await runtime.pull(f"orc-never-built-{uuid.uuid4().hex[:8]}:v1")


async def test_create_from_missing_image_is_image_not_present(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    with pytest.raises(ImageNotPresent):
        await new_container(runtime, sandbox, image="orc-never-built:v1")


async def test_network_is_ensured_once_and_removed(runtime: DockerRuntime, docker_client: docker.DockerClient) -> None:
    name = f"orc-{runtime.cluster}-extra"
    subnet = f"10.231.{uuid.uuid4().int % 256}.0/24"  # varied, so parallel runs rarely ask for the same pool
    await runtime.ensure_network(name, subnet=subnet)
    await runtime.ensure_network(name, subnet=subnet)
    assert [network.name for network in docker_client.networks.list(names=[name]) if network.name == name] == [name]
    await runtime.remove_network(name)
    await runtime.remove_network(name)
    assert [network for network in docker_client.networks.list(names=[name]) if network.name == name] == []


async def test_listing_follows_state_changes(runtime: DockerRuntime, network: str) -> None:
    sandbox = await new_sandbox(runtime, network)
    container = await new_container(runtime, sandbox, command=["sh", "-c", 'trap "exit 4" TERM; sleep 3600 & wait'])
    listed = {info.id: info for info in await runtime.list_containers()}
    assert listed[container.id].running and listed[container.id].exit_code is None
    await runtime.stop_container(container.id, timeout_seconds=30)
    listed = {info.id: info for info in await runtime.list_containers()}
    assert listed[container.id].state == "exited" and listed[container.id].exit_code == 4
    running_only = await runtime.list_containers(all=False)
    assert [info.id for info in running_only] == [sandbox.id]


async def test_unreachable_engine_is_a_runtime_error(cluster: str) -> None:
    client = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    unreachable = DockerRuntime(cluster=cluster, node=NODE, docker_client=client)
    with pytest.raises(DockerRuntimeError):
        await unreachable.ping()
    with pytest.raises(DockerRuntimeError):
        await unreachable.list_containers()
    client.close()
