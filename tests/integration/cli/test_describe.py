"""`orc describe` prints kubectl's text for pods, deployments, replica sets, services, nodes, namespaces
and more, with the Events table (issue 6, acceptance 1)."""

from __future__ import annotations

import datetime
import json
import textwrap

import pytest

OBJECTS = """\
apiVersion: v1
kind: Pod
metadata:
  name: described
  labels: {app: web, tier: front}
  annotations: {note: "a short note"}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    args: ["--verbose"]
    ports: [{containerPort: 8080, name: http}, {containerPort: 9090}]
    env:
    - {name: MODE, value: fast}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    envFrom: [{configMapRef: {name: settings}}]
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}
    livenessProbe: {tcpSocket: {port: 8080}}
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: config, mountPath: /etc/app, readOnly: true}]
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: config, configMap: {name: settings}}
  nodeSelector: {disk: ssd}
  tolerations: [{key: dedicated, operator: Equal, value: web, effect: NoSchedule}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue, size: large}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}  # one key: kubectl 1.32 prints a secret's keys in map order
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "echo:v1", ports: [{containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-rs, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, pod-template-hash: abc}}
  template:
    metadata: {labels: {app: web, pod-template-hash: abc}}
    spec:
      containers: [{name: web, image: "echo:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 81, targetPort: 9090}]
"""

NODE = """\
apiVersion: v1
kind: Node
metadata:
  name: describe-node
  labels: {kubernetes.io/hostname: describe-node, node-role.kubernetes.io/worker: ""}
spec:
  taints: [{key: dedicated, value: web, effect: NoSchedule}]
status:
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
  addresses: [{type: InternalIP, address: 10.0.0.9}, {type: Hostname, address: describe-node}]
  nodeInfo: {machineID: m, systemUUID: s, bootID: b, kernelVersion: "6.1", osImage: Debian,
             operatingSystem: linux, architecture: amd64, containerRuntimeVersion: "docker://24",
             kubeletVersion: v1.32.0}
"""


@pytest.fixture(scope="module")
def world(apiserver):
    import subprocess
    import uuid

    name = f"describe-{uuid.uuid4().hex[:6]}"

    def kubectl(*args: str, input: str | None = None) -> str:
        return subprocess.run(["kubectl", "--kubeconfig", str(apiserver.kubeconfig), *args], input=input,
                              capture_output=True, text=True, check=True).stdout

    kubectl("create", "namespace", name)
    kubectl("apply", "-n", name, "-f", "-", input=OBJECTS)
    kubectl("apply", "-f", "-", input=NODE)
    kubectl("create", "-n", name, "-f", "-", input=json.dumps(_event(name, kubectl)))
    return name


def _event(namespace: str, kubectl) -> dict:
    pod = json.loads(kubectl("get", "pod", "described", "-n", namespace, "-o", "json"))
    stamp = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "described.1", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "name": "described", "namespace": namespace,
                               "uid": pod["metadata"]["uid"], "apiVersion": "v1"},
            "reason": "Scheduled", "message": "Successfully assigned it", "type": "Normal", "count": 3,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "source": {"component": "default-scheduler"}}


@pytest.mark.parametrize("args", [
    pytest.param(["pod", "described"], id="pod-with-events"),
    pytest.param(["deployment", "web"], id="deployment"),
    pytest.param(["rs", "web-rs"], id="replicaset"),
    pytest.param(["svc", "web"], id="service"),
    pytest.param(["cm", "settings"], id="configmap"),
    pytest.param(["secret", "creds"], id="secret"),
    pytest.param(["pods", "descr"], id="name-prefix"),
    pytest.param(["pods", "-l", "tier=front"], id="selector"),
    pytest.param(["pod/described", "svc/web"], id="several"),
    pytest.param(["pod", "nope"], id="not-found"),
])
def test_describe_prints_what_kubectl_prints(same_output, world, args):
    same_output("describe", *args, "-n", world)


@pytest.mark.parametrize("args", [
    pytest.param(["node", "describe-node"], id="node"),
    pytest.param(["namespace", "default"], id="namespace"),
])
def test_describe_cluster_scoped(same_output, world, args):
    same_output("describe", *args)


def test_describe_lists_the_events_table(orc, world):
    text = orc("describe", "pod", "described", "-n", world, check=True).stdout
    assert textwrap.dedent("""\
        Events:
          Type    Reason     Age                From               Message
          ----    ------     ----               ----               -------
          Normal  Scheduled  20m (x3 over 20m)  default-scheduler  Successfully assigned it""") in text
