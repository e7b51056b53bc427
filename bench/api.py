"""Apiserver benchmark (issue 2): our API against raw etcd, in one run, on one machine.

Starts a real etcd and a real apiserver (TLS + token, as `orc up` runs it), then measures:
  * raw aetcd puts/s with 1 and 32 concurrent writers (the baseline),
  * creates/s and p50/p99 latency through the apiserver at 1, 8 and 32 concurrent clients,
  * GET p99, LIST of 10,000 pods (time, apiserver peak RSS),
  * watch delivery latency p99 to 100 concurrent watchers.
Prints a table and writes bench/results/api.json. Loads are bounded in count and time and
go to loopback only.

    .venv/bin/python bench/api.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.cluster.etcd import EtcdProcess  # noqa: E402
from orchestrator.cluster.processes import SecureApiServer  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def new_pod(name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "load"}},
        "spec": {"containers": [{"name": "app", "image": "echo:v1", "ports": [{"containerPort": 8080}],
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                                 "env": [{"name": "MODE", "value": "bench"}]}]},
    }


async def raw_etcd_puts(etcd_url: str, *, concurrency: int, total: int) -> float:
    import aetcd

    host, port = etcd_url.removeprefix("http://").split(":")
    value = json.dumps(new_pod("x")).encode()
    async with aetcd.Client(host=host, port=int(port)) as client:
        counter = iter(range(total))

        async def writer():
            for i in counter:
                await client.put(f"/raw/{uuid.uuid4().hex}/{i}".encode(), value)

        start = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        return total / (time.perf_counter() - start)


async def api_creates(session: aiohttp.ClientSession, url: str, *, namespace: str, concurrency: int,
                      total: int) -> dict:
    latencies: list[float] = []
    counter = iter(range(total))
    tag = uuid.uuid4().hex[:6]

    async def client():
        for i in counter:
            body = new_pod(f"p-{tag}-{concurrency}-{i}")
            start = time.perf_counter()
            async with session.post(f"{url}/api/v1/namespaces/{namespace}/pods", json=body) as response:
                await response.read()
                assert response.status == 201, response.status
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"creates_per_s": total / elapsed, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}


async def api_gets(session, url, *, namespace: str, names: list[str]) -> float:
    latencies = []
    for name in names:
        start = time.perf_counter()
        async with session.get(f"{url}/api/v1/namespaces/{namespace}/pods/{name}") as response:
            await response.read()
        latencies.append(time.perf_counter() - start)
    return percentile(latencies, 0.99) * 1000


async def fill(session, url, *, namespace: str, count: int) -> None:
    await api_creates(session, url, namespace=namespace, concurrency=32, total=count)


async def list_pods(session, url, *, namespace: str) -> tuple[float, int]:
    start = time.perf_counter()
    async with session.get(f"{url}/api/v1/namespaces/{namespace}/pods") as response:
        body = await response.read()
    elapsed = time.perf_counter() - start
    return elapsed, len(json.loads(body)["items"])


async def watch_latency(session, url, *, namespace: str, watchers: int, writes: int) -> float:
    latencies: list[float] = []
    ready = 0
    all_ready = asyncio.Event()

    async def watcher():
        nonlocal ready
        params = {"watch": "1", "resourceVersion": "0", "timeoutSeconds": "60"}
        async with session.get(f"{url}/api/v1/namespaces/{namespace}/configmaps", params=params) as response:
            ready += 1
            if ready == watchers:
                all_ready.set()
            seen = 0
            async for line in response.content:
                event = json.loads(line)
                sent = float(event["object"]["metadata"]["annotations"]["sent"])
                latencies.append(time.time() - sent)
                seen += 1
                if seen == writes:
                    return

    tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
    await asyncio.wait_for(all_ready.wait(), 30)
    await asyncio.sleep(0.5)
    for i in range(writes):
        body = {"metadata": {"name": f"w{i}", "annotations": {"sent": repr(time.time())}}}
        async with session.post(f"{url}/api/v1/namespaces/{namespace}/configmaps", json=body) as response:
            await response.read()
        await asyncio.sleep(0.02)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return percentile(latencies, 0.99) * 1000


async def run(quick: bool) -> dict:
    scale = 0.2 if quick else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        etcd = EtcdProcess(Path(tmp) / "etcd")
        etcd.start()
        server = SecureApiServer(data_dir=Path(tmp) / "api", etcd_url=etcd.client_url)
        server.start()
        try:
            results: dict = {"machine": {"cpus": os.cpu_count()}, "quick": quick}
            results["raw_etcd_puts_per_s"] = {
                "1": await raw_etcd_puts(etcd.client_url, concurrency=1, total=int(1000 * scale)),
                "32": await raw_etcd_puts(etcd.client_url, concurrency=32, total=int(5000 * scale)),
            }
            context = ssl.create_default_context(cadata=server.pki.ca_pem.decode())
            headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
            connector = aiohttp.TCPConnector(ssl=context, limit=200)
            async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
                url = server.url
                for namespace in ("bench", "big", "watch"):
                    async with session.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": namespace}}) as r:
                        await r.read()
                results["creates"] = {}
                for concurrency in (1, 8, 32):
                    total = int((500 if concurrency == 1 else 2000) * scale)
                    results["creates"][str(concurrency)] = await api_creates(
                        session, url, namespace="bench", concurrency=concurrency, total=total)
                listed = await session.get(f"{url}/api/v1/namespaces/bench/pods?limit=500")
                names = [p["metadata"]["name"] for p in json.loads(await listed.read())["items"]]
                results["get_p99_ms"] = await api_gets(session, url, namespace="bench", names=names)
                big = int(10_000 * scale)
                await fill(session, url, namespace="big", count=big)
                elapsed, count = await list_pods(session, url, namespace="big")
                results["list"] = {"pods": count, "seconds": elapsed,
                                   "apiserver_peak_rss_mib": peak_rss_mib(server.process.process.pid)}
                results["watch_p99_ms"] = await watch_latency(session, url, namespace="watch", watchers=100,
                                                              writes=int(100 * scale) or 20)
            raw32 = results["raw_etcd_puts_per_s"]["32"]
            results["ratio_creates32_to_raw32"] = results["creates"]["32"]["creates_per_s"] / raw32
            return results
        finally:
            server.stop()
            etcd.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the load (for a smoke run)")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(results, indent=2) + "\n")
    raw = results["raw_etcd_puts_per_s"]
    print(f"raw etcd puts/s            1: {raw['1']:8.0f}   32: {raw['32']:8.0f}")
    for concurrency, figures in results["creates"].items():
        print(f"apiserver creates/s  {concurrency:>6}: {figures['creates_per_s']:8.0f}   "
              f"p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms")
    print(f"creates/s at 32 vs raw etcd puts/s at 32: {results['ratio_creates32_to_raw32']:.2f}")
    print(f"GET p99: {results['get_p99_ms']:.1f} ms")
    lst = results["list"]
    print(f"LIST {lst['pods']} pods: {lst['seconds']:.2f} s, apiserver peak RSS {lst['apiserver_peak_rss_mib']:.0f} MiB")
    print(f"watch delivery p99 to 100 watchers: {results['watch_p99_ms']:.1f} ms")
    print(f"statistics: python {sys.version.split()[0]}, {statistics.__name__}")


if __name__ == "__main__":
    main()
