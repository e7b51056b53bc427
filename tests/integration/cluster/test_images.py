"""Integration tests of orchestrator/cluster/images.py: the local images, built on the real Docker engine.

Containers started here carry a label with this run's id and are removed afterwards;
HTTP goes only to the containers these tests started.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.models.containers
import httpx
import pytest

from orchestrator.cluster import images
from orchestrator.cluster.images import (
    LABEL_CONTENT_DIGEST,
    LABEL_LOCAL_IMAGE,
    PAUSE_IMAGE,
    ImageRecipe,
    ensure_images,
    known_images,
)
from tests.support import requires_docker

pytestmark = requires_docker

TEST_LABEL = "orc.test.images"
RUN_ID = uuid.uuid4().hex[:12]
WAIT_STEPS = 400
WAIT_STEP_SECONDS = 0.05


@pytest.fixture(scope="module")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    ensure_images(docker_client=client)
    yield client
    for container in client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
        container.remove(force=True)
    client.close()


def run_container(
    client: docker.DockerClient, image: str, command: list[str] | None = None
) -> docker.models.containers.Container:
    return client.containers.run(image, command, detach=True, labels={TEST_LABEL: RUN_ID})


def wait_for_exit(container: docker.models.containers.Container) -> int:
    return container.wait(timeout=60)["StatusCode"]


def http_get(url: str) -> httpx.Response:
    # trust_env=False: a proxy from the environment must never see container traffic.
    with httpx.Client(trust_env=False, timeout=5) as client:
        for _ in range(WAIT_STEPS):
            try:
                return client.get(url)
            except httpx.TransportError:
                time.sleep(WAIT_STEP_SECONDS)
    raise AssertionError(f"nothing answered at {url}")


def container_ip(container: docker.models.containers.Container) -> str:
    container.reload()
    return container.attrs["NetworkSettings"]["IPAddress"]


def test_every_image_is_present_and_labelled(docker_client: docker.DockerClient) -> None:
    for tag in known_images():
        labels = docker_client.images.get(tag).labels
        assert labels[LABEL_LOCAL_IMAGE] == "true" and labels[LABEL_CONTENT_DIGEST], tag
    assert docker_client.images.get("busybox:1.36").id == docker_client.images.get("busybox:latest").id


def test_ensure_skips_images_already_built(docker_client: docker.DockerClient) -> None:
    ids_before = {tag: docker_client.images.get(tag).id for tag in known_images()}
    ensure_images(docker_client=docker_client)
    assert {tag: docker_client.images.get(tag).id for tag in known_images()} == ids_before


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(["busybox"], id="bare-name"),
        pytest.param(["docker.io/library/busybox:1.36", "echo:v2"], id="qualified-names"),
        pytest.param([PAUSE_IMAGE], id="pause"),
    ],
)
def test_ensure_accepts_any_spelling_of_a_known_image(docker_client: docker.DockerClient, names: list[str]) -> None:
    ensure_images(names, docker_client=docker_client)


def test_ensure_refuses_an_unknown_image(docker_client: docker.DockerClient) -> None:
    with pytest.raises(ValueError, match="nginx"):
        ensure_images(["nginx:1.25"], docker_client=docker_client)


@pytest.mark.parametrize(
    ("command", "expected_output"),
    [
        pytest.param(["echo", "hello"], b"hello\n", id="echo"),
        pytest.param(["sh", "-c", "which wget nc ping httpd hostname sleep cat ls env"], None, id="applets-on-path"),
        pytest.param(["/usr/bin/env", "sh", "-c", "echo via env"], b"via env\n", id="usr-bin-env"),
        pytest.param(["sh", "-c", "touch /tmp/x && whoami"], b"root\n", id="tmp-and-passwd"),
    ],
)
def test_busybox_runs_commands(
    docker_client: docker.DockerClient, command: list[str], expected_output: bytes | None
) -> None:
    container = run_container(docker_client, "busybox:1.36", command)
    assert wait_for_exit(container) == 0
    if expected_output is not None:
        assert container.logs() == expected_output


def test_busybox_default_command_is_a_shell(docker_client: docker.DockerClient) -> None:
    assert docker_client.images.get("busybox:latest").attrs["Config"]["Cmd"] == ["sh"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_echo_answers_with_hostname_and_version(docker_client: docker.DockerClient, version: str) -> None:
    container = docker_client.containers.run(
        f"echo:{version}", detach=True, hostname=f"echo-{version}", labels={TEST_LABEL: RUN_ID}
    )
    address = container_ip(container)
    root = http_get(f"http://{address}:8080/")
    assert root.status_code == 200
    assert root.headers["content-type"] == "application/json"
    assert root.json() == {"host": f"echo-{version}", "version": version}
    health = http_get(f"http://{address}:8080/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    assert http_get(f"http://{address}:8080/missing").status_code == 404


def test_pause_exits_cleanly_on_sigterm(docker_client: docker.DockerClient) -> None:
    container = run_container(docker_client, PAUSE_IMAGE)
    container.stop(timeout=30)  # 0, not 137: SIGTERM ended it, SIGKILL was not needed
    assert wait_for_exit(container) == 0


@pytest.fixture
def scratch_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_client: docker.DockerClient
) -> Iterator[Path]:
    """A throwaway recipe folder and tag, so rebuilding never touches the shared images."""
    tag = f"orc-test-recipe:{RUN_ID}"
    recipe_dir = tmp_path / "scratch"
    shutil.copytree(images.IMAGES_DIR / "busybox", recipe_dir)
    # Content of its own, or the build would be busybox:latest itself, from the build cache.
    (recipe_dir / "extra.txt").write_text(f"{RUN_ID}\n")
    monkeypatch.setattr(images, "IMAGES_DIR", tmp_path)
    monkeypatch.setattr(images, "RECIPES", (ImageRecipe(folder="scratch", tags=(tag,)),))
    yield recipe_dir
    try:
        docker_client.images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass


def test_changed_recipe_is_rebuilt(scratch_recipe: Path, docker_client: docker.DockerClient) -> None:
    tag = f"orc-test-recipe:{RUN_ID}"
    ensure_images([tag], docker_client=docker_client)
    first_id = docker_client.images.get(tag).id
    ensure_images([tag], docker_client=docker_client)
    assert docker_client.images.get(tag).id == first_id

    (scratch_recipe / "extra.txt").write_text("changed\n")
    ensure_images([tag], docker_client=docker_client)
    assert docker_client.images.get(tag).id != first_id
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(first_id)  # the replaced image was removed, not left dangling
