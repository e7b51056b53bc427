"""A DaemonSet on the real `orc up` cluster: the scheduler binds the pinned pod, the kubelet runs it.

Every step is the kubectl command a course user types: apply, `rollout status`, `get ds`,
`set image` and `rollout status` again, delete.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import running_pods, wait_for

pytestmark = pytest.mark.docker

DAEMON_SET = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      terminationGracePeriodSeconds: 1  # `sh` ignores SIGTERM: do not wait 30 s for each replaced pod
      containers:
      - name: agent
        image: busybox
        command: [sh, -c, "echo agent on $NODE; sleep 3600"]
        env:
        - name: NODE
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
"""


def test_daemonset_runs_on_the_node_and_rolls(kubectl, tmp_path):
    manifest = tmp_path / "ds.yaml"
    manifest.write_text(DAEMON_SET)
    kubectl("apply", "-f", str(manifest))
    try:
        status = kubectl("rollout", "status", "ds/node-agent", "--timeout=90s")
        assert 'daemon set "node-agent" successfully rolled out' in status.stdout
        nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
        (pod,) = wait_for(lambda: running_pods(kubectl, "app=node-agent"), message="the daemon pod Running")
        assert pod["spec"]["nodeName"] == nodes[0]["metadata"]["name"]
        assert f"agent on {pod['spec']['nodeName']}" in kubectl("logs", "ds/node-agent").stdout
        row = kubectl("get", "ds", "node-agent").stdout.splitlines()[1].split()
        assert row[:6] == ["node-agent", "1", "1", "1", "1", "1"]

        kubectl("set", "image", "ds/node-agent", "agent=busybox:1.36")
        status = kubectl("rollout", "status", "ds/node-agent", "--timeout=120s")
        assert 'daemon set "node-agent" successfully rolled out' in status.stdout
        wait_for(lambda: [p["spec"]["containers"][0]["image"] for p in running_pods(kubectl, "app=node-agent")]
                 == ["busybox:1.36"], message="the updated pod Running")
    finally:
        kubectl("delete", "-f", str(manifest), "--ignore-not-found")
    wait_for(lambda: not kubectl("get", "pods", "-l", "app=node-agent", "-o", "name").stdout.strip(),
             timeout=90, message="the daemon pods removed")
