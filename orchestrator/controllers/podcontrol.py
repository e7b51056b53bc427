"""Creating and deleting a controller's pods, with the Events `kubectl describe` shows (RealPodControl).

Every workload controller writes its pods the same way: a create records SuccessfulCreate
("Created pod: NAME") or FailedCreate ("Error creating: ..."), a delete SuccessfulDelete or
FailedDelete, both on the owner. A create refused because the namespace is terminating is
no failure (every later one will be refused too), and a pod already gone is no failure to delete.
A deletion that does not happen is taken off the owner's expectations at once (the informer will
never report it); creations are counted by the callers, which create in batches.

Used by the ReplicaSet, Job and DaemonSet controllers.
"""

from __future__ import annotations

import logging
from typing import Any

from orchestrator.api.errors import APIError, NotFound
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import PODS
from orchestrator.controllers.base import is_namespace_terminating
from orchestrator.controllers.expectations import Expectations


class PodControl:
    def __init__(self, client: Any, recorder: EventRecorder, expectations: Expectations, log: logging.Logger):
        self.client = client
        self.recorder = recorder
        self.expectations = expectations
        self.log = log

    async def create(self, owner: dict, pod: dict) -> dict | None:
        """The created pod; None when the owner's namespace is terminating. Raises what the apiserver refused."""
        try:
            created = await self.client.create(PODS, pod, namespace=owner["metadata"].get("namespace"))
        except APIError as error:
            if is_namespace_terminating(error):
                return None
            self.recorder.record(owner, WARNING, "FailedCreate", f"Error creating: {error}")
            raise
        name = created["metadata"]["name"]
        self.log.info("%s %s: created pod %s", (owner.get("kind") or "").lower(), key_of(owner), name)
        self.recorder.record(owner, NORMAL, "SuccessfulCreate", f"Created pod: {name}")
        return created

    async def delete(self, owner: dict, pod: dict) -> bool:
        """True once the deletion is accepted; False when the pod was already gone. Raises other failures."""
        name = pod["metadata"]["name"]
        try:
            await self.client.delete(PODS, name, namespace=pod["metadata"].get("namespace"))
        except NotFound:
            self.expectations.deletion_observed(key_of(owner), key_of(pod))
            return False
        except Exception as error:
            self.expectations.deletion_observed(key_of(owner), key_of(pod))
            self.recorder.record(owner, WARNING, "FailedDelete", f"Error deleting: {error}")
            raise
        self.log.info("%s %s: deleted pod %s", (owner.get("kind") or "").lower(), key_of(owner), name)
        self.recorder.record(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")
        return True
