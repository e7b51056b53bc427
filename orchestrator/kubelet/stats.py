"""CPU and memory of this node and of its pods' containers, read from cgroups and /proc.

No `docker stats` stream: a container's cgroups are found once from its main process
(`/proc/<pid>/cgroup`, which names the cgroup of every hierarchy whatever the engine's cgroup
driver, and inside a compose node container too), then each sample reads two or three small
files — cgroup v2 `cpu.stat`/`memory.current`/`memory.stat`, or v1 `cpuacct.usage`/
`memory.usage_in_bytes`/`memory.stat`. The node is `/proc/stat` and `/proc/meminfo`.

CPU usage is a rate between two samples of the cumulative counter (`usageNanoCores`), as the
kubelet's cAdvisor reports it. Samples are taken on demand, when /stats/summary is asked, and
kept `cache_seconds`; the first ask (or one after a long pause) takes a second sample a moment
later so it always has a fresh rate.

Memory is the working set (usage minus inactive file pages), what `kubectl top` and the HPA use.

`StatsProvider.summary()` answers in the shape of the kubelet's Summary API (a subset:
node and pods, cpu and memory); `prometheus_resource_metrics(summary)` writes the same figures
as /metrics/resource text. Used by orchestrator/kubelet/server.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# A rate over a longer window than this is stale for `kubectl top` (metrics-server scrapes every 15 s).
MAX_RATE_WINDOW_SECONDS = 30.0
FIRST_SAMPLE_GAP_SECONDS = 1.0


# ---------------------------------------------------------------- locating cgroups (pure parsing)


@dataclass(frozen=True)
class CgroupMount:
    root: str  # the cgroup path mounted there (mountinfo's 4th field), usually "/"
    mount_point: str


def parse_cgroup_mounts(mountinfo: str) -> dict[str, CgroupMount]:
    """Controller name ("cpuacct", "memory"; "" for the v2 unified hierarchy) -> where it is mounted."""
    mounts: dict[str, CgroupMount] = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fs_type, options = tail[0], tail[2]
        mount = CgroupMount(root=fields[3], mount_point=fields[4])
        if fs_type == "cgroup2":
            mounts.setdefault("", mount)
        elif fs_type == "cgroup":
            for option in options.split(","):
                if option in ("cpu", "cpuacct", "memory"):
                    mounts.setdefault(option, mount)
    return mounts


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """`/proc/<pid>/cgroup` -> controller name ("" for v2) -> cgroup path."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def cgroup_directory(mount: CgroupMount, path: str) -> str:
    """The directory of cgroup `path` under `mount`; a mount of a sub-tree (a container's own
    cgroup namespace) holds the paths below its root."""
    if mount.root != "/" and (path == mount.root or path.startswith(mount.root + "/")):
        path = path[len(mount.root):]
    return os.path.join(mount.mount_point, path.lstrip("/"))


@dataclass(frozen=True)
class ContainerCgroups:
    """Where one container's counters are: v2 (one directory) or v1 (cpu and memory apart)."""

    cpu_dir: str
    memory_dir: str
    v2: bool


def locate(mounts: dict[str, CgroupMount], proc_cgroup: dict[str, str]) -> ContainerCgroups | None:
    if "cpuacct" in mounts and "memory" in mounts and "cpuacct" in proc_cgroup and "memory" in proc_cgroup:
        return ContainerCgroups(cpu_dir=cgroup_directory(mounts["cpuacct"], proc_cgroup["cpuacct"]),
                                memory_dir=cgroup_directory(mounts["memory"], proc_cgroup["memory"]), v2=False)
    if "" in mounts and "" in proc_cgroup:
        directory = cgroup_directory(mounts[""], proc_cgroup[""])
        return ContainerCgroups(cpu_dir=directory, memory_dir=directory, v2=True)
    return None


# ---------------------------------------------------------------- reading counters (pure parsing)


def parse_flat_keyed(text: str) -> dict[str, int]:
    """`memory.stat`/`cpu.stat`: one `key value` per line."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


def working_set(usage: int, stat: dict[str, int], *, v2: bool) -> int:
    """Usage minus inactive file pages (cAdvisor's working set), never negative."""
    inactive = stat.get("inactive_file" if v2 else "total_inactive_file", 0)
    return max(0, usage - inactive)


def node_cpu_nanoseconds(proc_stat: str) -> int:
    """Cumulative busy CPU time of the node from /proc/stat's `cpu` line (every state but idle and iowait)."""
    for line in proc_stat.splitlines():
        if line.startswith("cpu "):
            fields = [int(v) for v in line.split()[1:]]
            busy = sum(fields[:8]) - fields[3] - (fields[4] if len(fields) > 4 else 0)
            return busy * 1_000_000_000 // USER_HZ
    return 0


def node_memory(meminfo: str) -> tuple[int, int]:
    """(total, working set) bytes from /proc/meminfo: used = MemTotal - MemAvailable."""
    values = {}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    total = values.get("MemTotal", 0)
    return total, max(0, total - values.get("MemAvailable", values.get("MemFree", 0)))


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def read_container(cgroups: ContainerCgroups) -> tuple[int, int, int]:
    """(cumulative CPU ns, memory usage bytes, working set bytes) of one container; OSError if gone."""
    if cgroups.v2:
        cpu_ns = parse_flat_keyed(_read(os.path.join(cgroups.cpu_dir, "cpu.stat"))).get("usage_usec", 0) * 1000
        usage = int(_read(os.path.join(cgroups.memory_dir, "memory.current")))
    else:
        cpu_ns = int(_read(os.path.join(cgroups.cpu_dir, "cpuacct.usage")))
        usage = int(_read(os.path.join(cgroups.memory_dir, "memory.usage_in_bytes")))
    stat = parse_flat_keyed(_read(os.path.join(cgroups.memory_dir, "memory.stat")))
    return cpu_ns, usage, working_set(usage, stat, v2=cgroups.v2)


# ---------------------------------------------------------------- rates


@dataclass
class Sample:
    at: float
    cpu_ns: int


def rate_nano_cores(older: Sample | None, newer: Sample) -> int | None:
    """CPU use between two samples in nanocores (1e9 = one core busy); None without a usable pair."""
    if older is None or newer.at <= older.at or newer.cpu_ns < older.cpu_ns:
        return None
    return int((newer.cpu_ns - older.cpu_ns) / (newer.at - older.at))


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- the provider


class StatsProvider:
    """Samples the node and the containers of its pods on demand; see the module docstring."""

    def __init__(self, *, runtime: Any, pods: Any, statuses: Callable[[str], dict | None], node_name: str,
                 clock: Callable[[], float] = time.time, cache_seconds: float = 5.0,
                 proc_root: str = "/proc") -> None:
        self._runtime = runtime
        self._pods = pods
        self._statuses = statuses
        self._node_name = node_name
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._proc = proc_root
        self._mounts: dict[str, CgroupMount] | None = None
        self._cgroups: dict[str, ContainerCgroups | None] = {}  # docker id -> its cgroups (None: none found)
        self._samples: dict[str, tuple[Sample | None, Sample]] = {}  # id ("" = node) -> (previous, latest)
        self._memory: dict[str, tuple[int, int]] = {}
        self._summary: dict | None = None
        self._summary_at = 0.0
        self._lock = asyncio.Lock()
        self.started_at = clock()

    async def summary(self) -> dict:
        async with self._lock:
            now = self._clock()
            if self._summary is not None and now - self._summary_at < self._cache_seconds:
                return self._summary
            containers = await self._running_containers()
            needs_pair = self._sample(containers)
            if needs_pair:
                await asyncio.sleep(FIRST_SAMPLE_GAP_SECONDS)
                self._sample(containers)
            self._summary, self._summary_at = self._build(containers), self._clock()
            return self._summary

    async def _running_containers(self) -> list[tuple[dict, str, str, float | None]]:
        """(pod, container name, docker id, started) of every running container of this node's pods."""
        found = []
        for pod in self._pods.list():
            status = self._statuses(pod["metadata"].get("uid", "")) or pod.get("status") or {}
            for container_status in status.get("containerStatuses") or []:
                running = (container_status.get("state") or {}).get("running")
                container_id = (container_status.get("containerID") or "").split("://", 1)[-1]
                if running is None or not container_id:
                    continue
                if container_id not in self._cgroups:
                    self._cgroups[container_id] = await self._locate(container_id)
                started = _parse_time(running.get("startedAt"))
                found.append((pod, container_status["name"], container_id, started))
        live = {entry[2] for entry in found}
        for gone in [cid for cid in self._cgroups if cid not in live]:
            self._cgroups.pop(gone, None)
            self._samples.pop(gone, None)
            self._memory.pop(gone, None)
        return found

    async def _locate(self, container_id: str) -> ContainerCgroups | None:
        try:
            info = await self._runtime.inspect(container_id)
            if not info.pid:
                return None
            if self._mounts is None:
                self._mounts = parse_cgroup_mounts(_read(os.path.join(self._proc, "self/mountinfo")))
            return locate(self._mounts, parse_proc_cgroup(_read(os.path.join(self._proc, str(info.pid), "cgroup"))))
        except Exception as error:  # a container that just went away, or no cgroup files: no metrics for it
            log.debug("no cgroups for container %s: %s", container_id[:12], error)
            return None

    def _remember(self, key: str, sample: Sample) -> bool:
        """Store a sample; True if it leaves no fresh previous one to make a rate with."""
        previous = self._samples.get(key)
        older = previous[1] if previous is not None else None
        self._samples[key] = (older, sample)
        return older is None or sample.at - older.at > MAX_RATE_WINDOW_SECONDS

    def _sample(self, containers: list[tuple[dict, str, str, float | None]]) -> bool:
        now = self._clock()
        needs_pair = False
        try:
            needs_pair |= self._remember("", Sample(now, node_cpu_nanoseconds(_read(os.path.join(self._proc, "stat")))))
            self._memory[""] = node_memory(_read(os.path.join(self._proc, "meminfo")))
        except OSError as error:
            log.debug("cannot read the node's /proc counters: %s", error)
        for _, _, container_id, _ in containers:
            cgroups = self._cgroups.get(container_id)
            if cgroups is None:
                continue
            try:
                cpu_ns, usage, working = read_container(cgroups)
            except (OSError, ValueError):
                self._cgroups.pop(container_id, None)  # gone, or moved: locate again next time
                continue
            needs_pair |= self._remember(container_id, Sample(now, cpu_ns))
            self._memory[container_id] = (usage, working)
        return needs_pair

    def _usage(self, key: str) -> tuple[dict, dict] | None:
        samples = self._samples.get(key)
        if samples is None or key not in self._memory:
            return None
        older, latest = samples
        at = rfc3339(latest.at)
        cpu = {"time": at, "usageCoreNanoSeconds": latest.cpu_ns}
        rate = rate_nano_cores(older, latest)
        if rate is not None:
            cpu["usageNanoCores"] = rate
        usage, working = self._memory[key]
        return cpu, {"time": at, "usageBytes": usage, "workingSetBytes": working}

    def _build(self, containers: list[tuple[dict, str, str, float | None]]) -> dict:
        node: dict[str, Any] = {"nodeName": self._node_name, "startTime": rfc3339(self.started_at)}
        node_usage = self._usage("")
        if node_usage is not None:
            node["cpu"], node["memory"] = node_usage
            total = self._memory[""][0]
            node["memory"] = {**node["memory"], "availableBytes": max(0, total - node["memory"]["workingSetBytes"])}
        pods: dict[str, dict] = {}
        for pod, name, container_id, started in containers:
            usage = self._usage(container_id)
            if usage is None:
                continue
            meta = pod["metadata"]
            entry = pods.setdefault(meta.get("uid", ""), {
                "podRef": {"name": meta["name"], "namespace": meta.get("namespace", ""), "uid": meta.get("uid", "")},
                "startTime": (pod.get("status") or {}).get("startTime") or rfc3339(started or self.started_at),
                "containers": []})
            cpu, memory = usage
            entry["containers"].append({"name": name, "startTime": rfc3339(started or self.started_at),
                                        "cpu": cpu, "memory": memory})
        for entry in pods.values():
            entry["cpu"], entry["memory"] = _sum_usage(entry["containers"])
        return {"node": node, "pods": list(pods.values())}


def _sum_usage(containers: list[dict]) -> tuple[dict, dict]:
    at = max(c["cpu"]["time"] for c in containers)
    cpu: dict[str, Any] = {"time": at, "usageCoreNanoSeconds": sum(c["cpu"]["usageCoreNanoSeconds"] for c in containers)}
    if all("usageNanoCores" in c["cpu"] for c in containers):
        cpu["usageNanoCores"] = sum(c["cpu"]["usageNanoCores"] for c in containers)
    memory = {"time": at, "usageBytes": sum(c["memory"]["usageBytes"] for c in containers),
              "workingSetBytes": sum(c["memory"]["workingSetBytes"] for c in containers)}
    return cpu, memory


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def prometheus_resource_metrics(summary: dict) -> str:
    """The kubelet's /metrics/resource (Prometheus text) from a summary: cumulative CPU seconds and
    working-set bytes of the node, pods and containers, with the sample time in milliseconds."""
    lines = ["# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds",
             "# TYPE node_cpu_usage_seconds_total counter",
             "# HELP node_memory_working_set_bytes Current working set of the node in bytes",
             "# TYPE node_memory_working_set_bytes gauge"]

    def millis(text: str) -> int:
        return int((_parse_time(text) or 0) * 1000)

    node = summary.get("node") or {}
    if "cpu" in node:
        lines.append(f"node_cpu_usage_seconds_total {node['cpu']['usageCoreNanoSeconds'] / 1e9} "
                     f"{millis(node['cpu']['time'])}")
        lines.append(f"node_memory_working_set_bytes {node['memory']['workingSetBytes']} "
                     f"{millis(node['memory']['time'])}")
    for metric, help_text, kind in (
            ("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds",
             "counter"),
            ("container_memory_working_set_bytes", "Current working set of the container in bytes", "gauge"),
            ("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", "counter"),
            ("pod_memory_working_set_bytes", "Current working set of the pod in bytes", "gauge")):
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        for pod in summary.get("pods") or []:
            ref = pod["podRef"]
            subjects = ([(f'container="{c["name"]}",namespace="{ref["namespace"]}",pod="{ref["name"]}"', c)
                         for c in pod["containers"]] if metric.startswith("container")
                        else [(f'namespace="{ref["namespace"]}",pod="{ref["name"]}"', pod)])
            for labels, subject in subjects:
                if "cpu" in metric:
                    value, at = subject["cpu"]["usageCoreNanoSeconds"] / 1e9, subject["cpu"]["time"]
                else:
                    value, at = subject["memory"]["workingSetBytes"], subject["memory"]["time"]
                lines.append(f"{metric}{{{labels}}} {value} {millis(at)}")
    return "\n".join(lines) + "\n"
