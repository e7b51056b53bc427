"""Entry point of `orc controller-manager` (see cli/components.py).

Builds the apiserver client from the kubeconfig (or --server) and runs the
`ControllerManager`, under leader election on the Lease `kube-system/kube-controller-manager`
when asked: of several replicas only the holder runs controllers. A replica that loses
the lease stops its controllers and campaigns again, starting from fresh caches if it
wins (kube-controller-manager exits instead and relies on a supervisor to restart it;
`orc up` has none). Cancellation (SIGTERM) stops the controllers and releases the lease.
"""

from __future__ import annotations

import logging

from orchestrator.client.config import load_client_config
from orchestrator.client.leaderelection import LeaderElector
from orchestrator.client.rest import ApiClient
from orchestrator.controllers.hpa import DEFAULT_SYNC_PERIOD
from orchestrator.controllers.manager import ControllerManager

log = logging.getLogger(__name__)

LEASE_NAME = "kube-controller-manager"
LEASE_NAMESPACE = "kube-system"


async def main(*, kubeconfig: str | None, server: str | None, leader_elect: bool, identity: str,
               node_monitor_grace_period: float, pod_eviction_timeout: float,
               hpa_sync_period: float = DEFAULT_SYNC_PERIOD) -> None:
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    async with ApiClient(config) as client:
        manager = ControllerManager(client, node_monitor_grace_period=node_monitor_grace_period,
                                    pod_eviction_timeout=pod_eviction_timeout, hpa_sync_period=hpa_sync_period)
        if not leader_elect:
            log.info("controller-manager %s starting without leader election", identity)
            await manager.run()
            return
        elector = LeaderElector(client, lease_name=LEASE_NAME, namespace=LEASE_NAMESPACE, identity=identity)
        while True:
            await elector.run(manager.run, lambda: log.warning("controller-manager %s stopped leading", identity))
