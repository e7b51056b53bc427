"""`orc sim-nodes`: run N simulated nodes against the apiserver until SIGTERM.

The nodes stay registered when the process stops (their leases then expire and the node
lifecycle controller marks them NotReady), as when real kubelets die. Called by
cli/components.py.
"""

from __future__ import annotations

from orchestrator.client.config import load_client_config
from orchestrator.client.rest import ApiClient
from orchestrator.simnodes.simulator import DEFAULT_CONCURRENCY, SimulatedNodes


async def main(*, kubeconfig: str | None, server: str | None, count: int, name_prefix: str, cpu: str, memory: str,
               pods: int) -> None:
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    async with ApiClient(config, pool_limit=DEFAULT_CONCURRENCY + 8) as client:
        simulator = SimulatedNodes(client, count=count, name_prefix=name_prefix, cpu=cpu, memory=memory, pods=pods)
        await simulator.run()
