"""The user stories of ../shared/scenarios/README.md, end to end, the way the README says to run them.

One `orc up` cluster (etcd, apiserver, scheduler, controller-manager, kubelet, proxy as child
processes, real Docker; see conftest.py); every step is a real kubectl command; traffic goes only
to 127.0.0.1 (node ports, the LoadBalancer address) and to pods this cluster started.
Stories 1 and 2 are written once in tests/stories.py, which tests/compose runs on three nodes too.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.e2e.helpers import http_get, running_pods, wait_for
from tests.stories import HELLO_NODE, story_1_hello_node, story_2_classifier

pytestmark = pytest.mark.docker


def test_story_1_hello_node(story_cluster, kubectl):
    try:
        story_1_hello_node(story_cluster)
    finally:
        kubectl("delete", "service,deployment", HELLO_NODE, "--ignore-not-found")


def test_story_2_classifier(story_cluster, tmp_path):
    story_2_classifier(story_cluster, tmp_path)


def test_story_4_imperative(kubectl):
    kubectl("create", "deployment", "pingpong", "--image=busybox", "--", "ping", "127.0.0.1")
    wait_for(lambda: len(running_pods(kubectl, "app=pingpong")) == 1, message="pingpong Running")
    wait_for(lambda: "bytes from 127.0.0.1" in kubectl("logs", "deploy/pingpong", "--tail", "20").stdout,
             message="ping output in the logs")
    assert "bytes from" in kubectl("logs", "-l", "app=pingpong").stdout
    kubectl("scale", "deployments/pingpong", "--replicas", "3")
    wait_for(lambda: len(running_pods(kubectl, "app=pingpong")) == 3, message="3 pingpong pods")
    wide = kubectl("get", "pods", "-o", "wide").stdout
    assert "IP" in wide.splitlines()[0] and "NODE" in wide.splitlines()[0]
    pod_ip = kubectl("get", "pods", "-l", "app=pingpong", "-o", "jsonpath={.items[0].status.podIP}").stdout
    assert pod_ip.count(".") == 3
    kubectl("create", "deployment", "httpenv", "--image=echo:v1")
    assert "exposed" in kubectl("expose", "deployment", "httpenv", "--port=8888").stdout
    everything = kubectl("get", "all").stdout
    for name in ("pod/pingpong", "service/httpenv", "deployment.apps/pingpong", "replicaset.apps/httpenv"):
        assert name in everything, everything
    kubectl("delete", "deploy/httpenv")
    kubectl("delete", "deploy/pingpong", "svc/httpenv")


SERVER_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: servidor-python
  labels: {app: servidor, tier: backend}
spec:
  containers:
  - name: servidor
    image: busybox:1.36
    command: ["sh", "-c", "i=0; while true; do echo \\"tick $i password=$PASSWORD\\"; i=$((i+1)); sleep 1; done"]
    resources:
      requests: {cpu: 100m}
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: servidor-secret, key: password}
"""

REPLICA_SET = """
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: servidor-rs
spec:
  replicas: 3
  selector:
    matchLabels: {app: servidor-rs}
  template:
    metadata:
      labels: {app: servidor-rs}
    spec:
      containers:
      - name: servidor
        image: IMAGE
"""

PROBED_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: servidor
spec:
  replicas: 3
  selector:
    matchLabels: {app: servidor-web}
  template:
    metadata:
      labels: {app: servidor-web}
    spec:
      containers:
      - name: web
        image: IMAGE
        ports: [{containerPort: 8080, name: http}]
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
          failureThreshold: 1
        livenessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
          failureThreshold: 2
"""


def test_story_3_python_server(kubectl, tmp_path):
    kubectl("create", "secret", "generic", "servidor-secret", "--from-literal=password=s3cret")
    (tmp_path / "pod.yaml").write_text(SERVER_POD)
    kubectl("apply", "-f", str(tmp_path / "pod.yaml"))
    wait_for(lambda: "password=s3cret" in kubectl("logs", "servidor-python", "--tail", "2", check=False).stdout,
             message="the pod logs the secret from its env")
    follow = subprocess.Popen(["kubectl", "--kubeconfig", str(kubectl.kubeconfig), "logs", "-f", "servidor-python"],
                              stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    import threading

    threading.Thread(target=lambda: lines.extend(follow.stdout), daemon=True).start()
    try:
        first = wait_for(lambda: [line for line in lines if line.startswith("tick")], message="logs -f streams")
        wait_for(lambda: len([line for line in lines if line.startswith("tick")]) > len(first) + 1,
                 message="logs -f keeps streaming new lines")
    finally:
        follow.kill()
        follow.wait()
    kubectl("delete", "pod", "servidor-python")
    assert "NotFound" in kubectl("get", "pod", "servidor-python", check=False).stderr

    # A ReplicaSet keeps 3 pods; a new image in the ReplicaSet does not touch running pods.
    (tmp_path / "rs.yaml").write_text(REPLICA_SET.replace("IMAGE", "echo:v1"))
    kubectl("apply", "-f", str(tmp_path / "rs.yaml"))
    wait_for(lambda: len(running_pods(kubectl, "app=servidor-rs")) == 3, message="3 ReplicaSet pods")
    victim = running_pods(kubectl, "app=servidor-rs")[0]["metadata"]["name"]
    kubectl("delete", "pod", victim)
    wait_for(lambda: len(running_pods(kubectl, "app=servidor-rs")) == 3
             and victim not in {p["metadata"]["name"] for p in running_pods(kubectl, "app=servidor-rs")},
             message="the ReplicaSet replaced the deleted pod")
    before = {p["metadata"]["name"] for p in running_pods(kubectl, "app=servidor-rs")}
    (tmp_path / "rs.yaml").write_text(REPLICA_SET.replace("IMAGE", "echo:v2"))
    assert "replicaset.apps/servidor-rs configured" in kubectl("apply", "-f", str(tmp_path / "rs.yaml")).stdout
    time.sleep(2)
    after = running_pods(kubectl, "app=servidor-rs")
    assert {p["metadata"]["name"] for p in after} == before
    assert {p["spec"]["containers"][0]["image"] for p in after} == {"echo:v1"}
    kubectl("delete", "rs", "servidor-rs")

    # The same as a Deployment with probes; a new image replaces the pods, the old RS stays at 0.
    (tmp_path / "deploy.yaml").write_text(PROBED_DEPLOYMENT.replace("IMAGE", "echo:v1"))
    kubectl("apply", "-f", str(tmp_path / "deploy.yaml"))
    wait_for(lambda: len(running_pods(kubectl, "app=servidor-web")) == 3, message="3 Deployment pods")
    (tmp_path / "deploy.yaml").write_text(PROBED_DEPLOYMENT.replace("IMAGE", "echo:v2"))
    kubectl("apply", "-f", str(tmp_path / "deploy.yaml"))
    kubectl("rollout", "status", "deployment/servidor", "--timeout=120s", timeout=150)
    replica_sets = json.loads(kubectl("get", "rs", "-l", "app=servidor-web", "-o", "json").stdout)["items"]
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [0, 3]

    # Services of every type, with their Endpoints in describe.
    kubectl("expose", "deployment", "servidor", "--name=servidor-clusterip", "--port=80", "--target-port=http")
    kubectl("expose", "deployment", "servidor", "--name=servidor-nodeport", "--type=NodePort", "--port=80",
            "--target-port=8080")
    kubectl("expose", "deployment", "servidor", "--name=servidor-lb", "--type=LoadBalancer", "--port=18080",
            "--target-port=8080")
    wait_for(lambda: len([line for line in kubectl("describe", "svc", "servidor-clusterip").stdout.splitlines()
                          if line.startswith("Endpoints:") and line.count(":8080") == 3]) == 1,
             message="describe svc lists 3 endpoints")
    node_port = kubectl("get", "svc", "servidor-nodeport", "-o", "jsonpath={.spec.ports[0].nodePort}").stdout
    assert wait_for(lambda: http_get(f"http://127.0.0.1:{node_port}/healthz"), message="NodePort answers")
    assert wait_for(lambda: http_get("http://127.0.0.1:18080/healthz"), message="LoadBalancer answers")

    # Readiness: a pod whose probe fails leaves the endpoints; liveness: it is restarted.
    pod = running_pods(kubectl, "app=servidor-web")[0]["metadata"]["name"]
    pod_ip = kubectl("get", "pod", pod, "-o", "jsonpath={.status.podIP}").stdout
    # Break the health endpoint from inside the pod, as a bug in the app would.
    kubectl("exec", pod, "--", "rm", "/www/healthz")
    wait_for(lambda: pod_ip not in kubectl("get", "endpoints", "servidor-clusterip", "-o", "json").stdout
             or int(kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}").stdout
                    or 0) >= 1, message="failing probe: out of the endpoints or restarted")
    wait_for(lambda: int(kubectl("get", "pod", pod, "-o",
                                 "jsonpath={.status.containerStatuses[0].restartCount}").stdout or 0) >= 1,
             message="liveness restarts the container")
    listing = kubectl("get", "pods", "-l", "app=servidor-web").stdout
    assert pod in listing and "RESTARTS" in listing.splitlines()[0]
    for name in ("servidor-clusterip", "servidor-nodeport", "servidor-lb"):
        kubectl("delete", "svc", name)
    kubectl("delete", "deployment", "servidor")
    kubectl("delete", "secret", "servidor-secret")
