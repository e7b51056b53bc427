"""Helpers of the controller-manager's integration tests: a stand-in kubelet, waiting, manifests.

`PodReadier` plays the kubelet for one namespace (there is no scheduler or kubelet in
these tests): every pod it sees becomes Running and Ready with an IP, after an
optional delay, unless its image is one it was told never to start. `PodCensus`
watches the namespace's pods and remembers the worst moments of a rollout (most
pods, fewest ready), so bounds are checked on every change, not by sampling.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrator.api.errors import Conflict, NotFound
from orchestrator.client.informer import Informer
from orchestrator.client.resources import DEPLOYMENTS, PODS
from orchestrator.client.rest import ApiClient
from orchestrator.controllers.podutil import is_pod_active, is_pod_ready

_addresses = itertools.count(2)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def eventually(check: Callable, *, timeout: float = 20.0, interval: float = 0.1, what: str = "") -> object:
    """Calls `check()` (sync or async) until it returns something truthy without raising AssertionError."""
    deadline = time.monotonic() + timeout
    last_error: AssertionError | None = None
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            last_error = AssertionError(f"{what or check} returned {result!r}")
        except AssertionError as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {what}") from last_error
        await asyncio.sleep(interval)


def running_status(*, ready: bool, ip: str) -> dict:
    stamp = now_text()
    condition = "True" if ready else "False"
    return {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": stamp,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": stamp},
            {"type": "Ready", "status": condition, "lastTransitionTime": stamp},
            {"type": "ContainersReady", "status": condition, "lastTransitionTime": stamp},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
        ],
    }


async def set_pod_ready(client: ApiClient, pod: dict, *, ready: bool = True) -> dict:
    """What a kubelet reports for a started pod (keeps the pod's IP if it has one)."""
    ip = (pod.get("status") or {}).get("podIP") or f"10.244.{next(_addresses) // 250}.{next(_addresses) % 250 + 2}"
    body = copy.deepcopy(pod)
    body["status"] = running_status(ready=ready, ip=ip)
    return await client.update(PODS, body, subresource="status")


class PodReadier:
    """Marks the pods of a namespace Running and Ready, as a kubelet would once they started."""

    def __init__(self, client: ApiClient, namespace: str, *, never_ready_images: frozenset[str] = frozenset(),
                 delay: float = 0.0):
        self.client = client
        self.namespace = namespace
        self.never_ready_images = never_ready_images
        self.delay = delay
        self.informer = Informer(client, PODS, namespace=namespace)
        self._pending: asyncio.Queue[str] = asyncio.Queue()
        self.informer.add_handler(on_add=self._seen, on_update=lambda old, new: self._seen(new))
        self._tasks: list[asyncio.Task] = []

    def _seen(self, pod: dict) -> None:
        if is_pod_active(pod) and not is_pod_ready(pod) and (pod.get("status") or {}).get("phase") != "Running":
            self._pending.put_nowait(pod["metadata"]["name"])

    async def __aenter__(self) -> PodReadier:
        self._tasks = [asyncio.create_task(self.informer.run()), asyncio.create_task(self._work())]
        await self.informer.wait_synced()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            name = await self._pending.get()
            if self.delay:
                await asyncio.sleep(self.delay)
            pod = self.informer.get(f"{self.namespace}/{name}")
            if pod is None or not is_pod_active(pod) or is_pod_ready(pod):
                continue
            images = {c.get("image") for c in (pod.get("spec") or {}).get("containers") or []}
            if images & self.never_ready_images:
                continue
            try:
                await set_pod_ready(self.client, pod)
            except (Conflict, NotFound):
                continue  # a newer version is on its way, or the pod went


class PodCensus:
    """Watches a namespace's pods and keeps the extremes seen while `watching`."""

    def __init__(self, client: ApiClient, namespace: str, *, selector: Callable[[dict], bool] = lambda pod: True):
        self.informer = Informer(client, PODS, namespace=namespace)
        self.selector = selector
        self.watching = False
        self.most_pods = 0
        self.fewest_ready: int | None = None
        self.names_seen: set[str] = set()  # every pod that ever existed while watched
        self.informer.add_handler(on_add=self._changed, on_update=lambda old, new: self._changed(new),
                                  on_delete=self._changed)
        self._task: asyncio.Task | None = None

    def active(self) -> list[dict]:
        return [pod for pod in self.informer.list() if is_pod_active(pod) and self.selector(pod)]

    def ready(self) -> list[dict]:
        return [pod for pod in self.active() if is_pod_ready(pod)]

    def images(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pod in self.active():
            image = pod["spec"]["containers"][0]["image"]
            counts[image] = counts.get(image, 0) + 1
        return counts

    def _changed(self, pod: dict) -> None:
        if not self.watching:
            return
        if self.selector(pod):
            self.names_seen.add(pod["metadata"]["name"])
        self.most_pods = max(self.most_pods, len(self.active()))
        ready = len(self.ready())
        self.fewest_ready = ready if self.fewest_ready is None else min(self.fewest_ready, ready)

    def start_watching(self) -> None:
        self.watching = True
        self.most_pods = len(self.active())
        self.fewest_ready = len(self.ready())
        self.names_seen = {pod["metadata"]["name"] for pod in self.active()}

    async def __aenter__(self) -> PodCensus:
        self._task = asyncio.create_task(self.informer.run())
        await self.informer.wait_synced()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def deployment_manifest(name: str = "web", *, replicas: int = 3, image: str = "app:1", max_surge: int | str = "25%",
                        max_unavailable: int | str = "25%", progress_deadline: int | None = None,
                        strategy: str = "RollingUpdate", labels: dict | None = None) -> dict:
    labels = labels or {"app": name}
    spec: dict = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": image}]}},
        "strategy": {"type": strategy},
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": max_surge, "maxUnavailable": max_unavailable}
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


async def rollout_finished(client: ApiClient, namespace: str, name: str = "web") -> bool:
    """The Deployment's status says its latest spec is fully rolled out (what `kubectl rollout status` checks)."""
    deployment = await client.get(DEPLOYMENTS, name, namespace=namespace)
    status, replicas = deployment.get("status") or {}, deployment["spec"]["replicas"]
    return (status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == replicas == status.get("availableReplicas", 0)
            and status.get("replicas", 0) == replicas)
