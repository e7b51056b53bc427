"""`orc get pods` against `kubectl get pods` on 1,000 pods (issue 6, performance).

Starts a real etcd and a real apiserver (TLS + token, as `orc up` runs it), creates 1,000 pods directly
through the API (aiohttp, 16 at a time), then times whole command runs, alternating the clients so that
both see the same machine load:

  * kubectl get pods                       (the baseline)
  * orc get pods      through the `orc` console script as installed (`.venv/bin/orc`)
  * orc get pods      through the start-up fast path (`python -m cli.client.fastpath`, what the
                      console script runs once it points at `cli.client.fastpath:main`)
  * orc get pods      through the full typer app (`python -m cli.main`)

and also `-o wide` and `-o name`. Each is checked to print what kubectl prints (AGE aside) before it
is timed. The project's modules are byte-compiled first, as `pip install` compiles an installed
package's: with PYTHONDONTWRITEBYTECODE set (this project's shells set it) an editable install never
writes its .pyc files, and every timed run would recompile whatever changed since from source. Prints
medians and 90th percentiles and writes bench/results/cli.json. Traffic goes to loopback only.

    .venv/bin/python bench/cli.py [--pods 1000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from orchestrator.cluster.etcd import EtcdProcess  # noqa: E402
from orchestrator.cluster.processes import SecureApiServer  # noqa: E402

RESULTS = Path(__file__).parent / "results"
NAMESPACE = "bench"
CREATE_CONCURRENCY = 16
AGE = re.compile(r"\b\d+[smhd](\d+[smh])?\b")


def new_pod(index: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-{index:05d}", "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "app", "image": "echo:v1", "ports": [{"containerPort": 8080}]}]}}


async def create_pods(server: SecureApiServer, count: int) -> float:
    from orchestrator.client.config import load_client_config

    config = load_client_config(kubeconfig=str(server.kubeconfig))
    context = config.ssl_context()
    headers = {"Authorization": f"Bearer {config.token}"}
    semaphore = asyncio.Semaphore(CREATE_CONCURRENCY)
    started = time.perf_counter()
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{config.server}/api/v1/namespaces", ssl=context,
                                json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}):
            pass

        async def create(index: int) -> None:
            async with semaphore:
                async with session.post(f"{config.server}/api/v1/namespaces/{NAMESPACE}/pods", ssl=context,
                                        json=new_pod(index)) as response:
                    if response.status >= 300:
                        raise RuntimeError(f"create failed: {response.status} {await response.text()}")

        await asyncio.gather(*(create(index) for index in range(count)))
    return time.perf_counter() - started


def clients(environment: dict[str, str]) -> dict[str, list[str]]:
    python = sys.executable
    found = {
        "kubectl": ["kubectl"],
        "orc (console script)": [str(Path(python).parent / "orc")],
        "orc (fast path)": [python, "-m", "cli.client.fastpath"],
        "orc (typer app)": [python, "-m", "cli.main"],
    }
    if not Path(found["orc (console script)"][0]).exists():
        del found["orc (console script)"]
    return found


def run(command: list[str], environment: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=REPOSITORY, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr}")
    return elapsed, result.stdout


def compile_bytecode() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "cli", "orchestrator"], cwd=REPOSITORY, check=True,
                   stdout=subprocess.DEVNULL)


def normalized(text: str) -> str:
    return re.sub(r" +", " ", AGE.sub("<age>", text))


def measure(environment: dict[str, str], *, runs: int) -> dict:
    commands = clients(environment)
    scenarios = {"get pods": ["get", "pods", "-n", NAMESPACE],
                 "get pods -o wide": ["get", "pods", "-n", NAMESPACE, "-o", "wide"],
                 "get pods -o name": ["get", "pods", "-n", NAMESPACE, "-o", "name"]}
    results: dict = {}
    for scenario, arguments in scenarios.items():
        reference = normalized(run(commands["kubectl"] + arguments, environment)[1])
        for name, command in commands.items():
            output = normalized(run(command + arguments, environment)[1])
            if output != reference:
                raise RuntimeError(f"{name} {' '.join(arguments)} does not print what kubectl prints")
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():  # interleaved: every client sees the same load
                timings[name].append(run(command + arguments, environment)[0])
        results[scenario] = {name: {"median_s": round(statistics.median(values), 4),
                                    "p90_s": round(statistics.quantiles(values, n=10)[-1], 4),
                                    "min_s": round(min(values), 4), "max_s": round(max(values), 4)}
                             for name, values in timings.items()}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()

    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="orc-bench-cli-") as directory:
        etcd = EtcdProcess(Path(directory) / "etcd", fast=True)
        etcd.start()
        server = SecureApiServer(data_dir=Path(directory) / "apiserver", etcd_url=etcd.client_url,
                                 etcd_prefix="/bench-cli")
        try:
            server.start()
            create_seconds = asyncio.run(create_pods(server, options.pods))
            environment = {**os.environ, "KUBECONFIG": str(server.kubeconfig),
                           "ORC_CACHE_DIR": str(Path(directory) / "cache"), "HOME": directory}
            results = measure(environment, runs=options.runs)
        finally:
            server.stop()
            etcd.stop()

    report = {"pods": options.pods, "runs": options.runs, "create_seconds": round(create_seconds, 2),
              "cpu_count": os.cpu_count(), "results": results}
    for scenario, timings in results.items():
        baseline = timings["kubectl"]["median_s"]
        print(f"{scenario} ({options.pods} pods), median and 90th percentile of {options.runs}:")
        for name, values in timings.items():
            print(f"  {name:<22} {values['median_s'] * 1000:7.1f} ms  p90 {values['p90_s'] * 1000:7.1f} ms"
                  f"   ({values['median_s'] / baseline:.2f}x kubectl)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'cli.json'}")


if __name__ == "__main__":
    main()
