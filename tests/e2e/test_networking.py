"""Service networking end to end on `orc up` (issue 5, acceptance 2-4).

Traffic goes to 127.0.0.1 (node ports) and, from a pod of this cluster, to Service names.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter

import pytest

from tests.e2e.helpers import http_get, running_pods, wait_for

pytestmark = pytest.mark.docker

ECHO = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: netecho
spec:
  replicas: 3
  strategy:
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  selector:
    matchLabels: {app: netecho}
  template:
    metadata:
      labels: {app: netecho}
    spec:
      containers:
      - name: echo
        image: IMAGE
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: netecho
spec:
  type: NodePort
  selector: {app: netecho}
  ports: [{port: 8080, targetPort: 8080}]
"""


def hosts_from_pod(kubectl, count: int) -> Counter:
    script = f"i=0; while [ $i -lt {count} ]; do wget -qO- http://netecho:8080/; echo; i=$((i+1)); done"
    # A one-shot client pod runs the loop; its log holds the answers.
    name = f"netclient-{time.monotonic_ns() % 100000}"
    kubectl("run", name, "--image=busybox", "--restart=Never", "--", "sh", "-c", script)
    wait_for(lambda: json.loads(kubectl("get", "pod", name, "-o", "json").stdout)["status"].get("phase")
             in ("Succeeded", "Failed"), message="client pod finished")
    output = kubectl("logs", name).stdout
    kubectl("delete", "pod", name, "--wait=false")
    return Counter(json.loads(line)["host"] for line in output.splitlines() if line.startswith("{"))


def test_service_balances_follows_scale_and_survives_rollout_and_proxy_restart(kubectl, tmp_path, cluster):
    manifest = tmp_path / "echo.yaml"
    manifest.write_text(ECHO.replace("IMAGE", "echo:v1"))
    kubectl("apply", "-f", str(manifest))
    wait_for(lambda: len(running_pods(kubectl, "app=netecho")) == 3, message="3 echo pods")
    pods = {p["metadata"]["name"] for p in running_pods(kubectl, "app=netecho")}
    wait_for(lambda: kubectl("get", "endpoints", "netecho", "-o", "jsonpath={.subsets[0].addresses[*].ip}")
             .stdout.count(".") == 9, message="3 endpoints")

    # 30 requests from a pod, by Service name, reach all 3.
    assert set(hosts_from_pod(kubectl, 30)) == pods

    # From the host to the NodePort, all 3.
    node_port = kubectl("get", "svc", "netecho", "-o", "jsonpath={.spec.ports[0].nodePort}").stdout
    from_host = Counter(json.loads(http_get(f"http://127.0.0.1:{node_port}/") or "{}").get("host") for _ in range(30))
    assert set(from_host) == pods, from_host

    # After scaling to 1, only that one.
    kubectl("scale", "deployment", "netecho", "--replicas=1")
    wait_for(lambda: len(running_pods(kubectl, "app=netecho")) == 1
             and kubectl("get", "endpoints", "netecho", "-o", "jsonpath={.subsets[0].addresses[*].ip}")
             .stdout.count(".") == 3, message="1 endpoint")
    survivor = running_pods(kubectl, "app=netecho")[0]["metadata"]["name"]
    time.sleep(1)
    assert set(Counter(json.loads(http_get(f"http://127.0.0.1:{node_port}/") or "{}").get("host")
                       for _ in range(10))) == {survivor}

    # No request fails during a rolling update with a readiness probe and maxUnavailable 0.
    kubectl("scale", "deployment", "netecho", "--replicas=3")
    wait_for(lambda: len(running_pods(kubectl, "app=netecho")) == 3, message="back to 3")
    time.sleep(1)
    manifest.write_text(ECHO.replace("IMAGE", "echo:v2"))
    kubectl("apply", "-f", str(manifest))
    failures, answers = 0, 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = http_get(f"http://127.0.0.1:{node_port}/")
        answers += 1
        failures += body is None
        deployment = json.loads(kubectl("get", "deploy", "netecho", "-o", "json").stdout)
        status = deployment["status"]
        if status.get("observedGeneration") == deployment["metadata"]["generation"] and \
                status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == 3:
            break
    assert failures == 0, f"{failures} of {answers} requests failed during the rollout"

    # Restart the proxy: routing comes back from the API alone.
    proxy_pids = subprocess.run(["pgrep", "-f", f"cli.main proxy .*{cluster.parent}"], capture_output=True,
                                text=True).stdout.split()
    for pid in proxy_pids:
        subprocess.run(["kill", "-s", str(int(signal.SIGKILL)), pid])
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"cli.main proxy .*{cluster.parent}"],
                                    capture_output=True).returncode == 0, timeout=60, message="proxy restarted")
    assert wait_for(lambda: http_get(f"http://127.0.0.1:{node_port}/"), message="node port answers again")

    # Delete the Service: the node port stops answering and a new Service can take it.
    kubectl("delete", "svc", "netecho")
    wait_for(lambda: http_get(f"http://127.0.0.1:{node_port}/", timeout=1) is None, message="node port closed")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "netecho2"},
               "spec": {"type": "NodePort", "selector": {"app": "netecho"},
                        "ports": [{"port": 8080, "targetPort": 8080, "nodePort": int(node_port)}]}}
    (tmp_path / "svc.json").write_text(json.dumps(service))
    kubectl("create", "-f", str(tmp_path / "svc.json"))
    assert wait_for(lambda: http_get(f"http://127.0.0.1:{node_port}/"), message="the new Service answers")
    kubectl("delete", "svc", "netecho2")
    kubectl("delete", "deployment", "netecho")
