"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection.

Several replicas of a component (controller-manager, scheduler) run a
`LeaderElector` on the same Lease; one holds it and does the work, the others wait.
A candidate takes the lease when it is absent, released (no holder) or expired
(renewTime + leaseDurationSeconds < now); the holder renews it every retry_period.
Every write is a PUT carrying the read resourceVersion, so two candidates can never
both win (the loser gets 409 and reads again). If the holder cannot renew for
renew_deadline, its work is cancelled; on a clean shutdown it releases the lease
(as client-go's ReleaseOnCancel) so a standby takes over at once.
Used by `orc controller-manager` and `orc scheduler`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, Conflict, NotFound
from orchestrator.client.resources import LEASES
from orchestrator.client.rest import ApiUnavailable

log = logging.getLogger(__name__)


def format_micro_time(seconds: float) -> str:
    """Kubernetes' MicroTime: `2006-01-02T15:04:05.000000Z`."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class LeaderElector:
    def __init__(
        self,
        client: Any,  # an ApiClient, or a fake with the same get/create/update
        *,
        lease_name: str,
        namespace: str = "kube-system",
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        self.client = client
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._clock = clock
        self._sleep = sleep
        self._lease: dict | None = None  # the lease as we last read or wrote it
        self._is_leader = False

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    @property
    def observed_holder(self) -> str:
        """Who held the lease when we last looked ("" when free)."""
        return ((self._lease or {}).get("spec") or {}).get("holderIdentity") or ""

    def _expired(self, spec: dict, now: float) -> bool:
        renew_time = spec.get("renewTime")
        if not renew_time:
            return True
        return parse_micro_time(renew_time) + (spec.get("leaseDurationSeconds") or 0) < now

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the lease; False if another holder's lease is valid
        or a concurrent writer won (409). Transport errors propagate."""
        now = self._clock()
        spec = {
            "holderIdentity": self.identity,
            # The API field is whole seconds; a sub-second duration (tests) must not become 0.
            "leaseDurationSeconds": max(1, round(self.lease_duration)),
            "acquireTime": format_micro_time(now),
            "renewTime": format_micro_time(now),
            "leaseTransitions": 0,
        }
        try:
            lease = await self.client.get(LEASES, self.lease_name, namespace=self.namespace)
        except NotFound:
            body = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.lease_name, "namespace": self.namespace},
                "spec": spec,
            }
            try:
                self._lease = await self.client.create(LEASES, body, namespace=self.namespace)
            except AlreadyExists:
                return False  # another candidate created it first
            return True
        self._lease = lease
        old_spec = lease.get("spec") or {}
        holder = old_spec.get("holderIdentity") or ""
        if holder and holder != self.identity and not self._expired(old_spec, now):
            return False
        transitions = old_spec.get("leaseTransitions") or 0
        if holder == self.identity:
            spec["acquireTime"] = old_spec.get("acquireTime") or spec["acquireTime"]
            spec["leaseTransitions"] = transitions
        else:
            spec["leaseTransitions"] = transitions + 1
        try:
            self._lease = await self.client.update(LEASES, {**lease, "spec": {**old_spec, **spec}},
                                                   namespace=self.namespace)
        except Conflict:
            return False  # someone wrote in between; the next attempt reads again
        return True

    async def _attempt(self) -> bool:
        try:
            return await asyncio.wait_for(self.try_acquire_or_renew(), self.renew_deadline)
        except (ApiUnavailable, APIError, TimeoutError) as error:
            log.warning("lease %s/%s: %s could not acquire or renew: %r",
                        self.namespace, self.lease_name, self.identity, error)
            return False

    async def run(
        self, on_started_leading: Callable[[], Awaitable[None]], on_stopped_leading: Callable[[], None]
    ) -> None:
        """Waits for the lease, runs `on_started_leading()` as a task while holding it.

        Returns (after cancelling the work and calling `on_stopped_leading`) when the lease
        is lost or the work ends; re-raises the work's exception. Cancelling `run` releases
        the lease. After a loss, components usually exit, as kube-controller-manager does.
        """
        log.info("lease %s/%s: %s is waiting to lead", self.namespace, self.lease_name, self.identity)
        while not await self._attempt():
            await self._sleep(self.retry_period)
        self._is_leader = True
        log.info("lease %s/%s: %s became leader", self.namespace, self.lease_name, self.identity)
        work = asyncio.ensure_future(on_started_leading())
        work_ended = False
        try:
            await self._renew_until_lost(work)
            work_ended = work.done()
        finally:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            self._is_leader = False
            try:
                on_stopped_leading()
            finally:
                await asyncio.shield(self._release())
        if work_ended:
            work.result()

    async def _renew_until_lost(self, work: asyncio.Future) -> None:
        last_renewed = self._clock()
        while True:
            sleeper = asyncio.ensure_future(self._sleep(self.retry_period))
            try:
                await asyncio.wait((sleeper, work), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if work.done():
                log.info("lease %s/%s: the leader's work ended", self.namespace, self.lease_name)
                return
            if await self._attempt():
                last_renewed = self._clock()
                continue
            if self.observed_holder not in ("", self.identity):
                log.warning("lease %s/%s: taken over by %s; %s stops leading",
                            self.namespace, self.lease_name, self.observed_holder, self.identity)
                return
            if self._clock() - last_renewed >= self.renew_deadline:
                log.warning("lease %s/%s: %s failed to renew within %.1fs; stops leading",
                            self.namespace, self.lease_name, self.identity, self.renew_deadline)
                return

    async def _release(self) -> None:
        """Clears the holder so that a standby need not wait for the lease to expire."""
        lease = self._lease
        if lease is None or self.observed_holder != self.identity:
            return
        now = format_micro_time(self._clock())
        spec = {**lease.get("spec", {}), "holderIdentity": "", "leaseDurationSeconds": 1,
                "acquireTime": now, "renewTime": now}
        try:
            self._lease = await asyncio.wait_for(
                self.client.update(LEASES, {**lease, "spec": spec}, namespace=self.namespace), self.renew_deadline
            )
            log.info("lease %s/%s: %s released the lease", self.namespace, self.lease_name, self.identity)
        except (ApiUnavailable, APIError, TimeoutError) as error:
            log.warning("lease %s/%s: could not release: %r", self.namespace, self.lease_name, error)
