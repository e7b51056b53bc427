"""Pod start-up benchmark (issue 4): our Deployment against raw `docker run` and Docker Swarm.

In one run, on the same engine and the same image (echo:v1):
  * raw: `docker run -d` of N containers, 8 at a time (the engine's practical limit), until all run;
  * swarm: `docker service create --replicas N` until N/N tasks run (a one-node swarm on this engine,
    left again afterwards);
  * ours: a Deployment of N replicas on an `orc up` cluster until N pods are Running and Ready;
for N = 20 and 50; plus pod start-up latency (one pod every 2 s, creation -> Ready seen by watch,
p50/p99) and the kubelet's RSS with 50 pods. Writes bench/results/startup.json.

    .venv/bin/python bench/startup.py [--sizes 20,50] [--no-swarm]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.client.config import load_client_config  # noqa: E402
from orchestrator.client.resources import DEPLOYMENTS, PODS  # noqa: E402
from orchestrator.client.rest import ApiClient  # noqa: E402
from orchestrator.cluster.ports import free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
IMAGE = "echo:v1"


def sh(*args: str, check: bool = True) -> str:
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {result.stderr}")
    return result.stdout


def raw_docker_run(count: int) -> float:
    label = f"orc.bench={uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: sh("docker", "run", "-d", "--label", label, IMAGE), range(count)))
    elapsed = time.perf_counter() - start
    ids = sh("docker", "ps", "-aq", "--filter", f"label={label}").split()
    if ids:
        sh("docker", "rm", "-f", *ids)
    return elapsed


def swarm_service(count: int) -> float | None:
    joined_here = sh("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").strip() != "active"
    if joined_here and subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"],
                                      capture_output=True).returncode != 0:
        return None
    name = f"orcbench{uuid.uuid4().hex[:6]}"
    try:
        start = time.perf_counter()
        sh("docker", "service", "create", "--detach", "--no-resolve-image", "--name", name, "--replicas", str(count),
           IMAGE)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            replicas = sh("docker", "service", "ls", "--filter", f"name={name}", "--format", "{{.Replicas}}").strip()
            if replicas == f"{count}/{count}":
                return time.perf_counter() - start
            time.sleep(0.2)
        return None
    finally:
        subprocess.run(["docker", "service", "rm", name], capture_output=True)
        time.sleep(2)
        if joined_here:
            subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True)


class Cluster:
    """`orc up` in a temporary directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--data-dir", str(directory),
                                         "--port", str(free_port())], cwd=REPO, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        self.kubeconfig = directory / "kubeconfig"

    async def wait_ready(self, api: ApiClient) -> None:
        from orchestrator.client.resources import NODES

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                nodes = (await api.list(NODES))["items"]
                if nodes and all(c["status"] == "True" for n in nodes for c in n["status"].get("conditions", [])
                                 if c["type"] == "Ready"):
                    return
            except Exception:  # not up yet
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError("cluster did not become ready")

    def kubelet_rss_mib(self) -> float:
        for pid in sh("pgrep", "-f", f"cli.main kubelet .*{self.directory}", check=False).split() or \
                sh("pgrep", "-f", "cli.main kubelet", check=False).split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_text()
                if str(self.directory) not in cmdline:
                    continue
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
            except OSError:
                continue
        return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        subprocess.run([sys.executable, "-m", "cli.main", "down", "--data-dir", str(self.directory)], cwd=REPO,
                       capture_output=True)


def deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "echo", "image": IMAGE}]}}}}


async def our_deployment(api: ApiClient, count: int) -> float:
    name = f"bench-{count}-{uuid.uuid4().hex[:4]}"
    start = time.perf_counter()
    await api.create(DEPLOYMENTS, deployment(name, count), namespace="default")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = (await api.get(DEPLOYMENTS, name, namespace="default")).get("status", {})
        if status.get("readyReplicas") == count:
            return time.perf_counter() - start
        await asyncio.sleep(0.1)
    raise RuntimeError(f"deployment {name} did not become ready")


async def delete_all(api: ApiClient) -> None:
    for item in (await api.list(DEPLOYMENTS, namespace="default"))["items"]:
        await api.delete(DEPLOYMENTS, item["metadata"]["name"], namespace="default", propagation_policy="Foreground")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (await api.list(PODS, namespace="default"))["items"]:
        await asyncio.sleep(0.5)


async def pod_latency(api: ApiClient, count: int) -> dict:
    latencies: list[float] = []
    created: dict[str, float] = {}
    listed = await api.list(PODS, namespace="default")

    async def watch():
        async for event in api.watch(PODS, namespace="default", resource_version=listed["metadata"]["resourceVersion"],
                                     timeout_seconds=120):
            obj = event.object
            name = obj.get("metadata", {}).get("name")
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get(
                "conditions", []))
            if name in created and ready:
                latencies.append(time.perf_counter() - created.pop(name))
                if len(latencies) == count:
                    return

    watcher = asyncio.create_task(watch())
    for i in range(count):
        name = f"latency-{i}-{uuid.uuid4().hex[:4]}"
        created[name] = time.perf_counter()
        await api.create(PODS, {"metadata": {"name": name}, "spec": {
            "terminationGracePeriodSeconds": 1, "containers": [{"name": "echo", "image": IMAGE}]}},
            namespace="default")
        await asyncio.sleep(2)
    await asyncio.wait_for(watcher, 120)
    latencies.sort()
    for pod in (await api.list(PODS, namespace="default"))["items"]:
        await api.delete(PODS, pod["metadata"]["name"], namespace="default")
    return {"pods": count, "p50_s": latencies[len(latencies) // 2], "p99_s": latencies[int(len(latencies) * 0.99)]}


async def run(sizes: list[int], swarm: bool) -> dict:
    from orchestrator.cluster.images import ensure_images

    ensure_images()
    results: dict = {"sizes": {}, "machine": {"cpus": os.cpu_count()}}
    for count in sizes:
        results["sizes"][str(count)] = {"raw_docker_run_s": raw_docker_run(count)}
        if swarm:
            results["sizes"][str(count)]["swarm_s"] = swarm_service(count)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(Path(tmp))
        try:
            deadline = time.monotonic() + 60
            while not cluster.kubeconfig.exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            async with ApiClient(load_client_config(kubeconfig=str(cluster.kubeconfig))) as api:
                await cluster.wait_ready(api)
                for count in sizes:
                    figures = results["sizes"][str(count)]
                    figures["orc_s"] = await our_deployment(api, count)
                    if count == max(sizes):
                        results["kubelet_rss_mib_with_pods"] = {"pods": count, "rss_mib": cluster.kubelet_rss_mib()}
                    await delete_all(api)
                    figures["orc_vs_raw"] = figures["orc_s"] / figures["raw_docker_run_s"]
                    if figures.get("swarm_s"):
                        figures["orc_vs_swarm"] = figures["orc_s"] / figures["swarm_s"]
                results["pod_startup_latency"] = await pod_latency(api, 20)
        finally:
            cluster.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,50")
    parser.add_argument("--no-swarm", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run([int(s) for s in args.sizes.split(",")], not args.no_swarm))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(results, indent=2) + "\n")
    for count, figures in results["sizes"].items():
        swarm = f"{figures['swarm_s']:.1f} s" if figures.get("swarm_s") else "n/a"
        print(f"N={count:>3}: ours {figures['orc_s']:.1f} s | raw docker run (8 parallel) "
              f"{figures['raw_docker_run_s']:.1f} s | swarm {swarm} | ours/raw {figures['orc_vs_raw']:.2f}"
              + (f" | ours/swarm {figures['orc_vs_swarm']:.2f}" if figures.get("orc_vs_swarm") else ""))
    latency = results["pod_startup_latency"]
    print(f"pod start-up latency ({latency['pods']} pods, one every 2 s): p50 {latency['p50_s']:.2f} s, "
          f"p99 {latency['p99_s']:.2f} s")
    rss = results.get("kubelet_rss_mib_with_pods", {})
    print(f"kubelet RSS with {rss.get('pods')} pods: {rss.get('rss_mib', 0):.0f} MiB")


if __name__ == "__main__":
    main()
