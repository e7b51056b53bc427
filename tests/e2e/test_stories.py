"""The user stories of ../shared/scenarios/README.md, end to end, the way the README says to run them.

One `orc up` cluster (etcd, apiserver, scheduler, controller-manager, kubelet, proxy as child
processes, real Docker; see conftest.py); every step is a real kubectl command; traffic goes only
to 127.0.0.1 (node ports, the LoadBalancer address) and to pods this cluster started.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import http_get, running_pods, wait_for

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


def test_story_1_hello_node(kubectl):
    assert "created" in kubectl("create", "deployment", "hello-node", "--image=echo:v1", "--port=8080").stdout
    wait_for(lambda: len(running_pods(kubectl, "app=hello-node")) == 1, message="1 pod Running")
    kubectl("scale", "deployment", "hello-node", "--replicas=5")
    wait_for(lambda: len(running_pods(kubectl, "app=hello-node")) == 5, message="5 pods Running")

    kubectl("expose", "deployment", "hello-node", "--type=LoadBalancer", "--port=8080")
    address = wait_for(lambda: kubectl("get", "svc", "hello-node", "-o",
                                       "jsonpath={.status.loadBalancer.ingress[0].ip}").stdout, message="LB address")
    assert "<pending>" not in kubectl("get", "svc", "hello-node").stdout
    wait_for(lambda: http_get(f"http://{address}:8080/"), message="service answers")
    hosts = {json.loads(http_get(f"http://{address}:8080/") or "{}").get("host") for _ in range(10)}
    assert len(hosts - {None}) >= 3, hosts

    failures = 0
    kubectl("set", "image", "deployment/hello-node", "echo=echo:v2")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = http_get(f"http://{address}:8080/")
        if answer is None:
            failures += 1
        deployment = json.loads(kubectl("get", "deploy", "hello-node", "-o", "json").stdout)
        status = deployment["status"]
        if status.get("observedGeneration") == deployment["metadata"]["generation"] and \
                status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == 5:
            break
        time.sleep(0.2)
    assert failures <= 1, f"{failures} requests failed during the rolling update"
    versions = {json.loads(http_get(f"http://{address}:8080/") or "{}").get("version") for _ in range(10)}
    assert versions == {"v2"}

    victim = running_pods(kubectl, "app=hello-node")[0]["metadata"]["name"]
    kubectl("delete", "pod", victim)
    wait_for(lambda: len(running_pods(kubectl, "app=hello-node")) == 5
             and victim not in {p["metadata"]["name"] for p in running_pods(kubectl, "app=hello-node")},
             message="a replacement pod")
    assert http_get(f"http://{address}:8080/")
    kubectl("delete", "service", "hello-node")
    kubectl("delete", "deployment", "hello-node")


def test_story_2_classifier(kubectl, tmp_path):
    manifest = REPO / "manifests" / "classifier.yaml"
    kubectl("create", "-f", str(manifest))
    wait_for(lambda: len(running_pods(kubectl, "app=nginx")) == 1 and len(running_pods(kubectl, "app=api")) == 1,
             message="both tiers Running")
    page = wait_for(lambda: (http_get("http://127.0.0.1:32767/") or "") if "class" in (
        http_get("http://127.0.0.1:32767/") or "") else None, message="front end reaches the API by name")
    assert "front end" in page

    scaled = tmp_path / "scaled.yaml"
    text = manifest.read_text()
    scaled.write_text(text.replace("name: wsgi-app-container\n  labels: {app: api}\nspec:\n  replicas: 1",
                                   "name: wsgi-app-container\n  labels: {app: api}\nspec:\n  replicas: 3"))
    applied = kubectl("apply", "-f", str(scaled)).stdout
    assert "deployment.apps/wsgi-app-container configured" in applied
    wait_for(lambda: len(running_pods(kubectl, "app=api")) == 3, message="3 API pods")

    broken = tmp_path / "broken.yaml"
    broken.write_text(scaled.read_text().replace("image: busybox:1.36\n        ports: [{containerPort: 80}]",
                                                 "image: busybox:no-such-tag\n        ports: [{containerPort: 80}]"))
    kubectl("apply", "-f", str(broken))

    def pull_error():
        pods = json.loads(kubectl("get", "pods", "-l", "app=nginx", "-o", "json").stdout)["items"]
        reasons = {s.get("state", {}).get("waiting", {}).get("reason") for p in pods
                   for s in p["status"].get("containerStatuses", [])}
        return reasons & {"ErrImagePull", "ImagePullBackOff"}

    wait_for(pull_error, message="ErrImagePull/ImagePullBackOff")
    assert "class" in (http_get("http://127.0.0.1:32767/") or ""), "the old pod keeps serving"
    history = kubectl("rollout", "history", "deployment", "custom-nginx").stdout
    assert "1 " in history and "2 " in history
    kubectl("rollout", "undo", "deployment", "custom-nginx", "--to-revision=1")
    wait_for(lambda: not pull_error() and len(running_pods(kubectl, "app=nginx")) == 1, message="healthy again")

    kubectl("delete", "-f", str(broken))
    wait_for(lambda: not json.loads(kubectl("get", "pods", "-l", "app in (nginx, api)", "-o", "json").stdout)["items"],
             message="all the story's pods gone")


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
    # `kubectl exec` is not served yet: break the health endpoint through Docker, as a bug in the app would.
    container_id = json.loads(kubectl("get", "pod", pod, "-o", "json").stdout)["status"]["containerStatuses"][0][
        "containerID"].removeprefix("docker://")
    subprocess.run(["docker", "exec", container_id, "rm", "/www/healthz"], check=True, capture_output=True)
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
