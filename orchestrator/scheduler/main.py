"""`orc scheduler`: connect, fill the caches, (optionally) win the `kube-scheduler` Lease, schedule.

Like kube-scheduler, the informers start before leader election so that a standby that takes
over has warm caches; only the leader runs the scheduling loop. Losing the lease ends the
process (as kube-scheduler exits on "leaderelection lost"), and SIGTERM stops it cleanly
(the Lease is released so a standby takes over at once). Called by cli/components.py.
"""

from __future__ import annotations

import asyncio
import logging

from orchestrator.client.config import load_client_config
from orchestrator.client.events import EventRecorder
from orchestrator.client.informer import Informer
from orchestrator.client.leaderelection import LeaderElector
from orchestrator.client.resources import NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES
from orchestrator.client.rest import ApiClient
from orchestrator.scheduler.framework import DEFAULT_SCHEDULER_NAME
from orchestrator.scheduler.scheduler import DEFAULT_BIND_CONCURRENCY, Scheduler

log = logging.getLogger(__name__)

LEASE_NAME = "kube-scheduler"
LEASE_NAMESPACE = "kube-system"
# Finished pods hold no resources; the apiserver turns a pod that finishes into a DELETED event.
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"
# Events are a courtesy: a small pool of their own keeps them from delaying bindings.
EVENT_CONNECTIONS = 4
EVENT_FLUSH_SECONDS = 5.0


async def main(*, kubeconfig: str | None, server: str | None, leader_elect: bool, identity: str) -> None:
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    client = ApiClient(config, pool_limit=DEFAULT_BIND_CONCURRENCY + 8)
    events_client = ApiClient(config, pool_limit=EVENT_CONNECTIONS)
    recorder = EventRecorder(events_client, component=DEFAULT_SCHEDULER_NAME)
    scheduler = Scheduler(client, recorder=recorder)
    pods = Informer(client, PODS, field_selector=POD_FIELD_SELECTOR)
    nodes = Informer(client, NODES)
    scheduler.attach(pods, nodes)
    volume_informers = [Informer(client, resource) for resource in (PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES,
                                                                    STORAGECLASSES)]
    scheduler.attach_volumes(*volume_informers)
    informer_tasks = [asyncio.create_task(informer.run()) for informer in (pods, nodes, *volume_informers)]

    async def schedule() -> None:
        await asyncio.gather(pods.wait_synced(), nodes.wait_synced(), *(i.wait_synced() for i in volume_informers))
        log.info("caches synced: %d nodes; scheduling", scheduler.cache.node_count)
        await scheduler.run()

    try:
        if leader_elect:
            elector = LeaderElector(client, lease_name=LEASE_NAME, namespace=LEASE_NAMESPACE, identity=identity)
            await elector.run(schedule, lambda: log.warning("%s stopped leading", identity))
            log.error("leader election lost; exiting")
        else:
            await schedule()
    finally:
        for task in informer_tasks:
            task.cancel()
        await asyncio.gather(*informer_tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(recorder.flush(), EVENT_FLUSH_SECONDS)
        except TimeoutError:
            log.info("gave up on the last events")
        await client.close()
        await events_client.close()
