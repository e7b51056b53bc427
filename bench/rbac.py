"""Authorization cost (issue 10): creates/s and GET p99 with the RBAC authorizer on vs off, in one run.

Starts one etcd and two apiservers on it (own key prefixes): `--authorization-mode RBAC` (the
default) and `--authorization-mode AlwaysAllow`. Both are driven with the token of
system:kube-controller-manager, a user that is not in system:masters, so every request goes
through rule evaluation. Rounds alternate between the servers to cancel drift. Prints the ratios
and writes bench/results/rbac.json. Loopback only, bounded in count.

    .venv/bin/python bench/rbac.py [--creates N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import tempfile
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import api_creates, api_gets  # noqa: E402
from orchestrator.cluster.etcd import EtcdProcess  # noqa: E402
from orchestrator.cluster.processes import SecureApiServer  # noqa: E402

RESULTS = Path(__file__).parent / "results"
USER = "system:kube-controller-manager"


async def measure(server: SecureApiServer, *, creates: int, namespace: str) -> dict:
    context = ssl.create_default_context(cadata=server.pki.ca_pem.decode())
    connector = aiohttp.TCPConnector(ssl=context, limit=64)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": f"Bearer {server.tokens[USER]}"}) as session:
        created = await api_creates(session, server.url, namespace=namespace, concurrency=8, total=creates)
        listed = await session.get(f"{server.url}/api/v1/namespaces/{namespace}/pods?limit=500")
        names = [p["metadata"]["name"] for p in json.loads(await listed.read())["items"]]
        get_p99 = await api_gets(session, server.url, namespace=namespace, names=names)
    return {"creates_per_s": created["creates_per_s"], "get_p99_ms": get_p99}


async def run(*, creates: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        etcd = EtcdProcess(Path(tmp) / "etcd")
        etcd.start()
        servers = {
            mode: SecureApiServer(data_dir=Path(tmp) / mode, etcd_url=etcd.client_url,
                                  etcd_prefix=f"/bench-{uuid.uuid4().hex[:6]}",
                                  extra_args=["--authorization-mode", mode])
            for mode in ("RBAC", "AlwaysAllow")
        }
        try:
            for server in servers.values():
                server.start()
            samples: dict[str, list[dict]] = {mode: [] for mode in servers}
            for round_number in range(rounds):
                for mode, server in servers.items():
                    samples[mode].append(await measure(server, creates=creates, namespace="default"))
                    print(f"round {round_number} {mode}: {samples[mode][-1]}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
            etcd.stop()

    def mean(mode: str, key: str) -> float:
        return sum(sample[key] for sample in samples[mode]) / len(samples[mode])

    result = {"user": USER, "creates_per_round": creates, "rounds": rounds, "samples": samples}
    for key in ("creates_per_s", "get_p99_ms"):
        result[key] = {"rbac": mean("RBAC", key), "always_allow": mean("AlwaysAllow", key)}
    result["creates_cost_percent"] = 100 * (1 - result["creates_per_s"]["rbac"] / result["creates_per_s"]["always_allow"])
    result["get_p99_cost_percent"] = 100 * (result["get_p99_ms"]["rbac"] / result["get_p99_ms"]["always_allow"] - 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000, help="pod creates per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = asyncio.run(run(creates=args.creates, rounds=args.rounds))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rbac.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))


if __name__ == "__main__":
    main()
