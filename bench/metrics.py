"""Overhead of metrics collection (issue 12): the kubelet's CPU with 10 pods, scraped and not scraped.

Starts `orc up` (each component a process of its own) in a temporary
directory, runs `--pods` busybox `sleep` pods, then measures the CPU (% of one core, utime+stime
from /proc, bench/footprint.py's helpers) of every component over `--window` seconds three times in
the same run: not scraped (the baseline); scraped through the metrics API every 15 s (what
metrics-server and the HPA controller's period cost); and scraped every `--interval` seconds
(`kubectl top` in a tight `watch`, uncached samples every 5 s at most). Reports the kubelet's
figures and their difference to the baseline, and writes bench/results/metrics.json.

    .venv/bin/python bench/metrics.py                         # about 2 minutes
    .venv/bin/python bench/metrics.py --pods 30 --window 60   # bigger
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.footprint import RESULTS, Cluster, idle_cpu  # noqa: E402

METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/pods"


def measured_while_scraping(cluster: Cluster, *, window: float, interval: float | None) -> dict:
    """CPU of the cluster's processes over `window` s while the pod metrics are read every `interval` s."""
    stop = threading.Event()
    scrapes = []

    def scrape() -> None:
        while not stop.is_set():
            started = time.monotonic()
            body = cluster.kubectl("get", "--raw", METRICS_PATH, check=False)
            scrapes.append(len(json.loads(body or "{}").get("items") or []))
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    thread = threading.Thread(target=scrape, daemon=True) if interval else None
    if thread:
        thread.start()
    try:
        figures = idle_cpu(cluster.process.pid, window)
    finally:
        stop.set()
        if thread:
            thread.join(30)
    figures["scrapes"] = len(scrapes)
    figures["pods_with_metrics_last_scrape"] = scrapes[-1] if scrapes else 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--window", type=float, default=25.0, help="seconds measured per phase")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between scrapes in the tight phase")
    parser.add_argument("--settle", type=float, default=10.0)
    args = parser.parse_args()
    results: dict = {"pods": args.pods, "window_s": args.window}
    with tempfile.TemporaryDirectory(prefix="orc-metrics-") as tmp:
        cluster = Cluster(Path(tmp), [])
        try:
            cluster.wait_ready()
            cluster.scale(args.pods)
            time.sleep(args.settle)
            phases = {"not_scraped": None, "scraped_every_15s": 15.0, f"scraped_every_{args.interval:g}s": args.interval}
            for name, interval in phases.items():
                results[name] = measured_while_scraping(cluster, window=args.window, interval=interval)
        finally:
            cluster.stop()
    baseline = results["not_scraped"]["per_process"].get("kubelet", 0.0)
    summary = {}
    for name in list(results):
        if isinstance(results[name], dict) and "per_process" in results[name]:
            kubelet = results[name]["per_process"].get("kubelet", 0.0)
            summary[name] = {"kubelet_cpu_percent": kubelet, "over_baseline_points": round(kubelet - baseline, 2),
                             "apiserver_cpu_percent": results[name]["per_process"].get("apiserver", 0.0),
                             "scrapes": results[name]["scrapes"]}
    results["summary"] = summary
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
