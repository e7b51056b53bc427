"""Scheduler benchmark (issue 3): kube-scheduler_perf's SchedulingBasic shape, through the real
apiserver and etcd.

Starts etcd (tmpfs), a secure apiserver and `orc scheduler` as child processes, registers N
Node objects directly (4 cpu, 32Gi, 110 pods each, as scheduler_perf's node template; no
kubelets or heartbeats: they play no part in the measurement), then creates P pending pods
(requests 100m cpu / 128Mi) as fast as 32 concurrent aiohttp clients can, and measures, through
a watch, the time from the first creation to the last pod bound. Prints pods/s (Kubernetes'
floor for 5,000 nodes / 10,000 pods is 270 pods/s) and the peak RSS (VmHWM) of the scheduler
and the apiserver. Then, as the baseline of the same run, the scheduler is stopped and the
client creates and binds pods itself: the apiserver's ceiling for any scheduler on this machine.
Everything is recorded in bench/results/scheduler.json.

    .venv/bin/python bench/scheduler.py                        # quick: 500 nodes, 2,000 pods
    .venv/bin/python bench/scheduler.py --nodes 5000 --pods 10000
    .venv/bin/python bench/scheduler.py --all                  # 500/2000, 1000/10000, 5000/10000
    .venv/bin/python bench/scheduler.py --profile /tmp/prof    # + py-spy flame graphs of both processes

Everything listens on loopback; every load is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import ssl
import subprocess
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
BASELINE_NAMESPACE = "baseline"


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


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time the process has used so far (from /proc/<pid>/stat)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


class Profiler:
    """py-spy flame graphs of the scheduler and the apiserver while the pods are scheduled (optional:
    `pip install py-spy`)."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._recorders: list[subprocess.Popen] = []

    def start(self, pids: dict[str, int | None]) -> None:
        if self.directory is None:
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(py_spy).exists():
            print("  (py-spy is not installed: no profile)", flush=True)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            if pid is not None:
                self._recorders.append(subprocess.Popen(
                    [py_spy, "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
                     "--output", str(self.directory / f"{name}.svg")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for recorder in self._recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes the flame graph on SIGINT
        for recorder in self._recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
        if self._recorders:
            print(f"  flame graphs in {self.directory}", flush=True)


def wait_for_log(process: ComponentProcess, text: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        if text in process.log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not log {text!r} within {timeout}s:\n{process.log_tail()}")


async def measure(apiserver: SecureApiServer, scheduler: ComponentProcess, *, nodes: int, pods: int,
                  profiler: Profiler, etcd_pid: int | None) -> dict:
    async with new_session(apiserver) as session:
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
        pids = {"scheduler": scheduler.process.pid, "apiserver": apiserver.process.process.pid, "etcd": etcd_pid}
        profiler.start({name: pid for name, pid in pids.items() if name != "etcd"})
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        start = time.monotonic()
        try:
            await create_all(session, f"{base}/api/v1/namespaces/{NAMESPACE}/pods",
                             [new_pod(f"pod-{i}") for i in range(pods)])
            created = time.monotonic()
            all_bound = await watcher
        finally:
            profiler.stop()
        # CPU per pod tells which process limits the rate on this 2-core machine, whatever else runs on it.
        cpu_ms_per_pod = {name: round(1000 * (cpu_seconds(pid) - cpu_before[name]) / pods, 2)
                          for name, pid in pids.items()}
        elapsed = all_bound - start
        result = {
            "nodes": nodes,
            "pods": pods,
            "seconds_to_all_bound": round(elapsed, 2),
            "pods_per_second": round(pods / elapsed, 1),
            "creation_pods_per_second": round(pods / (created - start), 1),
            "scheduler_peak_rss_mib": peak_rss_mib(scheduler.process.pid if scheduler.process else None),
            "apiserver_peak_rss_mib": peak_rss_mib(apiserver.process.process.pid if apiserver.process else None),
            "node_registration_seconds": round(node_seconds, 1),
            "cpu_ms_per_pod": cpu_ms_per_pod,
        }
        # Baseline of the same run: the apiserver's own ceiling for "create a pod, bind it" with the
        # binding POSTed by this client at once (no scheduler, no events): what any scheduler is capped by.
        await asyncio.to_thread(scheduler.stop)
    # A fresh session: the server may have closed the idle keep-alive connections meanwhile.
    async with new_session(apiserver) as session:
        baseline_pods = min(pods, 5000)
        baseline_start = time.monotonic()
        await create_and_bind_all(session, base, pods=baseline_pods, nodes=nodes)
        baseline = baseline_pods / (time.monotonic() - baseline_start)
        result["baseline_create_and_bind_pods_per_second"] = round(baseline, 1)
        result["share_of_baseline"] = round(result["pods_per_second"] / baseline, 2)
        return result


def new_session(apiserver: SecureApiServer) -> aiohttp.ClientSession:
    ssl_context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    headers = {"Authorization": f"Bearer {apiserver.tokens['admin']}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY + 4, ssl=ssl_context)
    return aiohttp.ClientSession(connector=connector, headers=headers)


async def create_and_bind_all(session: aiohttp.ClientSession, base: str, *, pods: int, nodes: int) -> None:
    namespace_url = f"{base}/api/v1/namespaces/{BASELINE_NAMESPACE}/pods"
    async with session.post(f"{base}/api/v1/namespaces",
                            data=orjson.dumps({"metadata": {"name": BASELINE_NAMESPACE}})) as response:
        await response.read()
    names = iter(range(pods))

    async def worker() -> None:
        for index in names:
            body = new_pod(f"baseline-{index}")
            body["metadata"]["namespace"] = BASELINE_NAMESPACE
            async with session.post(namespace_url, data=orjson.dumps(body)) as response:
                if response.status >= 400:
                    raise RuntimeError(f"baseline pod: {response.status} {await response.text()}")
                await response.read()
            binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": f"baseline-{index}"},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": f"node-{index % nodes}"}}
            async with session.post(f"{namespace_url}/baseline-{index}/binding", data=orjson.dumps(binding)) as response:
                if response.status >= 400:
                    raise RuntimeError(f"baseline binding: {response.status} {await response.text()}")
                await response.read()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def run_shape(*, nodes: int, pods: int, work_dir: Path, profile_dir: Path | None) -> dict:
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
        profiler = Profiler(profile_dir / f"{nodes}nodes_{pods}pods" if profile_dir else None)
        result = asyncio.run(measure(apiserver, scheduler, nodes=nodes, pods=pods, profiler=profiler,
                                     etcd_pid=etcd.pid))
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
    parser.add_argument("--profile", type=Path, metavar="DIR", help="write py-spy flame graphs into DIR")
    arguments = parser.parse_args()
    shapes = SHAPES if arguments.all else [(arguments.nodes, arguments.pods)]

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("shapes", {})
    for nodes, pods in shapes:
        print(f"{nodes} nodes, {pods} pods:", flush=True)
        with tempfile.TemporaryDirectory(prefix="orc-bench-scheduler-") as directory:
            result = run_shape(nodes=nodes, pods=pods, work_dir=Path(directory), profile_dir=arguments.profile)
        result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        results["shapes"][f"{nodes}nodes_{pods}pods"] = result
        verdict = "meets" if result["pods_per_second"] >= KUBERNETES_FLOOR_PODS_PER_SECOND else "below"
        print(f"  {result['pods_per_second']} pods/s ({verdict} Kubernetes' {KUBERNETES_FLOOR_PODS_PER_SECOND} "
              f"floor), all bound in {result['seconds_to_all_bound']}s; pods created at "
              f"{result['creation_pods_per_second']}/s; peak RSS scheduler {result['scheduler_peak_rss_mib']} MiB, "
              f"apiserver {result['apiserver_peak_rss_mib']} MiB, etcd {result['etcd_peak_rss_mib']} MiB", flush=True)
        print(f"  CPU per pod (ms): {result['cpu_ms_per_pod']}", flush=True)
        print(f"  baseline (same run, no scheduler: the client creates and binds each pod itself): "
              f"{result['baseline_create_and_bind_pods_per_second']} pods/s; the scheduler reaches "
              f"{result['share_of_baseline']:.0%} of it", flush=True)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    results["kubernetes_floor_pods_per_second"] = KUBERNETES_FLOOR_PODS_PER_SECOND
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
