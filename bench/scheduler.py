"""Scheduler benchmark (issue 3): kube-scheduler_perf's SchedulingBasic shape, through the real
apiserver and etcd.

Starts etcd (tmpfs), a secure apiserver and `orc scheduler` as child processes, registers N
Node objects directly (4 cpu, 32Gi, 110 pods each, as scheduler_perf's node template; no
kubelets or heartbeats: they play no part in the measurement), then creates P pending pods
(requests 100m cpu / 128Mi) as fast as 32 concurrent aiohttp clients can, and measures, through
a watch, the time from the first creation to the last pod bound. Prints pods/s (Kubernetes'
floor for 5,000 nodes / 10,000 pods is 270 pods/s) and the peak RSS (VmHWM) of the scheduler
and the apiserver, and records everything in bench/results/scheduler.json.

    .venv/bin/python bench/scheduler.py                        # quick: 500 nodes, 2,000 pods
    .venv/bin/python bench/scheduler.py --nodes 5000 --pods 10000
    .venv/bin/python bench/scheduler.py --all                  # 500/2000, 1000/10000, 5000/10000

Everything listens on loopback; every load is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import ssl
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.cluster.etcd import EtcdProcess  # noqa: E402
from orchestrator.cluster.processes import ComponentProcess, SecureApiServer  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "scheduler.json"
KUBERNETES_FLOOR_PODS_PER_SECOND = 270  # scheduler_perf SchedulingBasic/5000Nodes_10000Pods
CONCURRENCY = 32
SHAPES = [(500, 2000), (1000, 10000), (5000, 10000)]
NAMESPACE = "default"


def peak_rss_mib(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def new_node(name: str) -> dict:
    resources = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "status": {"capacity": resources, "allocatable": resources,
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                   "message": "kubelet is posting ready status"}]},
    }


def new_pod(name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
    }


async def create_all(session: aiohttp.ClientSession, url: str, bodies: list[dict]) -> None:
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:
            async with session.post(url, data=orjson.dumps(body)) as response:
                if response.status >= 400:
                    raise RuntimeError(f"POST {url}: {response.status} {await response.text()}")
                await response.read()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def watch_until_bound(session: aiohttp.ClientSession, base: str, *, resource_version: str, total: int,
                            started: asyncio.Event, deadline: float) -> float:
    """Streams pod events; returns the monotonic time at which the last of `total` pods was bound."""
    bound: set[str] = set()
    params = {"watch": "1", "resourceVersion": resource_version, "timeoutSeconds": str(int(deadline))}
    timeout = aiohttp.ClientTimeout(total=deadline + 30)
    async with session.get(f"{base}/api/v1/namespaces/{NAMESPACE}/pods", params=params, timeout=timeout) as response:
        started.set()
        buffer = b""
        async for chunk in response.content.iter_any():
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if b'"nodeName"' not in line:  # cheap pre-filter: most events are of pending pods
                    continue
                event = orjson.loads(line)
                pod = event.get("object") or {}
                if (pod.get("spec") or {}).get("nodeName"):
                    bound.add(pod["metadata"]["name"])
            if len(bound) >= total:
                return time.monotonic()
    raise RuntimeError(f"only {len(bound)} of {total} pods were bound within {deadline:.0f}s")


def wait_for_log(process: ComponentProcess, text: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        if text in process.log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not log {text!r} within {timeout}s:\n{process.log_tail()}")


async def measure(apiserver: SecureApiServer, scheduler: ComponentProcess, *, nodes: int, pods: int) -> dict:
    ssl_context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    headers = {"Authorization": f"Bearer {apiserver.tokens['admin']}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY + 4, ssl=ssl_context)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        base = apiserver.url
        node_start = time.monotonic()
        await create_all(session, f"{base}/api/v1/nodes", [new_node(f"node-{i}") for i in range(nodes)])
        node_seconds = time.monotonic() - node_start
        print(f"  registered {nodes} nodes in {node_seconds:.1f}s", flush=True)

        scheduler.start()
        await asyncio.to_thread(wait_for_log, scheduler, f"caches synced: {nodes} nodes", timeout=120)
        await asyncio.to_thread(wait_for_log, scheduler, "became leader", timeout=60)

        async with session.get(f"{base}/api/v1/namespaces/{NAMESPACE}/pods", params={"limit": "1"}) as response:
            resource_version = (await response.json())["metadata"]["resourceVersion"]
        deadline = max(120.0, pods / 20)  # generous: 20 pods/s would be a failure anyway
        watching = asyncio.Event()
        watcher = asyncio.create_task(watch_until_bound(session, base, resource_version=resource_version,
                                                        total=pods, started=watching, deadline=deadline))
        await watching.wait()
        start = time.monotonic()
        await create_all(session, f"{base}/api/v1/namespaces/{NAMESPACE}/pods",
                         [new_pod(f"pod-{i}") for i in range(pods)])
        created = time.monotonic()
        all_bound = await watcher
    elapsed = all_bound - start
    return {
        "nodes": nodes,
        "pods": pods,
        "seconds_to_all_bound": round(elapsed, 2),
        "pods_per_second": round(pods / elapsed, 1),
        "creation_pods_per_second": round(pods / (created - start), 1),
        "scheduler_peak_rss_mib": peak_rss_mib(scheduler.process.pid if scheduler.process else None),
        "apiserver_peak_rss_mib": peak_rss_mib(apiserver.process.process.pid if apiserver.process else None),
        "node_registration_seconds": round(node_seconds, 1),
    }


def run_shape(*, nodes: int, pods: int, work_dir: Path) -> dict:
    etcd = EtcdProcess(work_dir / "etcd", fast=True)
    etcd.start()
    apiserver = SecureApiServer(data_dir=work_dir / "apiserver", etcd_url=etcd.client_url,
                                etcd_prefix=f"/bench-{uuid.uuid4().hex[:8]}")
    scheduler = None
    try:
        apiserver.start()
        kubeconfig = apiserver.component_kubeconfig("system:kube-scheduler")
        scheduler = ComponentProcess("scheduler", ["scheduler", "--kubeconfig", str(kubeconfig)],
                                     log_path=work_dir / "logs" / "scheduler.log")
        result = asyncio.run(measure(apiserver, scheduler, nodes=nodes, pods=pods))
        result["etcd_peak_rss_mib"] = peak_rss_mib(etcd.pid)
        return result
    finally:
        if scheduler is not None:
            scheduler.stop()
        apiserver.stop()
        etcd.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--all", action="store_true", help="run every shape of the README table")
    arguments = parser.parse_args()
    shapes = SHAPES if arguments.all else [(arguments.nodes, arguments.pods)]

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("shapes", {})
    for nodes, pods in shapes:
        print(f"{nodes} nodes, {pods} pods:", flush=True)
        with tempfile.TemporaryDirectory(prefix="orc-bench-scheduler-") as directory:
            result = run_shape(nodes=nodes, pods=pods, work_dir=Path(directory))
        result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        results["shapes"][f"{nodes}nodes_{pods}pods"] = result
        verdict = "meets" if result["pods_per_second"] >= KUBERNETES_FLOOR_PODS_PER_SECOND else "below"
        print(f"  {result['pods_per_second']} pods/s ({verdict} Kubernetes' {KUBERNETES_FLOOR_PODS_PER_SECOND} "
              f"floor), all bound in {result['seconds_to_all_bound']}s; pods created at "
              f"{result['creation_pods_per_second']}/s; peak RSS scheduler {result['scheduler_peak_rss_mib']} MiB, "
              f"apiserver {result['apiserver_peak_rss_mib']} MiB, etcd {result['etcd_peak_rss_mib']} MiB", flush=True)
    results["machine"] = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    results["kubernetes_floor_pods_per_second"] = KUBERNETES_FLOOR_PODS_PER_SECOND
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
