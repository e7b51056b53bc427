"""Image references, the image pull policy, and the pull back-off of the kubelet.

Pure logic, no I/O: the kubelet's pod worker asks `should_pull` before starting a
container, records failed pulls in an `ImageBackoff` (which turns the next attempts
into `ImagePullBackOff` until the delay has passed), and the Docker runtime
(`kubelet/runtime.py`) and the local image builder (`cluster/images.py`) use
`normalize_image` so that `busybox`, `busybox:latest` and
`docker.io/library/busybox:latest` name the same image.

As in Kubernetes (`pkg/apis/core/v1/defaults.go`, `pkg/kubelet/images/image_manager.go`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

PULL_ALWAYS = "Always"
PULL_IF_NOT_PRESENT = "IfNotPresent"
PULL_NEVER = "Never"
PULL_POLICIES = (PULL_ALWAYS, PULL_IF_NOT_PRESENT, PULL_NEVER)

# The `waiting.reason` of a container whose image is missing, as kubectl shows it.
REASON_ERR_IMAGE_PULL = "ErrImagePull"
REASON_IMAGE_PULL_BACKOFF = "ImagePullBackOff"
REASON_ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"
REASON_INVALID_IMAGE_NAME = "InvalidImageName"

DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_REPOSITORY_PREFIX = "library/"


@dataclass(frozen=True)
class ImageReference:
    """An image reference split into its parts; `domain` is explicit (`docker.io` when omitted)."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def familiar(self) -> str:
        """The short form Docker prints: `busybox:latest`, `registry.k8s.io/pause:3.10`."""
        repository = self.path
        if self.domain == DEFAULT_DOMAIN:
            repository = repository.removeprefix(_OFFICIAL_REPOSITORY_PREFIX)
        else:
            repository = f"{self.domain}/{repository}"
        if self.tag:
            repository += f":{self.tag}"
        if self.digest:
            repository += f"@{self.digest}"
        return repository

    @property
    def repository(self) -> str:
        """The familiar name without tag or digest (what `docker pull` takes with a separate tag)."""
        return ImageReference(self.domain, self.path, None, None).familiar


def parse_image(image: str) -> ImageReference:
    """Split `image` like Docker's reference.ParseNormalizedNamed; a missing tag stays None.

    Raises ValueError for an empty reference or one with an empty part (`busybox:`).
    """
    reference = image.strip()
    if not reference:
        raise ValueError("image reference is empty")
    digest = None
    if "@" in reference:
        reference, digest = reference.split("@", 1)
        if not digest:
            raise ValueError(f"invalid image reference {image!r}: empty digest")
    tag = None
    last_slash = reference.rfind("/")
    last_colon = reference.rfind(":")
    if last_colon > last_slash:  # a colon before the last slash is a registry port, not a tag
        reference, tag = reference[:last_colon], reference[last_colon + 1 :]
        if not tag:
            raise ValueError(f"invalid image reference {image!r}: empty tag")
    first, _, rest = reference.partition("/")
    # Docker's rule: the first component is a registry only if it looks like a host name.
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, reference
    if domain == _LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = _OFFICIAL_REPOSITORY_PREFIX + path
    if not path or path.endswith("/") or "//" in path:
        raise ValueError(f"invalid image reference {image!r}")
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)


def normalize_image(image: str) -> str:
    """The familiar name with an explicit tag: `busybox` and `docker.io/library/busybox` give `busybox:latest`.

    A reference pinned by digest keeps only what it says (no `:latest` is added).
    """
    reference = parse_image(image)
    if reference.tag is None and reference.digest is None:
        reference = ImageReference(reference.domain, reference.path, "latest", None)
    return reference.familiar


def default_pull_policy(image: str) -> str:
    """`Always` for `:latest` or no tag (unless pinned by digest), else `IfNotPresent` — Kubernetes' default."""
    reference = parse_image(image)
    if reference.tag == "latest" or (reference.tag is None and reference.digest is None):
        return PULL_ALWAYS
    return PULL_IF_NOT_PRESENT


def should_pull(policy: str | None, image: str, present: bool) -> bool:
    """Whether the kubelet pulls `image` before starting a container, given the image's presence on the node.

    `Never` never pulls (a missing image then gives ErrImageNeverPull); an empty
    policy means the default for the image, as the apiserver would have set it.
    """
    effective_policy = policy or default_pull_policy(image)
    if effective_policy == PULL_ALWAYS:
        return True
    if effective_policy == PULL_IF_NOT_PRESENT:
        return not present
    if effective_policy == PULL_NEVER:
        return False
    raise ValueError(f"unknown image pull policy {policy!r}, expected one of {', '.join(PULL_POLICIES)}")


@dataclass
class _BackoffEntry:
    delay: float
    last_failure: float


class ImageBackoff:
    """Per-key back-off of failed pulls: 10 s after the first failure, doubling up to 300 s.

    Keys are whatever the caller backs off on; Kubernetes uses `<pod uid>_<image>`
    so that one pod's failures do not delay another pod. A key with no failure for
    twice the maximum delay starts again from the initial delay, as Kubernetes'
    flowcontrol.Backoff does. The clock is injected so tests can drive time.
    """

    def __init__(
        self,
        *,
        initial_seconds: float = 10.0,
        max_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._initial_seconds = initial_seconds
        self._max_seconds = max_seconds
        self._clock = clock
        self._entries: dict[str, _BackoffEntry] = {}

    def in_backoff(self, key: str) -> bool:
        """True while the delay after the last failure of `key` has not passed (report ImagePullBackOff)."""
        return self.remaining_seconds(key) > 0

    def remaining_seconds(self, key: str) -> float:
        """Seconds until `key` may be tried again; 0 when it may be tried now."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_failure + entry.delay - self._clock())

    def record_failure(self, key: str) -> float:
        """Note a failed pull of `key` and return the delay before the next attempt."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, now):
            entry = _BackoffEntry(delay=self._initial_seconds, last_failure=now)
        else:
            entry = _BackoffEntry(delay=min(entry.delay * 2, self._max_seconds), last_failure=now)
        self._entries[key] = entry
        return entry.delay

    def reset(self, key: str) -> None:
        """Forget the failures of `key` (after a successful pull)."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        """How many keys are tracked (for the kubelet's metrics and tests of `gc`)."""
        return len(self._entries)

    def gc(self) -> None:
        """Drop keys whose last failure is older than twice the maximum delay, so the table stays small."""
        now = self._clock()
        for key in [key for key, entry in self._entries.items() if self._expired(entry, now)]:
            del self._entries[key]

    def _expired(self, entry: _BackoffEntry, now: float) -> bool:
        return now - entry.last_failure > 2 * self._max_seconds
