"""The long-running component commands: scheduler, controller-manager, kubelet, proxy, sim-nodes.

Each command parses its flags and runs the component's `main()` coroutine
(`orchestrator/<component>/main.py`) on uvloop until SIGTERM/SIGINT, which cancel
it so that it shuts down cleanly (leases released, watches closed).

Registered on the `orc` app by `cli/main.py`.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from cli.main import setup_logging

KubeconfigOption = Annotated[str | None, typer.Option("--kubeconfig", envvar="KUBECONFIG", help="Path to a kubeconfig.")]
ServerOption = Annotated[str | None, typer.Option("--server", "-s", help="The apiserver URL (overrides the kubeconfig).")]
LeaderElectOption = Annotated[bool, typer.Option("--leader-elect/--no-leader-elect",
                                                 help="Run only while holding the component's Lease.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v")]


def run_component(module_name: str, **options) -> None:
    """Run orchestrator.<module>.main.main(**options) until a signal arrives."""
    import asyncio
    import signal

    module = importlib.import_module(f"orchestrator.{module_name}.main")

    async def supervised() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await module.main(**options)
        except asyncio.CancelledError:
            pass

    try:
        import uvloop

        uvloop.run(supervised())
    except ImportError:
        asyncio.run(supervised())


def _hostname() -> str:
    import socket

    return socket.gethostname()


def register(app: typer.Typer) -> None:
    @app.command("scheduler", help="Bind pending pods to nodes (kube-scheduler's filter and score plugins).")
    def scheduler(
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        leader_elect: LeaderElectOption = True,
        identity: Annotated[str | None, typer.Option(help="Leader-election identity.")] = None,
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging("scheduler", verbose)
        run_component("scheduler", kubeconfig=kubeconfig, server=server, leader_elect=leader_elect,
                      identity=identity or f"{_hostname()}_scheduler")

    @app.command("controller-manager", help="Run the controllers (ReplicaSet, Deployment, Endpoints, GC, ...).")
    def controller_manager(
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        leader_elect: LeaderElectOption = True,
        identity: Annotated[str | None, typer.Option(help="Leader-election identity.")] = None,
        node_monitor_grace_period: Annotated[float, typer.Option(help="Seconds without a heartbeat before a node is NotReady.")] = 40.0,
        pod_eviction_timeout: Annotated[float, typer.Option(help="Seconds a node stays unreachable before its pods are deleted.")] = 300.0,
        horizontal_pod_autoscaler_sync_period: Annotated[float, typer.Option(
            envvar="ORC_HPA_SYNC_PERIOD", help="Seconds between two syncs of each HorizontalPodAutoscaler.")] = 15.0,
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging("controller-manager", verbose)
        run_component("controllers", kubeconfig=kubeconfig, server=server, leader_elect=leader_elect,
                      identity=identity or f"{_hostname()}_controller-manager",
                      node_monitor_grace_period=node_monitor_grace_period, pod_eviction_timeout=pod_eviction_timeout,
                      hpa_sync_period=horizontal_pod_autoscaler_sync_period)

    @app.command("kubelet", help="The node agent: runs the pods bound to this node on the Docker engine.")
    def kubelet(
        node_name: Annotated[str, typer.Option(help="The Node object this kubelet registers and serves.")],
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        cluster_name: Annotated[str, typer.Option(help="Label scoping this cluster's containers on the engine.")] = "orc",
        port: Annotated[int, typer.Option(help="Port of the kubelet's own API (logs).")] = 10250,
        address: Annotated[str, typer.Option(help="Address the kubelet API listens on.")] = "127.0.0.1",
        node_ip: Annotated[str | None, typer.Option(help="InternalIP to report (default: detected).")] = None,
        pod_infra_image: Annotated[str, typer.Option(help="Image of the pod sandbox container.")] = "registry.k8s.io/pause:3.10",
        cluster_dns: Annotated[str | None, typer.Option(envvar="ORC_CLUSTER_DNS",
                                                        help="Cluster DNS address for pods (default 10.96.0.10).")] = None,
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging(f"kubelet[{node_name}]", verbose)
        run_component("kubelet", kubeconfig=kubeconfig, server=server, node_name=node_name, cluster_name=cluster_name,
                      port=port, address=address, node_ip=node_ip, pod_infra_image=pod_infra_image,
                      cluster_dns=cluster_dns)

    @app.command("proxy", help="Per-node service proxy: Service ClusterIP/NodePort -> ready endpoints.")
    def proxy(
        node_name: Annotated[str, typer.Option(help="The node this proxy runs on.")],
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        cluster_name: Annotated[str, typer.Option(help="Cluster name (scopes rules and containers).")] = "orc",
        service_cidr: Annotated[str, typer.Option(help="The Service ClusterIP range.")] = "10.96.0.0/16",
        cluster_dns: Annotated[str | None, typer.Option(help="Cluster DNS Service IP (default 10.96.0.10).")] = None,
        cluster_domain: Annotated[str, typer.Option(help="Cluster DNS domain.")] = "cluster.local",
        dns_port: Annotated[int, typer.Option(help="Port of the node's DNS server (0: pick one).")] = 0,
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging(f"proxy[{node_name}]", verbose)
        run_component("proxy", kubeconfig=kubeconfig, server=server, node_name=node_name, cluster_name=cluster_name,
                      service_cidr=service_cidr, cluster_dns=cluster_dns, cluster_domain=cluster_domain,
                      dns_port=dns_port)

    @app.command("ingress-controller", help="Ingress controller: serves networking.k8s.io/v1 Ingresses with nginx.")
    def ingress_controller(
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        data_dir: Annotated[str, typer.Option(help="nginx prefix: config, TLS files, logs.")] = ".orc/ingress",
        http_port: Annotated[int, typer.Option(help="HTTP port nginx listens on.")] = 80,
        https_port: Annotated[int, typer.Option(help="HTTPS port nginx listens on.")] = 443,
        address: Annotated[str, typer.Option(help="Address written to status.loadBalancer.")] = "127.0.0.1",
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging("ingress-controller", verbose)
        run_component("ingress", kubeconfig=kubeconfig, server=server, data_dir=data_dir, http_port=http_port,
                      https_port=https_port, address=address)

    @app.command("sim-nodes", help="Simulated nodes (like KWOK): register N nodes and run their pods on paper.")
    def sim_nodes(
        count: Annotated[int, typer.Option(help="How many nodes.")] = 3,
        name_prefix: Annotated[str, typer.Option(help="Node names are <prefix>-<i>.")] = "sim",
        cpu: Annotated[str, typer.Option(help="CPU capacity of each node.")] = "4",
        memory: Annotated[str, typer.Option(help="Memory capacity of each node.")] = "16Gi",
        pods: Annotated[int, typer.Option(help="Pod capacity of each node.")] = 110,
        kubeconfig: KubeconfigOption = None,
        server: ServerOption = None,
        verbose: VerboseOption = False,
    ) -> None:
        setup_logging("sim-nodes", verbose)
        run_component("simnodes", kubeconfig=kubeconfig, server=server, count=count, name_prefix=name_prefix,
                      cpu=cpu, memory=memory, pods=pods)

    @app.command("up", help="Run a whole one-machine cluster in the foreground (Ctrl-C stops it).")
    def up(
        data_dir: Annotated[str | None, typer.Option(help="Where the cluster keeps its data (default ~/.orc).")] = None,
        port: Annotated[int, typer.Option(help="The apiserver's port.")] = 6443,
        ingress_http_port: Annotated[int, typer.Option(help="The ingress controller's HTTP port.")] = 80,
        ingress_https_port: Annotated[int, typer.Option(help="The ingress controller's HTTPS port.")] = 443,
    ) -> None:
        from pathlib import Path

        from orchestrator.cluster.up import DEFAULT_DATA_DIR
        from orchestrator.cluster.up import up as run_up

        run_up(data_dir=Path(data_dir) if data_dir else DEFAULT_DATA_DIR, port=port,
               ingress_http_port=ingress_http_port, ingress_https_port=ingress_https_port)

    @app.command("down", help="Remove the containers of the cluster of --data-dir.")
    def down(
        data_dir: Annotated[str | None, typer.Option(help="The cluster's data directory (default ~/.orc).")] = None,
    ) -> None:
        from pathlib import Path

        from orchestrator.cluster.up import DEFAULT_DATA_DIR
        from orchestrator.cluster.up import down as run_down

        run_down(data_dir=Path(data_dir) if data_dir else DEFAULT_DATA_DIR)
