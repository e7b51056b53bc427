"""Service proxy benchmark (issue 5): echo pods through a ClusterIP and a NodePort against the same pods direct.

Starts a real etcd, a real apiserver and a real `orc proxy` child process, three `echo:v1`
containers on a bridge network of its own, and Services pointing at them (their cluster
IPs given explicitly). Then, in one run, against the same pods:
  * throughput: wrk `-t2 -c32` against one echo pod by its IP (the baseline), through a
    ClusterIP (kernel DNAT), a NodePort on a node address (kernel DNAT) and a NodePort on
    127.0.0.1 (the userspace proxy); for the static `/healthz` and the CGI `/`; and the same
    spread over three pods (three wrks in parallel for the direct baseline);
  * latency: one GET at a time over each route, the routes taking turns request by request
    (2000 each), since busybox httpd's listen backlog of 9 makes wrk's p99 at 32 connections
    a measure of SYN retransmits;
  * the time from an Endpoints write at the apiserver to the proxy's DNAT rule being in the
    kernel (polling iptables-save), 20 changes.
Prints a table and writes bench/results/proxy.json. Traffic goes to loopback, to this
machine's own bridge address and to the containers started here only; every load is
bounded by wrk's duration.

    sudo .venv/bin/python bench/proxy.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.client.config import load_client_config  # noqa: E402
from orchestrator.client.resources import ENDPOINTS, SERVICES  # noqa: E402
from orchestrator.client.rest import ApiClient  # noqa: E402
from orchestrator.cluster.etcd import EtcdProcess  # noqa: E402
from orchestrator.cluster.processes import ComponentProcess, SecureApiServer  # noqa: E402
from orchestrator.proxy.iptables import cleanup_rules, read_state_blocking  # noqa: E402
from orchestrator.proxy.rules import chain_prefix  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ONE_POD_IP, THREE_PODS_IP = "10.96.251.1", "10.96.251.3"
ONE_POD_NODE_PORT, THREE_PODS_NODE_PORT = 31901, 31903
ENDPOINT_CHANGES = 20
LATENCY_SAMPLES = 2000  # per route


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# ------------------------------------------------------------------ wrk


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 latency (ms) and error counts from `wrk --latency` output."""
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_s": float(rate.group(1)) if rate else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "connect_errors": int(socket_errors.group(1)) if socket_errors else 0,
        "timeouts": int(socket_errors.group(4)) if socket_errors else 0,
    }


def run_wrk(urls: list[str], *, duration: int, threads: int = 2, connections: int = 32) -> dict:
    """wrk against each URL in parallel (one thread each when several), the connections split between them;
    the sum of the rates and the worst percentiles."""
    if len(urls) > 1:
        threads = 1
    per_url = max(connections // len(urls), threads)
    processes = [subprocess.Popen(["timeout", str(duration + 20), "wrk", f"-t{threads}", f"-c{per_url}",
                                   f"-d{duration}s", "--latency", url],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for url in urls]
    results = [parse_wrk(process.communicate()[0]) for process in processes]
    return {
        "requests_per_s": round(sum(result["requests_per_s"] for result in results), 1),
        "p50_ms": round(max(result["p50_ms"] for result in results), 3),
        "p99_ms": round(max(result["p99_ms"] for result in results), 3),
        "non_2xx": sum(result["non_2xx"] for result in results),
        "connect_errors": sum(result["connect_errors"] for result in results),
        "timeouts": sum(result["timeouts"] for result in results),
    }


def measure_latency(urls: dict[str, str], *, rounds: int) -> dict[str, dict]:
    """Per route: percentiles of one GET on a fresh connection (as busybox httpd closes each), the routes
    interleaved in a shuffled order every round."""
    import random
    import socket
    from urllib.parse import urlsplit

    targets = {name: urlsplit(url) for name, url in urls.items()}
    timings: dict[str, list[float]] = {name: [] for name in urls}
    failures = dict.fromkeys(urls, 0)
    order = list(urls)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            target = targets[name]
            request = f"GET {target.path} HTTP/1.0\r\nHost: {target.hostname}\r\n\r\n".encode()
            started = time.perf_counter()
            try:
                with socket.create_connection((target.hostname, target.port or 80), timeout=5) as connection:
                    connection.sendall(request)
                    answer = b""
                    while chunk := connection.recv(4096):
                        answer += chunk
                if not answer.startswith(b"HTTP/1.") or b" 200 " not in answer.split(b"\r\n", 1)[0]:
                    raise OSError("not a 200 answer")
            except OSError:
                failures[name] += 1
                continue
            timings[name].append((time.perf_counter() - started) * 1000)
    return {name: {"requests": len(values), "failures": failures[name],
                   "p50_ms": round(percentile(values, 0.50), 3), "p90_ms": round(percentile(values, 0.90), 3),
                   "p99_ms": round(percentile(values, 0.99), 3)}
            for name, values in timings.items()}


def median_result(results: list[dict]) -> dict:
    """Each figure's median over the rounds."""
    return {key: round(statistics.median(result[key] for result in results), 3) for key in results[0]}


# ------------------------------------------------------------------ the setup


def start_echo_pods(docker_client, *, cluster_name: str, suffix: str):
    from orchestrator.cluster.images import ensure_images

    ensure_images(["echo:v1"], docker_client=docker_client)
    labels = {"orc.test": "proxy-bench", "orc.cluster": cluster_name}
    network = docker_client.networks.create(f"orc-proxybench-{suffix}", driver="bridge", labels=labels)
    containers = [docker_client.containers.run("echo:v1", detach=True, name=f"orc-proxybench-{suffix}-{index}",
                                               hostname=f"echo-{index}", network=network.name, labels=labels)
                  for index in range(3)]
    network.reload()
    ips = []
    for container in containers:
        container.reload()
        ips.append(container.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"])
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    return network, containers, ips, gateway


def new_service(name: str, cluster_ip: str, node_port: int) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "NodePort", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                     "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": node_port}]}}


def new_endpoints(name: str, ips: list[str]) -> dict:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": "default"},
            "subsets": [{"addresses": [{"ip": ip} for ip in ips], "ports": [{"port": 8080, "protocol": "TCP"}]}]}


def dnat_targets(prefix: str, service_key: str) -> set[str]:
    """The endpoint addresses the kernel DNATs the Service `namespace/name` to, right now."""
    comment = re.compile(rf'--comment "?{re.escape(service_key)}"?( |$)')
    targets = set()
    for rule in read_state_blocking().rules["nat"]:
        if rule.startswith(f"-A {prefix}-SEP-") and comment.search(rule):
            match = re.search(r"--to-destination ([\d.]+):", rule)
            if match:
                targets.add(match.group(1))
    return targets


def wait_until(predicate, *, timeout: float, interval: float = 0.002) -> float:
    """Seconds until predicate() held (raises after `timeout`)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"not reached within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started


async def measure_endpoint_changes(client: ApiClient, *, prefix: str, ips: list[str]) -> list[float]:
    """Seconds from each Endpoints write (request sent) to the new DNAT target being in the kernel."""
    latencies = []
    for change in range(ENDPOINT_CHANGES):
        target = ips[1 + change % 2]  # alternate between two pods: each change replaces the only endpoint
        current = await client.get(ENDPOINTS, "one", namespace="default")
        current["subsets"] = new_endpoints("one", [target])["subsets"]
        started = time.monotonic()
        await client.update(ENDPOINTS, current)
        # Poll every 10 ms: each iptables-save costs ~6 ms of CPU, polling harder would slow the proxy down.
        await asyncio.to_thread(wait_until, lambda target=target: dnat_targets(prefix, "default/one") == {target},
                                timeout=10, interval=0.01)
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.05)
    return latencies


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 3-second wrk runs (a smoke run)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement (medians are reported)")
    options = parser.parse_args()
    duration, rounds = (3, 1) if options.quick else (10, options.rounds)

    import docker

    load_before = os.getloadavg()[0]
    suffix = uuid.uuid4().hex[:6]
    cluster_name = f"pb{suffix}"
    prefix = chain_prefix(cluster_name)
    docker_client = docker.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="orc-proxy-bench-"))
    etcd = EtcdProcess(workdir / "etcd", fast=True)
    apiserver = SecureApiServer(data_dir=workdir / "apiserver", etcd_url="", etcd_prefix=f"/bench-{suffix}")
    proxy = None
    network, containers = None, []
    try:
        network, containers, ips, gateway = start_echo_pods(docker_client, cluster_name=cluster_name, suffix=suffix)
        etcd.start()
        apiserver.etcd_url = etcd.client_url
        apiserver.start()
        proxy = ComponentProcess("proxy", ["proxy", "--node-name", "bench", "--cluster-name", cluster_name,
                                           "--kubeconfig", str(apiserver.component_kubeconfig("system:kube-proxy"))],
                                 log_path=workdir / "proxy.log")
        proxy.start()
        config = load_client_config(kubeconfig=str(apiserver.kubeconfig))

        async def create_services() -> None:
            async with ApiClient(config) as client:
                await client.create(SERVICES, new_service("one", ONE_POD_IP, ONE_POD_NODE_PORT))
                await client.create(ENDPOINTS, new_endpoints("one", ips[:1]))
                await client.create(SERVICES, new_service("three", THREE_PODS_IP, THREE_PODS_NODE_PORT))
                await client.create(ENDPOINTS, new_endpoints("three", ips))

        asyncio.run(create_services())
        wait_until(lambda: dnat_targets(prefix, "default/three") == set(ips), timeout=30, interval=0.05)
        wait_until(lambda: subprocess.run(["curl", "-sf", "-m", "2", f"http://127.0.0.1:{ONE_POD_NODE_PORT}/healthz"],
                                          capture_output=True).returncode == 0, timeout=30, interval=0.1)

        def routes(path: str, *, pods: int) -> dict[str, list[str]]:
            cluster_ip, node_port = (ONE_POD_IP, ONE_POD_NODE_PORT) if pods == 1 else (THREE_PODS_IP,
                                                                                       THREE_PODS_NODE_PORT)
            return {
                "direct pod IP": [f"http://{ip}:8080{path}" for ip in ips[:pods]],
                "ClusterIP (iptables)": [f"http://{cluster_ip}{path}"],
                "NodePort on node address (iptables)": [f"http://{gateway}:{node_port}{path}"],
                "NodePort on 127.0.0.1 (userspace)": [f"http://127.0.0.1:{node_port}{path}"],
            }

        # Throughput under load: wrk -t2 -c32. Rounds interleave the routes, so that drift on a shared
        # machine hits them all alike; the medians are kept.
        runs = [("1 pod /healthz", "/healthz", 1), ("1 pod / (CGI)", "/", 1), ("3 pods /healthz", "/healthz", 3)]
        samples: dict[str, list[dict]] = {}
        for _ in range(rounds):
            for group, path, pods in runs:
                for route, urls in routes(path, pods=pods).items():
                    samples.setdefault(f"{group} via {route}", []).append(run_wrk(urls, duration=duration))
        measurements = {"throughput": {name: median_result(results) for name, results in samples.items()}}
        # Latency: one request at a time, the routes taking turns request by request (wrk's p99 at 32
        # connections measures SYN retransmits: busybox httpd listens with a backlog of 9).
        latency_targets = {f"1 pod /healthz via {route}": urls[0] for route, urls in routes("/healthz", pods=1).items()}
        measurements["latency"] = measure_latency(latency_targets, rounds=LATENCY_SAMPLES // (4 if options.quick else 1))

        async def endpoint_changes() -> list[float]:
            async with ApiClient(config) as client:
                return await measure_endpoint_changes(client, prefix=prefix, ips=ips)

        change_latencies = asyncio.run(endpoint_changes())
    finally:
        if proxy is not None:
            proxy.stop()
        for container in containers:
            container.remove(force=True)
        if network is not None:
            network.remove()
        cleanup_rules(cluster_name)
        apiserver.stop()
        etcd.stop()
        docker_client.close()
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the proxy's log) only when the run failed

    comparisons: dict[str, dict[str, dict]] = {"throughput": {}, "latency": {}}
    for kind, results_of_kind in measurements.items():
        for name, result in results_of_kind.items():
            group = name.split(" via ")[0]
            baseline = results_of_kind[f"{group} via direct pod IP"]
            if result is baseline:
                continue
            comparisons[kind][name] = {
                "added_p50_ms": round(result["p50_ms"] - baseline["p50_ms"], 3),
                "added_p99_ms": round(result["p99_ms"] - baseline["p99_ms"], 3),
            }
            if kind == "throughput" and baseline["requests_per_s"]:
                comparisons[kind][name]["throughput_vs_direct"] = round(
                    result["requests_per_s"] / baseline["requests_per_s"], 3)
    results = {
        "benchmark": "proxy",
        # Other work on the machine shows as noise in every figure: the 1-minute load average says how much.
        "machine": {"cpus": os.cpu_count(), "load_average_before": round(load_before, 2),
                    "load_average_after": round(os.getloadavg()[0], 2)},
        "duration_s": duration,
        "rounds": rounds,
        "load": {"throughput": "wrk -t2 -c32 (3 direct pods: 3 wrk -t1 -c10 in parallel)",
                 "latency": "one GET at a time on a fresh connection, routes interleaved"},
        "measurements": measurements,
        "versus_direct": comparisons,
        "endpoint_change_to_rule_ms": {
            "changes": len(change_latencies),
            "p50": round(statistics.median(change_latencies) * 1000, 1),
            "p99": round(percentile(change_latencies, 0.99) * 1000, 1),
            "max": round(max(change_latencies) * 1000, 1),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "proxy.json").write_text(json.dumps(results, indent=2) + "\n")

    print(f"\n{'throughput (wrk -t2 -c32)':<66} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs direct':>9}")
    for name, result in measurements["throughput"].items():
        ratio = comparisons["throughput"].get(name, {}).get("throughput_vs_direct")
        print(f"{name:<66} {result['requests_per_s']:>8.0f} {result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f} "
              f"{'' if ratio is None else f'{ratio:>9.3f}'}")
    print(f"\n{'latency (one request at a time)':<66} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'+p50':>7} "
          f"{'+p99':>7} {'fail':>5}")
    for name, result in measurements["latency"].items():
        compared = comparisons["latency"].get(name)
        extra = f"{compared['added_p50_ms']:>7.3f} {compared['added_p99_ms']:>7.3f}" if compared else " " * 15
        print(f"{name:<66} {result['p50_ms']:>8.3f} {result['p90_ms']:>8.3f} {result['p99_ms']:>8.3f} {extra} "
              f"{result['failures']:>5}")
    change = results["endpoint_change_to_rule_ms"]
    print(f"endpoint change -> rule in the kernel: p50 {change['p50']} ms, p99 {change['p99']} ms, "
          f"max {change['max']} ms ({change['changes']} changes)")
    machine = results["machine"]
    if max(machine["load_average_before"], machine["load_average_after"]) > (os.cpu_count() or 1):
        print(f"warning: the machine was busy (load average {machine['load_average_before']} -> "
              f"{machine['load_average_after']} on {machine['cpus']} CPUs): the figures are noisy")
    print(f"wrote {RESULTS / 'proxy.json'}")


if __name__ == "__main__":
    main()
