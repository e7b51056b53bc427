"""CronJobs end to end: kubectl against the real apiserver, the controllers in-process on a clock running ahead.

The controller-manager's clock is 70 seconds ahead of the apiserver's, so a `*/1` CronJob
created now is already past its first scheduled minute: its Job appears without the test
waiting for the wall clock. Pods are "run" by writing their status (no kubelet here).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator.client.resources import CRONJOBS, JOBS
from orchestrator.controllers.manager import ControllerManager
from tests.integration.controllers.helpers import eventually
from tests.integration.controllers.test_job import finish_pod, running_pods

CLOCK_AHEAD_SECONDS = 70


@pytest.fixture
async def controllers_ahead(client):
    manager = ControllerManager(client, clock=lambda: time.time() + CLOCK_AHEAD_SECONDS, job_pod_failure_backoff=0.2)
    task = asyncio.create_task(manager.run())
    yield manager
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def owned_jobs(client, namespace: str, cronjob: dict) -> list[dict]:
    jobs = (await client.list(JOBS, namespace=namespace))["items"]
    return [job for job in jobs
            if any(ref["uid"] == cronjob["metadata"]["uid"] for ref in job["metadata"].get("ownerReferences") or [])]


async def test_cronjob_schedules_a_job_and_kubectl_starts_one_by_hand(client, namespace, controllers_ahead,
                                                                       kubectl_async):
    await kubectl_async("create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "-n", namespace,
                        "--", "echo", "tick")
    listing = (await kubectl_async("get", "cronjobs", "-n", namespace)).stdout.splitlines()
    assert listing[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]

    cronjob = await client.get(CRONJOBS, "tick", namespace=namespace)
    (scheduled,) = await eventually(lambda: owned_jobs(client, namespace, cronjob), what="the scheduled job")
    minutes = int(scheduled["metadata"]["name"].rsplit("-", 1)[1])
    assert abs(minutes * 60 - (time.time() + CLOCK_AHEAD_SECONDS)) < 120
    assert scheduled["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"].endswith(":00Z")
    cronjob = await eventually(lambda: _with_active(client, namespace, "tick"), what="the job listed as active")
    assert cronjob["status"]["active"][0]["name"] == scheduled["metadata"]["name"]
    row = (await kubectl_async("get", "cronjob", "tick", "-n", namespace)).stdout.splitlines()[1].split()
    assert row[:7] == ["tick", "*/1", "*", "*", "*", "*", "<none>"] and row[7:9] == ["False", "1"]

    (pod,) = await eventually(lambda: running_pods(client, namespace, scheduled["metadata"]["name"]),
                              what="the scheduled job's pod")
    await finish_pod(client, pod)
    cronjob = await eventually(lambda: _with_success(client, namespace, "tick"), what="the run recorded as successful")
    assert "active" not in cronjob["status"]

    created = await kubectl_async("create", "job", "by-hand", "--from=cronjob/tick", "-n", namespace)
    assert created.stdout.strip() == "job.batch/by-hand created"
    manual = await client.get(JOBS, "by-hand", namespace=namespace)
    assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert manual["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    (manual_pod,) = await eventually(lambda: running_pods(client, namespace, "by-hand"), what="the manual job's pod")
    await finish_pod(client, manual_pod)
    await kubectl_async("wait", "--for=condition=complete", "job/by-hand", "-n", namespace, "--timeout=20s")

    await kubectl_async("delete", "cronjob", "tick", "-n", namespace)
    await eventually(lambda: _no_jobs(client, namespace), what="the cronjob's jobs collected")


async def _with_active(client, namespace: str, name: str) -> dict | None:
    cronjob = await client.get(CRONJOBS, name, namespace=namespace)
    return cronjob if (cronjob.get("status") or {}).get("active") else None


async def _with_success(client, namespace: str, name: str) -> dict | None:
    cronjob = await client.get(CRONJOBS, name, namespace=namespace)
    return cronjob if (cronjob.get("status") or {}).get("lastSuccessfulTime") else None


async def _no_jobs(client, namespace: str) -> bool:
    return not (await client.list(JOBS, namespace=namespace))["items"]


def cronjob_manifest(name: str, *, suspend: bool) -> dict:
    pod_spec = {"restartPolicy": "OnFailure", "containers": [{"name": "main", "image": "busybox"}]}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "*/1 * * * *", "suspend": suspend,
                     "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}


async def test_suspended_cronjob_waits_until_resumed(client, namespace, controllers_ahead, kubectl_async):
    idle = await client.create(CRONJOBS, cronjob_manifest("idle", suspend=True), namespace=namespace)
    busy = await client.create(CRONJOBS, cronjob_manifest("busy", suspend=False), namespace=namespace)
    # Keys are handled first in, first out: once `busy`, created second, has its run and its status, the
    # suspended `idle` has been synced with the same clock.
    await eventually(lambda: owned_jobs(client, namespace, busy), what="the running cronjob's job")
    await eventually(lambda: _with_active(client, namespace, "busy"), what="the running cronjob's status")
    assert await owned_jobs(client, namespace, idle) == []
    await kubectl_async("patch", "cronjob", "idle", "-n", namespace, "-p", '{"spec":{"suspend":false}}')
    await eventually(lambda: owned_jobs(client, namespace, idle), what="the resumed cronjob's job")
