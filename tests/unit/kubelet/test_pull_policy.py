"""Unit tests of orchestrator/kubelet/images.py: image references, pull policy, pull back-off.

(Named test_pull_policy.py, not test_images.py, because tests/integration/cluster/test_images.py
exists and the test folders are not packages: pytest needs unique basenames.)
"""

from __future__ import annotations

import pytest

from orchestrator.kubelet.images import (
    ImageBackoff,
    default_pull_policy,
    normalize_image,
    parse_image,
    should_pull,
)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param("busybox", "busybox:latest", id="bare-name"),
        pytest.param("busybox:1.36", "busybox:1.36", id="tagged"),
        pytest.param("docker.io/library/busybox", "busybox:latest", id="docker-io-library"),
        pytest.param("docker.io/library/busybox:1.36", "busybox:1.36", id="docker-io-library-tagged"),
        pytest.param("index.docker.io/library/busybox", "busybox:latest", id="legacy-index"),
        pytest.param("library/busybox", "busybox:latest", id="library-prefix"),
        pytest.param("bitnami/nginx", "bitnami/nginx:latest", id="docker-hub-user"),
        pytest.param("docker.io/bitnami/nginx:1.25", "bitnami/nginx:1.25", id="docker-hub-user-explicit"),
        pytest.param("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", id="other-registry"),
        pytest.param("localhost:5000/app", "localhost:5000/app:latest", id="registry-port-not-a-tag"),
        pytest.param("localhost/app:v1", "localhost/app:v1", id="localhost-registry"),
        pytest.param("busybox@sha256:abcd", "busybox@sha256:abcd", id="digest-gets-no-tag"),
        pytest.param("busybox:1.36@sha256:abcd", "busybox:1.36@sha256:abcd", id="tag-and-digest"),
    ],
)
def test_normalize_image(image: str, expected: str) -> None:
    assert normalize_image(image) == expected


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("", id="empty"),
        pytest.param("busybox:", id="empty-tag"),
        pytest.param("busybox@", id="empty-digest"),
        pytest.param("registry.example/", id="empty-path"),
    ],
)
def test_parse_image_refuses_malformed_references(image: str) -> None:
    with pytest.raises(ValueError):
        parse_image(image)


def test_repository_drops_tag_and_digest() -> None:
    assert parse_image("docker.io/library/busybox:1.36").repository == "busybox"
    assert parse_image("localhost:5000/team/app@sha256:ab").repository == "localhost:5000/team/app"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param("busybox", "Always", id="no-tag"),
        pytest.param("busybox:latest", "Always", id="latest"),
        pytest.param("busybox:1.36", "IfNotPresent", id="pinned-tag"),
        pytest.param("busybox@sha256:abcd", "IfNotPresent", id="digest"),
        pytest.param("localhost:5000/app", "Always", id="registry-port-no-tag"),
    ],
)
def test_default_pull_policy(image: str, expected: str) -> None:
    assert default_pull_policy(image) == expected


@pytest.mark.parametrize(
    ("policy", "image", "present", "expected"),
    [
        pytest.param("Always", "busybox:1.36", True, True, id="always-pulls-even-when-present"),
        pytest.param("IfNotPresent", "busybox:latest", True, False, id="if-not-present-and-present"),
        pytest.param("IfNotPresent", "busybox:latest", False, True, id="if-not-present-and-missing"),
        pytest.param("Never", "busybox:1.36", False, False, id="never-even-when-missing"),
        pytest.param(None, "busybox", True, True, id="default-for-latest-is-always"),
        pytest.param("", "busybox:1.36", True, False, id="default-for-tag-is-if-not-present"),
        pytest.param(None, "busybox:1.36", False, True, id="default-for-tag-pulls-missing"),
    ],
)
def test_should_pull(policy: str | None, image: str, present: bool, expected: bool) -> None:
    assert should_pull(policy, image, present) is expected


def test_should_pull_refuses_unknown_policy() -> None:
    with pytest.raises(ValueError, match="Sometimes"):
        should_pull("Sometimes", "busybox", True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_backoff(clock: FakeClock) -> ImageBackoff:
    return ImageBackoff(initial_seconds=10, max_seconds=300, clock=clock)


def test_backoff_doubles_up_to_the_maximum() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    delays = []
    for _ in range(8):
        delays.append(backoff.record_failure("uid_busybox"))
        clock.advance(delays[-1])
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]


def test_backoff_window_after_a_failure() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    assert not backoff.in_backoff("uid_busybox")
    backoff.record_failure("uid_busybox")
    assert backoff.in_backoff("uid_busybox")
    assert backoff.remaining_seconds("uid_busybox") == 10
    clock.advance(9.5)
    assert backoff.in_backoff("uid_busybox")
    clock.advance(0.5)
    assert not backoff.in_backoff("uid_busybox")


def test_backoff_keys_are_independent() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    backoff.record_failure("pod-a_busybox")
    assert not backoff.in_backoff("pod-b_busybox")


def test_reset_forgets_failures() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    backoff.record_failure("uid_busybox")
    backoff.record_failure("uid_busybox")
    backoff.reset("uid_busybox")
    assert not backoff.in_backoff("uid_busybox")
    assert backoff.record_failure("uid_busybox") == 10


def test_quiet_key_starts_again_from_the_initial_delay() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    for _ in range(4):
        backoff.record_failure("uid_busybox")
    clock.advance(601)  # more than twice the maximum
    assert backoff.record_failure("uid_busybox") == 10


def test_gc_drops_only_expired_keys() -> None:
    clock = FakeClock()
    backoff = new_backoff(clock)
    backoff.record_failure("old")
    clock.advance(601)
    backoff.record_failure("recent")
    backoff.gc()
    assert len(backoff) == 1
    assert backoff.in_backoff("recent")
