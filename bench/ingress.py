"""Requests/s and p99 through the ingress controller's nginx config vs the same nginx configured by hand
vs straight to the backend, in one run (wrk). Writes bench/results/ingress.json.

The backends are two busybox httpd processes on loopback standing in for pods (no cluster needed, so
the figures isolate what the rendered config costs); the "ingress" nginx runs the exact text
orchestrator/ingress/render.py produces for one Ingress, the "by hand" nginx a minimal proxy_pass
config with the same upstream and worker settings. Goal: ingress >= 0.8x by-hand.

    .venv/bin/python bench/ingress.py [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from orchestrator.cluster.ports import free_port
from orchestrator.ingress.render import Objects, Settings, render

RESULTS = Path(__file__).parent / "results" / "ingress.json"

HAND_WRITTEN = """worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/temp/body; proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi; uwsgi_temp_path {prefix}/temp/uwsgi; scgi_temp_path {prefix}/temp/scgi;
    upstream backend {{ {servers} keepalive 64; }}
    server {{
        listen {port};
        location / {{ proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://backend; }}
    }}
}}
"""


def wrk(url: str, *, duration: int, connections: int, host: str | None = None) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if host:
        args += ["-H", f"Host: {host}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {"requests_per_second": rps, "p99_ms": round(float(p99.group(1)) * scale, 3)}


def start_nginx(prefix: Path, text: str) -> subprocess.Popen:
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(text)
    return subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_port(port: int) -> None:
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if not (shutil.which("nginx") and shutil.which("wrk") and shutil.which("busybox")):
        raise SystemExit("needs nginx, wrk and busybox (scripts/setup installs them)")
    processes = []
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        try:
            backend_ports = [free_port(), free_port()]
            for index, port in enumerate(backend_ports):
                www = work_dir / f"www{index}"
                www.mkdir()
                (www / "index.html").write_text(f"pod-{index}\n")
                processes.append(subprocess.Popen(["busybox", "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", str(www)]))
                wait_port(port)
            ingress_port, hand_port = free_port(), free_port()
            objects = Objects(
                ingresses=[{"metadata": {"namespace": "default", "name": "bench"},
                            "spec": {"ingressClassName": "nginx", "rules": [{"host": "bench.test", "http": {"paths": [
                                {"path": "/", "pathType": "Prefix",
                                 "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}],
                ingress_classes=[{"metadata": {"name": "nginx"}, "spec": {"controller": "orchestrator.io/ingress-nginx"}}],
                services=[{"metadata": {"namespace": "default", "name": "web"}, "spec": {"ports": [{"port": 80}]}}],
                endpoint_slices=[{"metadata": {"namespace": "default", "name": "web-1",
                                               "labels": {"kubernetes.io/service-name": "web"}},
                                  "ports": [{"port": port}], "endpoints": [{"addresses": ["127.0.0.1"]}]}
                                 for port in backend_ports])
            rendered = render(objects, Settings(prefix=str(work_dir / "ingress"), http_port=ingress_port,
                                                https_port=free_port()))
            processes.append(start_nginx(work_dir / "ingress", rendered.text))
            servers = " ".join(f"server 127.0.0.1:{port};" for port in backend_ports)
            processes.append(start_nginx(work_dir / "hand", HAND_WRITTEN.format(
                prefix=work_dir / "hand", servers=servers, port=hand_port)))
            wait_port(ingress_port)
            wait_port(hand_port)
            run = {"duration_s": options.duration, "connections": options.connections}
            figures = {
                "direct": wrk(f"http://127.0.0.1:{backend_ports[0]}/", duration=options.duration,
                              connections=options.connections),
                "by_hand": wrk(f"http://127.0.0.1:{hand_port}/", duration=options.duration,
                               connections=options.connections),
                "ingress": wrk(f"http://127.0.0.1:{ingress_port}/", duration=options.duration,
                               connections=options.connections, host="bench.test"),
            }
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(10)
    ratio = figures["ingress"]["requests_per_second"] / figures["by_hand"]["requests_per_second"]
    result = {**run, **figures, "ingress_vs_by_hand": round(ratio, 3),
              "ingress_vs_direct": round(figures["ingress"]["requests_per_second"]
                                         / figures["direct"]["requests_per_second"], 3), "goal": 0.8}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
