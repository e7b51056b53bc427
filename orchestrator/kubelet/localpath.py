"""The kubelet's half of the local-path provisioner: where the node keeps volumes, and their removal.

The persistent-volume controller (orchestrator/controllers/persistentvolume/) creates the
PersistentVolume objects but never touches a node's disk: on compose it runs in another
container. So each kubelet:

- publishes its directory for local-path volumes, `<kubelet root>/local-path`, in its Node's
  `orchestrator.io/local-path-root` annotation (the controller provisions volumes under it);
- creates a volume's directory when a pod first mounts it (volumes.py, `persistentVolumeClaim`);
- watches PersistentVolumes, and when one provisioned on this node (annotation
  `volume.kubernetes.io/selected-node`) is being deleted and still holds the
  `orchestrator.io/local-path-cleanup` finalizer (reclaim policy Delete), removes its directory,
  then the finalizer. Only directories under the published root are ever removed.

Started by the kubelet (main.py).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

from orchestrator.api.errors import APIError, Conflict, NotFound
from orchestrator.client.informer import Informer
from orchestrator.client.resources import NODES, PERSISTENTVOLUMES
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.controllers.persistentvolume.plan import (
    LOCAL_PATH_FINALIZER,
    LOCAL_PATH_ROOT_ANNOTATION,
    SELECTED_NODE_ANNOTATION,
)

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0


def local_path_root(kubelet_root: Path) -> Path:
    return kubelet_root / "local-path"


def directory_to_remove(volume: dict, *, node_name: str, root: Path) -> Path | None:
    """The directory of a deleted local-path volume of this node, when it is ours to remove (pure)."""
    metadata = volume.get("metadata") or {}
    if not metadata.get("deletionTimestamp") or LOCAL_PATH_FINALIZER not in (metadata.get("finalizers") or []):
        return None
    if (metadata.get("annotations") or {}).get(SELECTED_NODE_ANNOTATION) != node_name:
        return None
    path = Path(((volume.get("spec") or {}).get("local") or {}).get("path") or "")
    if not path.is_absolute() or path.parent != root:
        return None
    return path


class LocalPathVolumes:
    """Publishes the node's local-path root and removes the directories of deleted volumes."""

    def __init__(self, client: ApiClient, *, node_name: str, root: Path) -> None:
        self.client = client
        self.node_name = node_name
        self.root = root
        self.volumes = Informer(client, PERSISTENTVOLUMES)
        self._pending: set[str] = set()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        await self._publish_root()
        self.volumes.add_handler(on_add=self._changed, on_update=lambda old, new: self._changed(new))
        informer = asyncio.create_task(self.volumes.run(), name="persistentvolume-informer")
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                for name in sorted(self._pending):
                    self._pending.discard(name)
                    if not await self._clean(name):
                        self._pending.add(name)
                if self._pending:
                    await asyncio.sleep(RETRY_SECONDS)
                    self._wake.set()
        finally:
            informer.cancel()
            await asyncio.gather(informer, return_exceptions=True)

    def _changed(self, volume: dict) -> None:
        if directory_to_remove(volume, node_name=self.node_name, root=self.root) is not None:
            self._pending.add(volume["metadata"]["name"])
            self._wake.set()

    async def _publish_root(self) -> None:
        patch = {"metadata": {"annotations": {LOCAL_PATH_ROOT_ANNOTATION: str(self.root)}}}
        for _ in range(30):
            try:
                await self.client.patch(NODES, self.node_name, patch, patch_type="merge")
                return
            except (APIError, ApiUnavailable) as error:
                log.warning("node %s: cannot publish the local-path root yet: %s", self.node_name, error)
                await asyncio.sleep(RETRY_SECONDS)

    async def _clean(self, name: str) -> bool:
        """Remove the directory, then the finalizer; False to try again later."""
        volume = self.volumes.get(name)
        path = directory_to_remove(volume, node_name=self.node_name, root=self.root) if volume else None
        if path is None:
            return True
        await asyncio.to_thread(shutil.rmtree, path, True)
        metadata: dict[str, Any] = volume["metadata"]
        remaining = [f for f in metadata.get("finalizers") or [] if f != LOCAL_PATH_FINALIZER]
        try:
            await self.client.patch(PERSISTENTVOLUMES, name, {"metadata": {
                "finalizers": remaining, "resourceVersion": metadata.get("resourceVersion")}}, patch_type="merge")
        except NotFound:
            return True
        except (Conflict, APIError, ApiUnavailable) as error:
            log.info("volume %s: finalizer not removed yet: %s", name, error)
            return False
        log.info("volume %s: removed its directory %s", name, path)
        return True
