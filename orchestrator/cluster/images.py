"""Builds the local images every cluster and test needs, because no registry is reachable.

`ensure_images()` builds `busybox:latest`/`busybox:1.36`, `echo:v1`, `echo:v2` and
the sandbox image `registry.k8s.io/pause:3.10` from the recipes in the repository's
`images/` folder, each `FROM scratch` plus Debian's static `/bin/busybox`. A build
is skipped when the image is already present with the same content digest (a
label), so calling it on every `orc up` and in every test session costs one
inspect per image. Called by `orc up`, the test fixtures, and `python -m
orchestrator.cluster.images`.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import docker.models.images

from orchestrator.kubelet.images import normalize_image

IMAGES_DIR = Path(__file__).resolve().parents[2] / "images"
BUSYBOX_BINARY = Path("/bin/busybox")
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"

LABEL_LOCAL_IMAGE = "orchestrator.image"
LABEL_CONTENT_DIGEST = "orchestrator.image.content"

# Bumped when the way a context is assembled changes, so old images are rebuilt.
_RECIPE_FORMAT = "1"
# A fixed mtime makes the context, and with it the COPY layers, identical from one build to the next.
_FIXED_MTIME = 1_700_000_000
_BUILD_LOCK_PATH = Path(tempfile.gettempdir()) / "orchestrator-image-build.lock"

_ETC_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_ETC_GROUP = "root:x:0:\nnobody:x:65534:\n"


class ImageBuildError(RuntimeError):
    """A local image could not be built (missing busybox-static, a Dockerfile error, no engine)."""


@dataclass(frozen=True)
class ImageRecipe:
    """How to build one image: the folder under `images/`, its build args, and every tag it carries."""

    folder: str
    tags: tuple[str, ...]
    build_args: dict[str, str] = field(default_factory=dict)


RECIPES: tuple[ImageRecipe, ...] = (
    ImageRecipe(folder="busybox", tags=("busybox:latest", "busybox:1.36")),
    ImageRecipe(folder="echo", tags=("echo:v1",), build_args={"VERSION": "v1"}),
    ImageRecipe(folder="echo", tags=("echo:v2",), build_args={"VERSION": "v2"}),
    ImageRecipe(folder="pause", tags=(PAUSE_IMAGE,)),
)


def known_images() -> list[str]:
    """Every tag `ensure_images` can build."""
    return [tag for recipe in RECIPES for tag in recipe.tags]


def ensure_images(names: list[str] | None = None, *, docker_client: docker.DockerClient | None = None) -> None:
    """Make sure the named images (default: all) are present on the engine, building only what changed.

    Names are normalised (`busybox` is `busybox:latest`). Raises ValueError for a
    name no recipe builds and ImageBuildError when a build fails.
    """
    recipes = _recipes_for(names)
    client = docker_client or docker.from_env()
    try:
        with _build_lock():
            for recipe in recipes:
                _ensure_recipe(client, recipe)
    finally:
        if docker_client is None:
            client.close()


def build_all() -> list[str]:
    """Ensure every local image and return their tags (the CLI prints them)."""
    ensure_images()
    return known_images()


def _recipes_for(names: list[str] | None) -> list[ImageRecipe]:
    if names is None:
        return list(RECIPES)
    by_tag = {tag: recipe for recipe in RECIPES for tag in recipe.tags}
    recipes: list[ImageRecipe] = []
    for name in names:
        recipe = by_tag.get(normalize_image(name))
        if recipe is None:
            raise ValueError(f"no local recipe builds image {name!r}; known images: {', '.join(known_images())}")
        if recipe not in recipes:
            recipes.append(recipe)
    return recipes


def _ensure_recipe(client: docker.DockerClient, recipe: ImageRecipe) -> None:
    context = _build_context(recipe)
    digest = _content_digest(context, recipe)
    present = {tag: _present_image(client, tag) for tag in recipe.tags}
    if all(image is not None and image.labels.get(LABEL_CONTENT_DIGEST) == digest for image in present.values()):
        return
    first_tag, *other_tags = recipe.tags
    context.seek(0)
    try:
        image, _build_log = client.images.build(
            fileobj=context,
            custom_context=True,
            tag=first_tag,
            buildargs=recipe.build_args,
            labels={LABEL_LOCAL_IMAGE: "true", LABEL_CONTENT_DIGEST: digest},
            rm=True,
            forcerm=True,
        )
    except (docker.errors.BuildError, docker.errors.APIError) as error:
        raise ImageBuildError(f"building {first_tag} from images/{recipe.folder}: {error}") from error
    for tag in other_tags:
        repository, _, version = tag.rpartition(":")
        image.tag(repository, version)
    _remove_replaced(client, {old.id for old in present.values() if old is not None and old.id != image.id})


def _present_image(client: docker.DockerClient, tag: str) -> docker.models.images.Image | None:
    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def _remove_replaced(client: docker.DockerClient, image_ids: set[str]) -> None:
    """Drop the images a rebuild left untagged, unless a container still uses them."""
    for image_id in image_ids:
        try:
            # Removing by id would also untag an image that still carries some other tag: check first.
            if client.images.get(image_id).tags:
                continue
            client.images.remove(image_id)
        except docker.errors.APIError:
            pass


def _content_digest(context: io.BytesIO, recipe: ImageRecipe) -> str:
    """A digest of everything that goes into the image: the context's bytes (mtimes are fixed) and the build args."""
    hasher = hashlib.sha256(_RECIPE_FORMAT.encode())
    hasher.update(context.getvalue())
    for name, value in sorted(recipe.build_args.items()):
        hasher.update(f"\0{name}={value}".encode())
    return hasher.hexdigest()[:32]


def _build_context(recipe: ImageRecipe) -> io.BytesIO:
    """The tar the engine builds from: the recipe folder plus the shared busybox `rootfs/`."""
    recipe_dir = IMAGES_DIR / recipe.folder
    if not (recipe_dir / "Dockerfile").is_file():
        raise ImageBuildError(f"no Dockerfile in {recipe_dir}")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(recipe_dir.rglob("*")):
            relative = path.relative_to(recipe_dir).as_posix()
            if path.is_dir():
                _add_directory(archive, relative)
            else:
                executable = os.access(path, os.X_OK)
                _add_file(archive, relative, path.read_bytes(), mode=0o755 if executable else 0o644)
        _add_busybox_rootfs(archive, "rootfs")
    buffer.seek(0)
    return buffer


def _add_busybox_rootfs(archive: tarfile.TarFile, root: str) -> None:
    """A minimal root filesystem: busybox, one relative symlink per applet (busybox cannot `--install` in scratch)."""
    if not BUSYBOX_BINARY.is_file():
        raise ImageBuildError(
            f"{BUSYBOX_BINARY} is missing: install Debian's busybox-static (apt-get install busybox-static)"
        )
    for directory in ("bin", "etc", "root", "tmp", "usr", "usr/bin", "var", "var/run"):
        _add_directory(archive, f"{root}/{directory}", mode=0o1777 if directory == "tmp" else 0o755)
    _add_file(archive, f"{root}/bin/busybox", BUSYBOX_BINARY.read_bytes(), mode=0o755)
    for applet in _busybox_applets():
        if applet != "busybox":
            _add_symlink(archive, f"{root}/bin/{applet}", target="busybox")
    # Scripts starting with `#!/usr/bin/env sh` are common.
    _add_symlink(archive, f"{root}/usr/bin/env", target="../../bin/busybox")
    _add_file(archive, f"{root}/etc/passwd", _ETC_PASSWD.encode(), mode=0o644)
    _add_file(archive, f"{root}/etc/group", _ETC_GROUP.encode(), mode=0o644)


def _busybox_applets() -> list[str]:
    try:
        listing = subprocess.run([str(BUSYBOX_BINARY), "--list"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise ImageBuildError(f"cannot list the applets of {BUSYBOX_BINARY}: {error}") from error
    applets = sorted({line.strip() for line in listing.splitlines() if line.strip() and "/" not in line})
    if "sh" not in applets:
        raise ImageBuildError(f"{BUSYBOX_BINARY} has no sh applet")
    return applets


def _add_directory(archive: tarfile.TarFile, name: str, *, mode: int = 0o755) -> None:
    info = _tar_info(name, mode)
    info.type = tarfile.DIRTYPE
    archive.addfile(info)


def _add_file(archive: tarfile.TarFile, name: str, content: bytes, *, mode: int) -> None:
    info = _tar_info(name, mode)
    info.size = len(content)
    archive.addfile(info, io.BytesIO(content))


def _add_symlink(archive: tarfile.TarFile, name: str, *, target: str) -> None:
    info = _tar_info(name, 0o777)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    archive.addfile(info)


def _tar_info(name: str, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = _FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


@contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds across processes on this machine (parallel test runs), so none tags half-built images."""
    with open(_BUILD_LOCK_PATH, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def main() -> None:
    """`python -m orchestrator.cluster.images`: build what is missing and list the images."""
    client = docker.from_env()
    try:
        ensure_images(docker_client=client)
        for tag in known_images():
            print(f"{tag}\t{client.images.get(tag).short_id}")
    finally:
        client.close()


if __name__ == "__main__":
    main()
