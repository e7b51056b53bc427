"""Shared scaffolding of the controllers that `orc controller-manager` runs.

- `SharedInformers`: one `Informer` per resource, shared by every controller that reads
  it (client-go's SharedInformerFactory). Controllers ask for informers and register
  their handlers; the manager starts them all once and waits until they have synced.
- `Controller`: the work-queue pattern every controller follows. Event handlers only
  compute a key (`namespace/name`) and put it on the de-duplicating queue; `run()`
  starts workers that call `sync(key)` one key at a time; a failed sync comes back
  with backoff and is dropped after a bounded number of retries (`run_workers`).
- Small helpers every controller needs: owner references, Kubernetes timestamps,
  index functions and key splitting.

Used by every controller module of this package; wired together by `manager.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import Resource
from orchestrator.client.workqueue import WorkQueue, run_workers

Clock = Callable[[], float]

NAMESPACE_INDEX = "namespace"
NODE_NAME_INDEX = "spec.nodeName"
OWNER_UID_INDEX = "ownerReferences.uid"
UID_INDEX = "metadata.uid"
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"


# ---------------------------------------------------------------- index functions


def index_by_namespace(obj: dict) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace") or ""]


def index_by_node_name(obj: dict) -> list[str]:
    node_name = (obj.get("spec") or {}).get("nodeName")
    return [node_name] if node_name else []


def index_by_owner_uid(obj: dict) -> list[str]:
    return [ref["uid"] for ref in owner_references(obj) if ref.get("uid")]


def index_by_uid(obj: dict) -> list[str]:
    uid = (obj.get("metadata") or {}).get("uid")
    return [uid] if uid else []


STANDARD_INDEXES: dict[str, Callable[[dict], list[str]]] = {
    NAMESPACE_INDEX: index_by_namespace,
    NODE_NAME_INDEX: index_by_node_name,
    OWNER_UID_INDEX: index_by_owner_uid,
    UID_INDEX: index_by_uid,
}


# ---------------------------------------------------------------- shared informers


class SharedInformers:
    """One informer per resource for the whole controller-manager.

    `get(resource, indexes=...)` returns the same Informer to every caller and adds the
    named standard indexes it asks for; `run()` lists and watches them all until cancelled.
    """

    def __init__(self, client: Any):
        self.client = client
        self._informers: dict[Resource, Informer] = {}
        self._indexed: set[tuple[Resource, str]] = set()

    def get(self, resource: Resource, *, indexes: Iterable[str] = ()) -> Informer:
        informer = self._informers.get(resource)
        if informer is None:
            informer = Informer(self.client, resource)
            self._informers[resource] = informer
        for name in indexes:
            if (resource, name) not in self._indexed:
                informer.add_index(name, STANDARD_INDEXES[name])
                self._indexed.add((resource, name))
        return informer

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    async def run(self) -> None:
        tasks = [asyncio.create_task(informer.run(), name=f"informer-{informer.resource.plural}")
                 for informer in self._informers.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_synced(self) -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in self._informers.values()))


# ---------------------------------------------------------------- the controller pattern


class Controller:
    """Base of the work-queue controllers: handlers enqueue keys, workers call `sync(key)`."""

    name: ClassVar[str] = "controller"
    # client-go's controllers retry a key 15 times (about 3 minutes of backoff) before dropping it.
    max_retries: ClassVar[int] = 15

    def __init__(self, *, workers: int = 2, queue: WorkQueue | None = None, clock: Clock = time.time):
        self.workers = workers
        self.queue = queue or WorkQueue()
        self.clock = clock
        self.log = logging.getLogger(f"orchestrator.controllers.{self.name}")

    def enqueue(self, obj: dict) -> None:
        self.queue.add(key_of(obj))

    def enqueue_after(self, obj: dict, delay: float) -> None:
        self.queue.add_after(key_of(obj), delay)

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Runs the workers until cancelled; the informers must have synced before."""
        self.log.info("starting %s controller with %d workers", self.name, self.workers)
        try:
            await run_workers(self.queue, self.sync, workers=self.workers, max_retries=self.max_retries,
                              logger=self.log)
        finally:
            self.queue.shutdown()


def split_key(key: str) -> tuple[str | None, str]:
    """`namespace/name` -> (namespace, name); a cluster-scoped `name` -> (None, name)."""
    namespace, _, name = key.rpartition("/")
    return (namespace or None), name


# ---------------------------------------------------------------- owner references


def owner_references(obj: dict) -> list[dict]:
    return list((obj.get("metadata") or {}).get("ownerReferences") or [])


def controller_ref(obj: dict) -> dict | None:
    """The owner reference with `controller: true` (metav1.GetControllerOf), if any."""
    for ref in owner_references(obj):
        if ref.get("controller"):
            return ref
    return None


def new_controller_ref(owner: dict) -> dict:
    """metav1.NewControllerRef: the reference a controller puts on what it creates or adopts."""
    metadata = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def resolve_controller_ref(owners: Informer, obj: dict, ref: dict | None, *, kind: str) -> dict | None:
    """resolveControllerRef: the cached owner of `kind` a controller reference points at (same uid), if any."""
    if ref is None or ref.get("kind") != kind:
        return None
    owner = owners.get(f"{(obj.get('metadata') or {}).get('namespace')}/{ref.get('name')}")
    if owner is None or (owner.get("metadata") or {}).get("uid") != ref.get("uid"):
        return None
    return owner


def owners_selecting(owners: Informer, obj: dict) -> list[dict]:
    """The cached owners in obj's namespace whose `spec.selector` (non-empty, valid) matches obj's labels:
    who might adopt an orphan (getPodReplicaSets, getDeploymentsForReplicaSet). Needs NAMESPACE_INDEX."""
    selecting = []
    for owner in owners.by_index(NAMESPACE_INDEX, (obj.get("metadata") or {}).get("namespace") or ""):
        try:
            selector = selector_from_object((owner.get("spec") or {}).get("selector"))
        except ValueError:
            continue
        if not selector.empty and selector.matches(labels_of(obj)):
            selecting.append(owner)
    return selecting


def is_being_deleted(obj: dict) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def labels_of(obj: dict) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations_of(obj: dict) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def is_namespace_terminating(error: Exception) -> bool:
    """A create refused because its namespace is being deleted (every later one will be too)."""
    details = getattr(error, "details", None)
    causes = (details.get("causes") or []) if isinstance(details, dict) else []
    return any(cause.get("reason") == NAMESPACE_TERMINATING_CAUSE for cause in causes)


# ---------------------------------------------------------------- time


def format_time(seconds: float) -> str:
    """metav1.Time on the wire: RFC 3339 with second precision, `2006-01-02T15:04:05Z`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> float | None:
    """Seconds since the epoch of a metav1.Time or MicroTime; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
