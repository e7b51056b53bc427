"""The TTL-after-finished controller: deletes finished Jobs once `ttlSecondsAfterFinished` has passed.

As pkg/controller/ttlafterfinished: a Job that is Complete or Failed and sets
`spec.ttlSecondsAfterFinished` expires that many seconds after the terminal condition's
lastTransitionTime. Before then its key waits in the queue for the time left; once due,
the Job is read again from the apiserver (the TTL may have been changed, the Job replaced)
and deleted in the Foreground, with its uid as a precondition, so its pods go first.
`plan.ttl_expiry` is the pure decision; the clock is injected so tests drive time.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.api.errors import Conflict, NotFound
from orchestrator.client.resources import JOBS
from orchestrator.controllers.base import Clock, Controller, SharedInformers, split_key
from orchestrator.controllers.job.plan import ttl_expiry


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished"

    def __init__(self, client: Any, informers: SharedInformers, *, workers: int = 2, clock: Clock = time.time):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.jobs = informers.get(JOBS)
        self.jobs.add_handler(on_add=self._maybe_enqueue, on_update=lambda old, new: self._maybe_enqueue(new))

    def _maybe_enqueue(self, job: dict) -> None:
        if ttl_expiry(job) is not None:
            self.enqueue(job)

    async def sync(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None or (expires_at := ttl_expiry(job)) is None:
            return
        if (left := expires_at - self.clock()) > 0:
            self.queue.add_after(key, left + 0.1)
            return
        namespace, name = split_key(key)
        try:
            fresh = await self.client.get(JOBS, name, namespace=namespace)
        except NotFound:
            return
        fresh_expiry = ttl_expiry(fresh)
        if fresh_expiry is None or fresh_expiry > self.clock():
            return  # the TTL changed meanwhile; the update event brings the key back
        self.log.info("job %s: finished %ss ago, ttlSecondsAfterFinished passed; deleting it", key,
                      int(self.clock() - fresh_expiry + fresh["spec"]["ttlSecondsAfterFinished"]))
        try:
            await self.client.delete(JOBS, name, namespace=namespace, propagation_policy="Foreground",
                                     preconditions={"uid": fresh["metadata"]["uid"]})
        except (NotFound, Conflict):
            return  # already gone, or replaced by a new Job of the same name
