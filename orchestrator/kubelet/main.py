"""`orc kubelet --node-name N`: the node agent, wired together and run until cancelled.

Start-up order matters for restart safety: the kubelet API starts listening, the
Node is registered (or taken over), the pod informer (fieldSelector
spec.nodeName=N) syncs, the containers of pods that no longer exist are removed,
and only then do pod workers start — they find and adopt the containers a previous
kubelet left running instead of starting duplicates. Heartbeats (Lease, Node
status), the Docker event stream and housekeeping run beside them.

On cancellation (SIGTERM via cli/components.py) everything stops but the pods'
containers keep running, exactly like a restart of a real kubelet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from orchestrator.apiserver.allocators import ServiceNetwork
from orchestrator.client.config import ClientConfig, load_client_config
from orchestrator.client.events import EventRecorder
from orchestrator.client.informer import Informer
from orchestrator.client.resources import PODS, SERVICES
from orchestrator.client.rest import ApiClient
from orchestrator.kubelet.node import NodeAgent, detect_node_ip
from orchestrator.kubelet.podworker import NodeSettings, PodWorkerContext, PodWorkers
from orchestrator.kubelet.probes import ProbeManager
from orchestrator.kubelet.runtime import DockerRuntime, DockerRuntimeError
from orchestrator.kubelet.server import TOKEN_ENV, KubeletServer
from orchestrator.kubelet.status import StatusWriter
from orchestrator.kubelet.volumes import VolumeManager, kubelet_root

log = logging.getLogger(__name__)

CLUSTER_DNS_ENV = "ORC_CLUSTER_DNS"
# Docker's SDK blocks: its calls run on threads, and one node starts dozens of pods at once.
IO_THREADS = 32
SHUTDOWN_FLUSH_SECONDS = 2.0


def listen_addresses(address: str, host_ip: str) -> list[str]:
    """Where the kubelet API listens: `address`, plus the node's InternalIP when `address` would not cover it.

    The apiserver reaches the kubelet at its InternalIP; a kubelet told to listen on
    loopback but reporting another address would otherwise be unreachable for `kubectl logs`.
    """
    addresses = [address]
    if address in ("0.0.0.0", "::", ""):
        return addresses
    try:
        if ipaddress.ip_address(host_ip) != ipaddress.ip_address(address):
            addresses.append(host_ip)
    except ValueError:
        pass
    return addresses


class Kubelet:
    """One node agent: its Node, its pods, its API."""

    def __init__(
        self,
        *,
        config: ClientConfig,
        node_name: str,
        cluster_name: str,
        port: int,
        address: str,
        node_ip: str | None,
        pod_infra_image: str,
        cluster_dns: list[str],
    ) -> None:
        self.config = config
        self.node_name = node_name
        self.cluster_name = cluster_name
        self.port = port
        self.address = address
        self.host_ip = node_ip or detect_node_ip()
        self.pod_infra_image = pod_infra_image
        self.cluster_dns = cluster_dns

    async def run(self) -> None:
        """Run until cancelled; on the way out stop everything but the pods' containers."""
        runtime = DockerRuntime(cluster=self.cluster_name, node=self.node_name)
        client = ApiClient(self.config)
        recorder = EventRecorder(client, component="kubelet", host=self.node_name)
        node_agent = NodeAgent(client=client, runtime=runtime, node_name=self.node_name, host_ip=self.host_ip,
                               port=self.port, data_dir=kubelet_root(self.cluster_name, self.node_name),
                               recorder=recorder)
        pods = Informer(client, PODS, field_selector=f"spec.nodeName={self.node_name}")
        services = Informer(client, SERVICES)  # for the pods' <SVC>_SERVICE_HOST variables
        status_writer = StatusWriter(client)
        # A changed probe result wakes the pod's worker (`workers` is bound below, before any probe runs).
        probes = ProbeManager(runtime=runtime, recorder=recorder, on_change=lambda uid: workers.wake(uid))
        context = PodWorkerContext(
            settings=NodeSettings(node_name=self.node_name, cluster_name=self.cluster_name, host_ip=self.host_ip,
                                  pod_infra_image=self.pod_infra_image, cluster_dns=tuple(self.cluster_dns)),
            runtime=runtime, client=client, pods=pods, services=services.list, recorder=recorder,
            status_writer=status_writer, probes=probes,
            volumes=VolumeManager(root=kubelet_root(self.cluster_name, self.node_name)),
            pod_cidr=lambda: node_agent.pod_cidr,
            report_pod_cidr=node_agent.report_pod_cidr, node_allocatable=lambda: node_agent.allocatable,
        )
        workers = PodWorkers(context)
        server = KubeletServer(runtime=runtime, pods=pods, statuses=workers.status_of, node_name=self.node_name,
                               token=os.environ.get(TOKEN_ENV) or None)
        tasks: list[asyncio.Task] = []
        try:
            await server.start(addresses=listen_addresses(self.address, self.host_ip), port=self.port)
            await node_agent.register()
            tasks.append(asyncio.create_task(node_agent.run(), name="node-heartbeats"))
            from orchestrator.kubelet.localpath import LocalPathVolumes, local_path_root

            local_path = LocalPathVolumes(client, node_name=self.node_name,
                                          root=local_path_root(kubelet_root(self.cluster_name, self.node_name)))
            tasks.append(asyncio.create_task(local_path.run(), name="local-path-volumes"))
            tasks.append(asyncio.create_task(pods.run(), name="pod-informer"))
            tasks.append(asyncio.create_task(services.run(), name="service-informer"))
            await pods.wait_synced()
            await services.wait_synced()
            await self._remove_orphans(workers)
            pods.add_handler(on_add=workers.on_pod_add, on_update=workers.on_pod_update,
                             on_delete=workers.on_pod_delete)
            tasks.append(asyncio.create_task(workers.watch_docker_events(), name="docker-events"))
            tasks.append(asyncio.create_task(workers.housekeeping(), name="housekeeping"))
            log.info("kubelet of node %s (cluster %s) running %d pod(s), InternalIP %s, API port %d",
                     self.node_name, self.cluster_name, len(workers), self.host_ip, self.port)
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await workers.stop()
            await _bounded(status_writer.flush(SHUTDOWN_FLUSH_SECONDS))
            await status_writer.close()
            await _bounded(recorder.flush())
            await probes.close()
            await server.stop()
            await client.close()
            await runtime.close()
            log.info("kubelet of node %s stopped; its pods' containers keep running", self.node_name)

    async def _remove_orphans(self, workers: PodWorkers) -> None:
        delay = 0.5
        while True:
            try:
                removed = await workers.remove_orphans()
                if removed:
                    log.info("removed the containers of %d pod(s) that no longer exist", removed)
                return
            except DockerRuntimeError as error:
                log.warning("cannot list this node's containers, retrying in %.1fs: %s", delay, error.message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


async def _bounded(awaitable, timeout: float = SHUTDOWN_FLUSH_SECONDS) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)
    except (TimeoutError, Exception):  # noqa: BLE001 - shutting down: nothing left to report to
        pass


async def main(
    *,
    kubeconfig: str | None,
    server: str | None,
    node_name: str,
    cluster_name: str,
    port: int,
    address: str,
    node_ip: str | None,
    pod_infra_image: str,
    cluster_dns: str | None = None,
) -> None:
    """The `orc kubelet` entry point (cli/components.py runs it until SIGTERM).

    `cluster_dns` (comma-separated; default `$ORC_CLUSTER_DNS`, else the Service
    range's tenth address 10.96.0.10, which the proxy serves) is the nameserver of
    ClusterFirst pods; an empty string leaves pods the host's resolvers.
    """
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    if cluster_dns is None:
        cluster_dns = os.environ.get(CLUSTER_DNS_ENV, ServiceNetwork().dns_service_ip())
    nameservers = [address.strip() for address in cluster_dns.split(",") if address.strip()]
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="kubelet-io"))
    kubelet = Kubelet(config=config, node_name=node_name, cluster_name=cluster_name, port=port, address=address,
                      node_ip=node_ip, pod_infra_image=pod_infra_image, cluster_dns=nameservers)
    await kubelet.run()
