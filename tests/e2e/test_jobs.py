"""Jobs on the real `orc up` cluster: a pod that really runs `echo hi` in Docker and exits.

Every step is the kubectl command a course user types: create the Job, wait for it to
complete, read its logs, see it listed and described, delete it (its pod goes too).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import wait_for

pytestmark = pytest.mark.docker


def test_job_runs_echo_to_completion(kubectl):
    kubectl("create", "job", "hello", "--image=busybox", "--", "echo", "hi")
    try:
        kubectl("wait", "--for=condition=complete", "job/hello", "--timeout=90s")
        assert kubectl("logs", "job/hello").stdout == "hi\n"
        row = kubectl("get", "jobs", "hello").stdout.splitlines()
        assert row[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
        assert row[1].split()[:3] == ["hello", "Complete", "1/1"]
        pods = json.loads(kubectl("get", "pods", "-l", "job-name=hello", "-o", "json").stdout)["items"]
        assert [pod["status"]["phase"] for pod in pods] == ["Succeeded"]
        assert kubectl("get", "pods", "-l", "job-name=hello").stdout.split()[-3:-1] == ["Completed", "0"]
        described = kubectl("describe", "job", "hello").stdout
        assert "1 Succeeded / 0 Failed" in described and "Job completed" in described
    finally:
        kubectl("delete", "job", "hello", "--ignore-not-found")
    wait_for(lambda: not kubectl("get", "pods", "-l", "job-name=hello", "-o", "name").stdout.strip(),
             timeout=60, message="the job's pod collected")


def test_failing_job_stops_at_its_backoff_limit(kubectl, tmp_path):
    manifest = tmp_path / "fails.yaml"
    manifest.write_text("""
apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, "echo failing; exit 3"]}]
""")
    kubectl("apply", "-f", str(manifest))
    try:
        kubectl("wait", "--for=condition=failed", "job/fails", "--timeout=90s")
        assert kubectl("get", "job", "fails", "-o", "jsonpath={.status.failed}").stdout == "1"
        assert "failing" in kubectl("logs", "job/fails").stdout
    finally:
        kubectl("delete", "-f", str(manifest), "--ignore-not-found")
