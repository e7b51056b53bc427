"""Jobs end to end: the controller-manager against the real apiserver and etcd, driven by kubectl.

There is no kubelet here: a test "runs" a pod by writing the status a kubelet would
(`finish_pod`). The controllers run in-process with a short pod failure backoff, so the
backoff tests do not wait Kubernetes' 10 seconds per failure.
"""

from __future__ import annotations

import asyncio
import copy

import pytest

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import JOBS, PODS
from orchestrator.controllers.job.plan import JOB_TRACKING_FINALIZER
from orchestrator.controllers.manager import ControllerManager
from tests.integration.controllers.helpers import eventually, now_text


@pytest.fixture
async def job_controllers(client):
    manager = ControllerManager(client, job_pod_failure_backoff=0.2)
    task = asyncio.create_task(manager.run())
    yield manager
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def job_manifest(name: str = "work", *, completions: int = 1, parallelism: int = 1, backoff_limit: int = 6,
                 **spec_fields) -> dict:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"completions": completions, "parallelism": parallelism, "backoffLimit": backoff_limit,
                 "template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "main", "image": "busybox"}]}},
                 **spec_fields},
    }


async def finish_pod(client, pod: dict, *, succeeded: bool = True) -> dict:
    """What the kubelet reports when the pod's only container exits (0 or 1)."""
    body = copy.deepcopy(pod)
    stamp = now_text()
    body["status"] = {
        "phase": "Succeeded" if succeeded else "Failed",
        "startTime": stamp,
        "containerStatuses": [{
            "name": "main", "image": "busybox", "imageID": "", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0 if succeeded else 1,
                                     "reason": "Completed" if succeeded else "Error",
                                     "startedAt": stamp, "finishedAt": stamp}},
        }],
    }
    return await client.update(PODS, body, subresource="status")


async def job_pods(client, namespace: str, job: str) -> list[dict]:
    pods = (await client.list(PODS, namespace=namespace, label_selector=f"batch.kubernetes.io/job-name={job}"))["items"]
    return sorted(pods, key=lambda pod: pod["metadata"]["creationTimestamp"])


async def running_pods(client, namespace: str, job: str) -> list[dict]:
    return [pod for pod in await job_pods(client, namespace, job)
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not pod["metadata"].get("deletionTimestamp")]


def condition_true(job: dict, condition_type: str) -> bool:
    return any(c["type"] == condition_type and c["status"] == "True" for c in (job.get("status") or {}).get("conditions") or [])


async def test_kubectl_create_job_runs_to_completion(client, namespace, job_controllers, kubectl_async):
    await kubectl_async("create", "job", "hello", "--image=busybox", "-n", namespace, "--", "echo", "hi")
    (pod,) = await eventually(lambda: running_pods(client, namespace, "hello"), what="the job's pod")
    assert pod["metadata"]["name"].startswith("hello-")
    assert JOB_TRACKING_FINALIZER in pod["metadata"]["finalizers"]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    listing = (await kubectl_async("get", "jobs", "-n", namespace)).stdout.splitlines()
    assert listing[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert listing[1].split()[:3] == ["hello", "Running", "0/1"]

    await finish_pod(client, pod)
    await kubectl_async("wait", "--for=condition=complete", "job/hello", "-n", namespace, "--timeout=20s")
    job = await client.get(JOBS, "hello", namespace=namespace)
    status = job["status"]
    assert (status["succeeded"], status["uncountedTerminatedPods"], status["ready"]) == (1, {}, 0)
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert status["completionTime"] >= status["startTime"]
    (done,) = await job_pods(client, namespace, "hello")
    assert JOB_TRACKING_FINALIZER not in (done["metadata"].get("finalizers") or [])

    row = (await kubectl_async("get", "jobs", "-n", namespace)).stdout.splitlines()[1].split()
    assert row[:3] == ["hello", "Complete", "1/1"]
    described = (await kubectl_async("describe", "job", "hello", "-n", namespace)).stdout
    assert "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed" in described
    await eventually(lambda: _described_events(kubectl_async, namespace, "hello",
                                               ["SuccessfulCreate", "Created pod: hello-", "Completed", "Job completed"]),
                     what="the job's events")


async def _described_events(kubectl_async, namespace: str, name: str, words: list[str]) -> bool:
    described = (await kubectl_async("describe", "job", name, "-n", namespace)).stdout
    return all(word in described for word in words)


async def test_failures_past_the_backoff_limit_fail_the_job(client, namespace, job_controllers, kubectl_async):
    await client.create(JOBS, job_manifest("flaky", backoff_limit=1), namespace=namespace)
    for attempt in range(2):
        (pod,) = await eventually(lambda: running_pods(client, namespace, "flaky"), what=f"attempt {attempt + 1}")
        await finish_pod(client, pod, succeeded=False)
    await kubectl_async("wait", "--for=condition=failed", "job/flaky", "-n", namespace, "--timeout=20s")
    job = await client.get(JOBS, "flaky", namespace=namespace)
    assert job["status"]["failed"] == 2 and "succeeded" not in job["status"]
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert (failed["reason"], failed["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert len(await job_pods(client, namespace, "flaky")) == 2  # no third attempt
    row = (await kubectl_async("get", "jobs", "-n", namespace)).stdout.splitlines()[1].split()
    assert row[:3] == ["flaky", "Failed", "0/1"]


async def test_parallel_job_keeps_parallelism_until_completions(client, namespace, job_controllers):
    await client.create(JOBS, job_manifest("batch", completions=3, parallelism=2), namespace=namespace)
    finished = 0
    while finished < 3:
        pods = await eventually(lambda: running_pods(client, namespace, "batch"), what="a running pod")
        assert len(pods) <= 2
        await finish_pod(client, pods[0])
        finished += 1
    job = await eventually(lambda: _finished_job(client, namespace, "batch"), what="job complete")
    assert condition_true(job, "Complete") and job["status"]["succeeded"] == 3
    assert len(await job_pods(client, namespace, "batch")) == 3


async def _finished_job(client, namespace: str, name: str) -> dict | None:
    job = await client.get(JOBS, name, namespace=namespace)
    return job if condition_true(job, "Complete") or condition_true(job, "Failed") else None


async def test_deadline_suspend_and_ttl(client, namespace, job_controllers, kubectl_async):
    await client.create(JOBS, job_manifest("slow", activeDeadlineSeconds=1), namespace=namespace)
    await kubectl_async("wait", "--for=condition=failed", "job/slow", "-n", namespace, "--timeout=20s")
    job = await client.get(JOBS, "slow", namespace=namespace)
    assert next(c for c in job["status"]["conditions"] if c["type"] == "Failed")["reason"] == "DeadlineExceeded"
    await eventually(lambda: _no_pods(client, namespace, "slow"), what="the pod past its deadline deleted")

    await client.create(JOBS, job_manifest("paused"), namespace=namespace)
    await eventually(lambda: running_pods(client, namespace, "paused"), what="a pod before suspending")
    await kubectl_async("patch", "job", "paused", "-n", namespace, "-p", '{"spec":{"suspend":true}}')
    await eventually(lambda: _no_pods(client, namespace, "paused"), what="pods of the suspended job deleted")
    job = await eventually(lambda: _with_condition(client, namespace, "paused", "Suspended"), what="Suspended")
    assert (await kubectl_async("get", "job", "paused", "-n", namespace)).stdout.splitlines()[1].split()[1] == "Suspended"
    await kubectl_async("patch", "job", "paused", "-n", namespace, "-p", '{"spec":{"suspend":false}}')
    (pod,) = await eventually(lambda: running_pods(client, namespace, "paused"), what="a pod after resuming")

    await kubectl_async("patch", "job", "paused", "-n", namespace, "-p", '{"spec":{"ttlSecondsAfterFinished":0}}')
    await finish_pod(client, pod)
    await eventually(lambda: _gone(client, namespace, "paused"), what="the finished job deleted by its TTL")
    await eventually(lambda: _no_pods(client, namespace, "paused"), what="its pods collected")


async def _no_pods(client, namespace: str, job: str) -> bool:
    return not await job_pods(client, namespace, job)


async def _with_condition(client, namespace: str, name: str, condition_type: str) -> dict | None:
    job = await client.get(JOBS, name, namespace=namespace)
    return job if condition_true(job, condition_type) else None


async def _gone(client, namespace: str, name: str) -> bool:
    try:
        await client.get(JOBS, name, namespace=namespace)
    except NotFound:
        return True
    return False


async def test_deleting_a_running_job_releases_and_removes_its_pods(client, namespace, job_controllers, kubectl_async):
    await client.create(JOBS, job_manifest("doomed", completions=2, parallelism=2), namespace=namespace)
    await eventually(lambda: _count_running(client, namespace, "doomed", 2), what="two pods")
    await kubectl_async("delete", "job", "doomed", "-n", namespace, "--wait=false")
    await eventually(lambda: _gone(client, namespace, "doomed"), what="job deleted")
    await eventually(lambda: _no_pods(client, namespace, "doomed"), what="pods deleted, finalizers released")


async def _count_running(client, namespace: str, job: str, count: int) -> bool:
    return len(await running_pods(client, namespace, job)) == count
