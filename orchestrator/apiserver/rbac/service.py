"""Authorization wired into one apiserver: the RBAC index fed by the watch cache, the bootstrap
policy written at start, and the ClusterRole aggregation loop.

`Authorization.start(storage, cache)` runs in the apiserver's lifespan after the watch cache has
loaded; from then on `authorizer` answers every request (middleware.py) from memory. A listener
registered on the watch cache of each RBAC resource marks the index stale on any change, so a
deleted binding stops granting as soon as this apiserver has seen the deletion (milliseconds).

Used by app.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from orchestrator.apiserver.rbac.authorizer import RBAC_RESOURCES, RBACAuthorizer
from orchestrator.apiserver.rbac.policy import (
    aggregate_cluster_roles,
    default_cluster_role_bindings,
    default_cluster_roles,
    reconciled,
)
from orchestrator.apiserver.storage import KeyExists, KeyMissing, StaleRevision, Storage

log = logging.getLogger(__name__)

MAX_WRITE_ATTEMPTS = 5


class _Listener:
    """Looks like a watch-cache Watcher; only tells the authorizer that an RBAC object changed."""

    allow_bookmarks = False
    closed = False

    def __init__(self, service: Authorization, resource: str):
        self.service = service
        self.resource = resource

    def offer(self, event) -> None:
        self.service.changed(self.resource)

    def put(self, item) -> None:
        pass

    def close(self) -> None:
        # The watch cache reloaded (etcd compaction) and drops every watcher: come back after it.
        self.service.changed(self.resource)
        asyncio.get_running_loop().call_soon(self.service.attach, self.resource)


class Authorization:
    def __init__(self, *, enabled: bool = True, issuer=None):
        self.enabled = enabled
        self.issuer = issuer  # tokens.TokenIssuer: ServiceAccount tokens
        self.cache = None
        self.storage: Storage | None = None
        self.authorizer = RBACAuthorizer(self._objects)
        self._aggregate = asyncio.Event()
        self._task: asyncio.Task | None = None

    def _objects(self, resource: str):
        if self.cache is None:
            return ()
        return list(self.cache.cache(resource).store.values())

    def lookup(self, resource: str, namespace: str | None, name: str) -> dict | None:
        """One object from the watch cache (None before the cache started, or if absent)."""
        if self.cache is None:
            return None
        return self.cache.cache(resource).store.get(self.storage.key(resource, namespace, name))

    def authenticate_service_account(self, token: str):
        from orchestrator.apiserver.rbac.tokens import ServiceAccountAuthenticator

        return ServiceAccountAuthenticator(self.issuer, self.lookup).authenticate(token)

    def changed(self, resource: str) -> None:
        self.authorizer.invalidate()
        if resource == "clusterroles":
            self._aggregate.set()

    def attach(self, resource: str) -> None:
        self.cache.cache(resource).watchers.add(_Listener(self, resource))
        self.changed(resource)

    async def start(self, storage: Storage, cache) -> None:
        self.storage, self.cache = storage, cache
        for resource in RBAC_RESOURCES:
            self.attach(resource)
        await self.reconcile_bootstrap_policy()
        self._task = asyncio.create_task(self._aggregate_forever(), name="clusterrole-aggregation")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    # -- the bootstrap policy ------------------------------------------------------------------

    async def _write(self, resource: str, wanted: dict) -> None:
        key = self.storage.key(resource, None, wanted["metadata"]["name"])
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = await self.storage.get(key)
            try:
                if current is None:
                    body = {**wanted, "metadata": {**wanted["metadata"], "uid": str(uuid.uuid4()),
                                                   "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                      time.gmtime())}}
                    await self.storage.create(key, body)
                    return
                new = reconciled(current, wanted)
                if new is None:
                    return
                await self.storage.update(key, new, expected_revision=int(current["metadata"]["resourceVersion"]))
                log.info("reconciled %s %s", resource, wanted["metadata"]["name"])
                return
            except (KeyExists, KeyMissing, StaleRevision):
                continue  # the other apiserver wrote it in between: look again

    async def reconcile_bootstrap_policy(self) -> None:
        for role in default_cluster_roles():
            await self._write("clusterroles", role)
        for binding in default_cluster_role_bindings():
            await self._write("clusterrolebindings", binding)

    # -- aggregation ---------------------------------------------------------------------------

    async def aggregate_once(self) -> None:
        for name, rules in aggregate_cluster_roles(self._objects("clusterroles")).items():
            key = self.storage.key("clusterroles", None, name)
            for _ in range(MAX_WRITE_ATTEMPTS):
                current = await self.storage.get(key)
                if current is None or current.get("rules") == rules:
                    break
                try:
                    await self.storage.update(key, {**current, "rules": rules},
                                              expected_revision=int(current["metadata"]["resourceVersion"]))
                    log.info("aggregated clusterrole %s: %d rules", name, len(rules))
                    break
                except (KeyMissing, StaleRevision):
                    continue

    async def _aggregate_forever(self) -> None:
        while True:
            await self._aggregate.wait()
            self._aggregate.clear()
            await asyncio.sleep(0.05)  # let a burst of changes (kubectl apply of many roles) land first
            try:
                await self.aggregate_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("clusterrole aggregation failed; retrying on the next change")
