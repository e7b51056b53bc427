"""Footprint of a one-machine cluster (issue 15): memory and idle CPU of `orc up`, per layout.

For each layout (`orc up`, the one-process default, and `orc up --separate-processes`, the baseline,
in the same run) this starts a cluster in a temporary directory on a free port and measures:
  * RSS (and PSS, which counts shared pages once) of every orc process, summed, with etcd apart
    (etcd is not counted in the goal), after `--settle` seconds with 0 pods, then with 5 and with
    50 pods (a Deployment of busybox `sleep` pods);
  * idle CPU over `--window` seconds as % of one core (utime+stime deltas from /proc/PID/stat,
    reaped children such as iptables included), with no workload and with the 50 pods steady.
Goals: ≤ 250 MB with 5 pods, ≤ 1 % of a core idle. Writes bench/results/footprint.json.

    .venv/bin/python bench/footprint.py                       # the issue's windows: about 12 minutes
    .venv/bin/python bench/footprint.py --settle 15 --window 20 --pods 0,5,20   # about 3 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.cluster.ports import free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
LAYOUTS = {"one-process": [], "separate-processes": ["--separate-processes"]}
DEPLOYMENT = "footprint"
READY_TIMEOUT = 300.0


def descendants(root: int) -> list[int]:
    """`root` and every process below it (the components, etcd, short-lived helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def describe(pid: int) -> str:
    """A short name: `etcd`, `up`, or the orc component (`kubelet`, ...)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [word.decode(errors="replace") for word in argv if word]
    if words and words[0].endswith("etcd"):
        return "etcd"
    if "cli.main" in words:
        return words[words.index("cli.main") + 1]
    return Path(words[0]).name if words else "?"


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS shares each shared page among the processes mapping it."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
        pss = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                    if line.startswith("Pss:")), 0)
    except (OSError, StopIteration, ValueError):
        return 0, 0
    return rss, pss


def cpu_ticks(pid: int) -> int:
    """utime + stime of the process, plus that of its children already reaped (iptables, docker CLI...)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # fields[0] is the state (field 3 of proc(5)): utime, stime, cutime, cstime are fields 14-17.
    return sum(int(value) for value in fields[11:15])


def memory_snapshot(root: int) -> dict:
    per_process: dict[str, dict] = {}
    for pid in descendants(root):
        name = describe(pid)
        rss, pss = memory_kib(pid)
        entry = per_process.setdefault(name, {"processes": 0, "rss_mib": 0.0, "pss_mib": 0.0})
        entry["processes"] += 1
        entry["rss_mib"] += rss / 1024
        entry["pss_mib"] += pss / 1024
    orc = {name: entry for name, entry in per_process.items() if name != "etcd"}
    return {
        "orc_rss_mib": round(sum(e["rss_mib"] for e in orc.values()), 1),
        "orc_pss_mib": round(sum(e["pss_mib"] for e in orc.values()), 1),
        "orc_processes": sum(e["processes"] for e in orc.values()),
        "etcd_rss_mib": round(per_process.get("etcd", {}).get("rss_mib", 0.0), 1),
        "per_process": {name: {key: round(value, 1) if isinstance(value, float) else value
                               for key, value in entry.items()} for name, entry in per_process.items()},
    }


def idle_cpu(root: int, window: float) -> dict:
    """% of one core used by the orc processes (and by etcd apart) over `window` seconds."""
    def sample() -> dict[int, tuple[str, int]]:
        return {pid: (describe(pid), cpu_ticks(pid)) for pid in descendants(root)}

    before = sample()
    started = time.monotonic()
    time.sleep(window)
    after = sample()
    elapsed = time.monotonic() - started
    per_name: dict[str, float] = {}
    for pid, (name, ticks) in after.items():
        # A process born during the window counts from zero; one that died is in its parent's cutime.
        used = ticks - before.get(pid, (name, 0))[1]
        per_name[name] = per_name.get(name, 0.0) + used / CLOCK_TICKS / elapsed * 100
    orc = sum(value for name, value in per_name.items() if name != "etcd")
    return {"window_s": round(elapsed, 1), "orc_cpu_percent": round(orc, 2),
            "etcd_cpu_percent": round(per_name.get("etcd", 0.0), 2),
            "per_process": {name: round(value, 2) for name, value in per_name.items()}}


class Cluster:
    """`orc up` in a temporary directory, with its own port."""

    def __init__(self, directory: Path, extra_args: list[str]):
        self.directory = directory
        self.kubeconfig = directory / "kubeconfig"
        self.log = open(directory / "up.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--data-dir", str(directory),
                                         "--port", str(free_port()), *extra_args], cwd=REPO, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def kubectl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *args], capture_output=True,
                                text=True, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr}")
        return result.stdout

    def wait_ready(self, timeout: float = 120) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError("orc up exited:\n" + (self.directory / "up.log").read_text())
            if self.kubeconfig.exists():
                ready = self.kubectl("get", "nodes", "-o",
                                     "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}", check=False)
                if ready.split() and set(ready.split()) == {"True"}:
                    return time.monotonic() - started
            time.sleep(1)
        raise RuntimeError("the cluster did not become Ready:\n" + (self.directory / "up.log").read_text())

    def scale(self, pods: int) -> float:
        """Run `pods` busybox pods (0: none) and wait until they are all Ready (and the rest gone)."""
        started = time.monotonic()
        if not self.kubectl("get", "deployment", DEPLOYMENT, "--ignore-not-found", "-o", "name"):
            self.kubectl("create", "deployment", DEPLOYMENT, "--image=busybox", f"--replicas={pods}", "--",
                         "sleep", "86400")
        else:
            self.kubectl("scale", "deployment", DEPLOYMENT, f"--replicas={pods}")
        while time.monotonic() - started < READY_TIMEOUT:
            ready = self.kubectl("get", "deployment", DEPLOYMENT, "-o", "jsonpath={.status.readyReplicas}",
                                 check=False).strip()
            existing = self.kubectl("get", "pods", "-l", f"app={DEPLOYMENT}", "-o", "name", check=False).split()
            if int(ready or 0) == pods and len(existing) == pods:
                return time.monotonic() - started
            time.sleep(1)
        raise RuntimeError(f"{pods} pods were not Ready within {READY_TIMEOUT:.0f}s")

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        stopped = time.monotonic() - started
        subprocess.run([sys.executable, "-m", "cli.main", "down", "--data-dir", str(self.directory)], cwd=REPO,
                       capture_output=True, timeout=120)
        self.log.close()
        return stopped


def measure_layout(name: str, *, pod_counts: list[int], settle: float, window: float) -> dict:
    figures: dict = {"layout": name, "pods": {}}
    with tempfile.TemporaryDirectory(prefix="orc-footprint-") as tmp:
        cluster = Cluster(Path(tmp), LAYOUTS[name])
        try:
            figures["ready_s"] = round(cluster.wait_ready(), 1)
            for count in pod_counts:
                step: dict = {}
                if count:
                    step["ready_s"] = round(cluster.scale(count), 1)
                time.sleep(settle)
                step["memory"] = memory_snapshot(cluster.process.pid)
                if count in (0, max(pod_counts)):
                    step["cpu"] = idle_cpu(cluster.process.pid, window)
                figures["pods"][str(count)] = step
                cpu = step.get("cpu", {}).get("orc_cpu_percent")
                print(f"  {name}, {count} pods: RSS {step['memory']['orc_rss_mib']:.0f} MiB "
                      f"(PSS {step['memory']['orc_pss_mib']:.0f}, {step['memory']['orc_processes']} processes; "
                      f"etcd {step['memory']['etcd_rss_mib']:.0f})"
                      + (f", idle CPU {cpu:.2f} % of a core" if cpu is not None else ""), flush=True)
            cluster.scale(0)
        finally:
            figures["stop_s"] = round(cluster.stop(), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait before measuring each state")
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which idle CPU is measured")
    parser.add_argument("--pods", default="0,5,50", help="pod counts to measure (CPU at the first and last)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help=f"some of {', '.join(LAYOUTS)}")
    args = parser.parse_args()
    pod_counts = [int(count) for count in args.pods.split(",")]
    from orchestrator.cluster.images import ensure_images

    ensure_images()
    results: dict = {"settle_s": args.settle, "window_s": args.window, "machine": {"cpus": os.cpu_count()},
                     "layouts": {}}
    for name in args.layouts.split(","):
        print(f"• {name}", flush=True)
        results["layouts"][name] = measure_layout(name, pod_counts=pod_counts, settle=args.settle,
                                                  window=args.window)
    layouts = results["layouts"]
    if {"one-process", "separate-processes"} <= layouts.keys():
        results["ratios"] = {
            f"rss_{count}_pods_one_vs_separate": round(
                layouts["one-process"]["pods"][str(count)]["memory"]["orc_rss_mib"]
                / layouts["separate-processes"]["pods"][str(count)]["memory"]["orc_rss_mib"], 2)
            for count in pod_counts}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "footprint.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results.get("ratios", {}), indent=2))


if __name__ == "__main__":
    main()
