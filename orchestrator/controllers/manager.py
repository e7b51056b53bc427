"""The controller-manager: every controller of this package over one set of shared informers.

`ControllerManager.run()` builds the informers (one per resource, whoever reads it),
lets each controller register its handlers, starts the informers, waits until all of
them have listed, then runs every controller's workers until cancelled. Each run
starts from fresh caches, so a replica that becomes leader again never acts on what
it saw during a previous term.

Used by `main.py` (inside leader election) and by tests that run the controllers in-process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from orchestrator.controllers.base import Clock, Controller, SharedInformers
from orchestrator.controllers.cronjob import CronJobController
from orchestrator.controllers.daemonset import DaemonSetController
from orchestrator.controllers.deployment import DeploymentController
from orchestrator.controllers.endpoints import EndpointsController
from orchestrator.controllers.endpointslice import EndpointSliceMirroringController
from orchestrator.controllers.garbagecollector import GarbageCollector
from orchestrator.controllers.hpa import DEFAULT_SYNC_PERIOD, HorizontalPodAutoscalerController
from orchestrator.controllers.job import JobController
from orchestrator.controllers.job.plan import DEFAULT_POD_FAILURE_BACKOFF
from orchestrator.controllers.namespace import NamespaceController
from orchestrator.controllers.nodelifecycle import NodeLifecycleController
from orchestrator.controllers.persistentvolume import PersistentVolumeController
from orchestrator.controllers.replicaset import ReplicaSetController
from orchestrator.controllers.serviceaccounts import ServiceAccountsController
from orchestrator.controllers.ttlafterfinished import TTLAfterFinishedController

log = logging.getLogger(__name__)


class ControllerManager:
    def __init__(self, client: Any, *, node_monitor_grace_period: float = 40.0, pod_eviction_timeout: float = 300.0,
                 clock: Clock = time.time, job_pod_failure_backoff: float = DEFAULT_POD_FAILURE_BACKOFF,
                 hpa_sync_period: float = DEFAULT_SYNC_PERIOD):
        self.hpa_sync_period = hpa_sync_period
        self.client = client
        self.job_pod_failure_backoff = job_pod_failure_backoff
        self.node_monitor_grace_period = node_monitor_grace_period
        self.pod_eviction_timeout = pod_eviction_timeout
        self.clock = clock
        self.controllers: list[Controller] = []

    def build(self, informers: SharedInformers) -> list[Controller]:
        client = self.client
        return [
            ReplicaSetController(client, informers, clock=self.clock),
            DeploymentController(client, informers, clock=self.clock),
            JobController(client, informers, clock=self.clock, pod_failure_backoff=self.job_pod_failure_backoff),
            TTLAfterFinishedController(client, informers, clock=self.clock),
            CronJobController(client, informers, clock=self.clock),
            DaemonSetController(client, informers, clock=self.clock),
            EndpointsController(client, informers),
            EndpointSliceMirroringController(client, informers),
            NodeLifecycleController(client, informers, node_monitor_grace_period=self.node_monitor_grace_period,
                                    pod_eviction_timeout=self.pod_eviction_timeout, clock=self.clock),
            GarbageCollector(client, informers),
            NamespaceController(client, informers, clock=self.clock),
            ServiceAccountsController(client, informers),
            HorizontalPodAutoscalerController(client, informers, clock=self.clock, sync_period=self.hpa_sync_period),
            PersistentVolumeController(client, informers, clock=self.clock),
        ]

    async def run(self) -> None:
        informers = SharedInformers(self.client)
        self.controllers = self.build(informers)
        caches = asyncio.create_task(informers.run(), name="informers")
        tasks: list[asyncio.Task] = []
        try:
            synced = asyncio.create_task(informers.wait_synced())
            await asyncio.wait((synced, caches), return_when=asyncio.FIRST_COMPLETED)
            if not synced.done():
                synced.cancel()
                caches.result()  # the informers ended before syncing: raise why
                raise RuntimeError("informers stopped before they synced")
            log.info("caches of %s synced; starting %d controllers",
                     ", ".join(i.resource.plural for i in informers.informers), len(self.controllers))
            tasks = [asyncio.create_task(c.run(), name=f"controller-{c.name}") for c in self.controllers]
            await asyncio.gather(caches, *tasks)
        finally:
            for task in [*tasks, caches]:
                task.cancel()
            await asyncio.gather(*tasks, caches, return_exceptions=True)
            log.info("controllers stopped")
