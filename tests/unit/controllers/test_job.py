"""Unit tests of the Job controller's pure decisions (orchestrator.controllers.job.plan)."""

from __future__ import annotations

import copy

import pytest

from orchestrator.client.events import NORMAL, WARNING
from orchestrator.controllers.job.plan import (
    COMPLETION_INDEX_ANNOTATION,
    JOB_TRACKING_FINALIZER,
    format_indexes,
    parse_indexes,
    plan_job,
    pod_failure_backoff_remaining,
    pod_from_job,
    ttl_expiry,
)
from tests.unit.controllers.builders import NOW, new_pod, new_uid, ts


def new_job(name: str = "hello", *, completions: int | None = 1, parallelism: int = 1, backoff_limit: int = 6,
            status: dict | None = None, suspend: bool = False, deadline: int | None = None, indexed: bool = False,
            restart_policy: str = "Never", replacement: str = "TerminatingOrFailed", ttl: int | None = None,
            deleting: bool = False) -> dict:
    uid = new_uid("job")
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name}
    spec: dict = {
        "parallelism": parallelism, "backoffLimit": backoff_limit, "suspend": suspend,
        "completionMode": "Indexed" if indexed else "NonIndexed", "podReplacementPolicy": replacement,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
        "template": {"metadata": {"labels": labels},
                     "spec": {"restartPolicy": restart_policy, "containers": [{"name": "c", "image": "busybox"}]}},
    }
    if completions is not None:
        spec["completions"] = completions
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    metadata: dict = {"name": name, "namespace": "default", "uid": uid, "resourceVersion": "1",
                      "creationTimestamp": ts(-100)}
    if deleting:
        metadata["deletionTimestamp"] = ts(0)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec,
            "status": copy.deepcopy(status if status is not None else {})}


def job_pod(job: dict, name: str, *, phase: str = "Running", ready: bool = False, tracked: bool = True,
            finished_at: float | None = None, deleting: bool = False, index: int | None = None,
            restarts: int = 0) -> dict:
    pod = new_pod(name, owner=job, phase=phase, ready=ready, deleting=deleting, restarts=restarts,
                  labels=job["spec"]["template"]["metadata"]["labels"])
    if tracked:
        pod["metadata"]["finalizers"] = [JOB_TRACKING_FINALIZER]
    if finished_at is not None:
        pod["status"]["containerStatuses"] = [{"name": "c", "restartCount": 0,
                                               "state": {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1,
                                                                        "finishedAt": ts(finished_at)}}}]
    if index is not None:
        pod["metadata"]["annotations"] = {COMPLETION_INDEX_ANNOTATION: str(index)}
    return pod


def running_status(**fields) -> dict:
    return {"startTime": ts(-50), "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0, **fields}


def types_true(status: dict) -> list[str]:
    return [c["type"] for c in status.get("conditions") or [] if c["status"] == "True"]


# ---------------------------------------------------------------- creating and counting


def test_new_job_creates_its_pod_and_starts():
    plan = plan_job(new_job(), pods=[], now=NOW)
    assert plan.create == [None]
    assert plan.status == {"startTime": ts(0), "active": 1, "terminating": 0, "uncountedTerminatedPods": {},
                           "ready": 0}


def test_running_pod_is_left_alone():
    job = new_job(status=running_status(active=1))
    plan = plan_job(job, pods=[job_pod(job, "p", ready=True)], now=NOW)
    assert (plan.create, plan.delete, plan.remove_finalizers) == ([], [], [])
    assert plan.status == running_status(active=1, ready=1)


def test_succeeded_pod_is_listed_uncounted_then_counted():
    job = new_job(status=running_status(active=1))
    pod = job_pod(job, "p", phase="Succeeded", finished_at=-1)
    first = plan_job(job, pods=[pod], now=NOW)
    assert first.status["uncountedTerminatedPods"] == {"succeeded": [pod["metadata"]["uid"]]}
    assert first.remove_finalizers == [pod]
    assert types_true(first.status) == ["SuccessCriteriaMet"]  # Complete waits for the count
    assert "active" not in first.status and first.events == []

    job["status"] = first.status
    counted = copy.deepcopy(pod)
    counted["metadata"]["finalizers"] = []
    second = plan_job(job, pods=[counted], now=NOW + 1)
    assert second.status["succeeded"] == 1 and second.status["uncountedTerminatedPods"] == {}
    assert types_true(second.status) == ["SuccessCriteriaMet", "Complete"]
    complete = second.status["conditions"][1]
    assert (complete["reason"], complete["message"]) == ("CompletionsReached", "Reached expected number of succeeded pods")
    assert second.status["completionTime"] == ts(1)
    assert second.events == [(NORMAL, "Completed", "Job completed")]


def test_finalizer_removal_already_issued_counts_once():
    job = new_job(status=running_status(uncountedTerminatedPods={"succeeded": []}))
    pod = job_pod(job, "p", phase="Succeeded")
    job["status"]["uncountedTerminatedPods"] = {"succeeded": [pod["metadata"]["uid"]]}
    plan = plan_job(job, pods=[pod], now=NOW, expected_finalizer_removals=frozenset({pod["metadata"]["uid"]}))
    assert plan.status["succeeded"] == 1 and plan.remove_finalizers == []


def test_counted_pod_deleted_by_someone_stays_counted():
    job = new_job(completions=3, parallelism=2, status=running_status(succeeded=1, active=1))
    plan = plan_job(job, pods=[job_pod(job, "a")], now=NOW)
    assert plan.status["succeeded"] == 1 and plan.create == [None]


@pytest.mark.parametrize(
    ("completions", "parallelism", "succeeded", "active", "create", "delete"),
    [
        pytest.param(5, 3, 0, 0, 3, 0, id="start-parallel"),
        pytest.param(5, 3, 4, 0, 1, 0, id="only-what-is-left"),
        pytest.param(5, 3, 4, 3, 0, 2, id="too-many-active"),
        pytest.param(None, 2, 0, 1, 1, 0, id="work-queue-fills"),
        pytest.param(None, 2, 1, 1, 0, 0, id="work-queue-drains"),
    ],
)
def test_active_pods_follow_parallelism_and_completions(completions, parallelism, succeeded, active, create, delete):
    job = new_job(completions=completions, parallelism=parallelism, status=running_status(succeeded=succeeded))
    plan = plan_job(job, pods=[job_pod(job, f"p{i}") for i in range(active)], now=NOW)
    assert (len(plan.create), len(plan.delete)) == (create, delete)


def test_work_queue_completes_when_its_last_pod_stops():
    job = new_job(completions=None, parallelism=2, status=running_status(succeeded=1))
    plan = plan_job(job, pods=[], now=NOW)
    assert types_true(plan.status) == ["SuccessCriteriaMet", "Complete"]


def test_waiting_for_own_writes_counts_but_does_not_act():
    job = new_job(status=running_status())
    plan = plan_job(job, pods=[], now=NOW, may_manage=False)
    assert plan.create == [] and "active" not in plan.status


# ---------------------------------------------------------------- failures


def test_failure_beyond_backoff_limit_fails_the_job():
    job = new_job(backoff_limit=0, status=running_status(active=1))
    pod = job_pod(job, "p", phase="Failed", finished_at=-1)
    first = plan_job(job, pods=[pod], now=NOW)
    assert types_true(first.status) == ["FailureTarget"]
    assert first.status["uncountedTerminatedPods"] == {"failed": [pod["metadata"]["uid"]]}
    assert first.create == []

    job["status"] = first.status
    pod["metadata"]["finalizers"] = []
    second = plan_job(job, pods=[pod], now=NOW + 1)
    assert types_true(second.status) == ["FailureTarget", "Failed"]
    failed = second.status["conditions"][1]
    assert (failed["reason"], failed["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert second.status["failed"] == 1 and "completionTime" not in second.status
    assert second.events == [(WARNING, "BackoffLimitExceeded", "Job has reached the specified backoff limit")]


def test_failing_job_deletes_its_active_pods_and_counts_them_failed():
    job = new_job(completions=2, parallelism=2, backoff_limit=0, status=running_status(active=2))
    failed, running = job_pod(job, "a", phase="Failed", finished_at=-1), job_pod(job, "b")
    plan = plan_job(job, pods=[failed, running], now=NOW)
    assert plan.delete == [running]
    assert sorted(plan.status["uncountedTerminatedPods"]["failed"]) == sorted(
        [failed["metadata"]["uid"], running["metadata"]["uid"]])
    assert plan.status["terminating"] == 1


def test_replacement_waits_for_the_pod_failure_backoff():
    job = new_job(status=running_status(failed=1))
    failed = job_pod(job, "a", phase="Failed", tracked=False, finished_at=-4)
    waiting = plan_job(job, pods=[failed], now=NOW)
    assert waiting.create == [] and waiting.requeue_after == pytest.approx(6)
    later = plan_job(job, pods=[failed], now=NOW + 7)
    assert later.create == [None]


def test_backoff_doubles_per_failure_since_the_last_success():
    job = new_job()
    pods = [job_pod(job, "ok", phase="Succeeded", finished_at=-100)]
    pods += [job_pod(job, f"f{i}", phase="Failed", finished_at=-10 + i) for i in range(3)]
    assert pod_failure_backoff_remaining(pods, now=NOW) == pytest.approx(40 - 8)  # 10 * 2^2 since the last one
    assert pod_failure_backoff_remaining(pods, now=NOW, maximum=20) == pytest.approx(20 - 8)
    pods.append(job_pod(job, "ok2", phase="Succeeded", finished_at=-1))
    assert pod_failure_backoff_remaining(pods, now=NOW) == 0


def test_on_failure_restarts_count_against_the_backoff_limit():
    job = new_job(restart_policy="OnFailure", backoff_limit=2, status=running_status(active=1))
    plan = plan_job(job, pods=[job_pod(job, "p", restarts=2)], now=NOW)
    assert types_true(plan.status) == ["FailureTarget"]


def test_terminating_pod_is_a_failure_unless_only_failed_pods_are_replaced():
    for replacement, failed, creates in (("TerminatingOrFailed", 1, 1), ("Failed", 0, 0)):
        job = new_job(replacement=replacement, status=running_status(active=1))
        terminating = job_pod(job, "p", deleting=True)
        terminating["metadata"]["deletionTimestamp"] = ts(-20)  # its failure backoff has passed
        plan = plan_job(job, pods=[terminating], now=NOW)
        assert len(plan.status["uncountedTerminatedPods"].get("failed", [])) == failed, replacement
        assert len(plan.create) == creates, replacement
        assert plan.status["terminating"] == 1


def test_active_deadline():
    job = new_job(deadline=60, status=running_status(active=1))
    running = job_pod(job, "p")
    before = plan_job(job, pods=[running], now=NOW)  # started 50 s ago
    assert before.requeue_after == pytest.approx(10) and types_true(before.status) == []
    after = plan_job(job, pods=[running], now=NOW + 11)
    assert types_true(after.status) == ["FailureTarget"]
    assert after.status["conditions"][0]["reason"] == "DeadlineExceeded"
    assert after.delete == [running]


# ---------------------------------------------------------------- suspend, finish, delete


def test_suspend_deletes_active_pods_and_resume_restarts_the_clock():
    job = new_job(suspend=True, status=running_status(active=1))
    running = job_pod(job, "p")
    suspended = plan_job(job, pods=[running], now=NOW)
    assert suspended.delete == [running] and suspended.create == []
    assert types_true(suspended.status) == ["Suspended"]
    assert suspended.events == [(NORMAL, "Suspended", "Job suspended")]

    job["spec"]["suspend"] = False
    job["status"] = suspended.status
    resumed = plan_job(job, pods=[], now=NOW + 30)
    assert resumed.status["conditions"][0]["status"] == "False"
    assert resumed.status["conditions"][0]["reason"] == "JobResumed"
    assert resumed.status["startTime"] == ts(30)
    assert resumed.events == [(NORMAL, "Resumed", "Job resumed")] and resumed.create == [None]


def test_job_created_suspended_has_no_start_time():
    plan = plan_job(new_job(suspend=True), pods=[], now=NOW)
    assert "startTime" not in plan.status and plan.create == []


def test_finished_job_only_releases_leftover_pods():
    status = running_status(succeeded=1, conditions=[{"type": "Complete", "status": "True"}])
    job = new_job(status=status)
    leftover = job_pod(job, "late")
    plan = plan_job(job, pods=[leftover], now=NOW)
    assert plan.create == [] and plan.delete == [] and plan.remove_finalizers == [leftover]
    assert plan.status == job["status"]


def test_job_being_deleted_releases_its_running_pods():
    job = new_job(deleting=True, status=running_status(active=1))
    running = job_pod(job, "p")
    plan = plan_job(job, pods=[running], now=NOW)
    assert plan.create == [] and plan.delete == [] and plan.remove_finalizers == [running]
    assert plan.status["uncountedTerminatedPods"] == {}


# ---------------------------------------------------------------- Indexed


def test_indexed_job_runs_the_lowest_pending_indexes():
    job = new_job(indexed=True, completions=5, parallelism=2, status=running_status(completedIndexes="0"))
    pods = [job_pod(job, "i0", phase="Succeeded", tracked=False, index=0), job_pod(job, "i1", index=1)]
    plan = plan_job(job, pods=pods, now=NOW)
    assert plan.create == [2]
    assert plan.status["completedIndexes"] == "0" and plan.status["succeeded"] == 1


def test_indexed_job_deletes_duplicates_and_completes_with_all_indexes():
    job = new_job(indexed=True, completions=3, parallelism=3, status=running_status())
    duplicates = [job_pod(job, "a", index=1), job_pod(job, "b", index=1)]
    plan = plan_job(job, pods=duplicates, now=NOW)
    assert len(plan.delete) == 1 and plan.create == []

    done = [job_pod(job, f"i{i}", phase="Succeeded", tracked=False, index=i) for i in range(3)]
    finished = plan_job(new_job(indexed=True, completions=3, status=running_status()), pods=done, now=NOW)
    assert finished.status["completedIndexes"] == "0-2" and finished.status["succeeded"] == 3
    assert types_true(finished.status) == ["SuccessCriteriaMet", "Complete"]


@pytest.mark.parametrize(
    ("indexes", "text"),
    [
        pytest.param(set(), "", id="none"),
        pytest.param({0, 1}, "0,1", id="two-are-not-a-run"),
        pytest.param({1, 3, 4, 5, 7}, "1,3-5,7", id="kubernetes-example"),
    ],
)
def test_index_format_round_trips(indexes, text):
    assert format_indexes(indexes) == text
    assert parse_indexes(text) == indexes


# ---------------------------------------------------------------- the pods it makes, ttl


def test_pod_from_job_is_owned_tracked_and_labelled():
    job = new_job()
    pod = pod_from_job(job, index=None)
    metadata = pod["metadata"]
    assert metadata["generateName"] == "hello-"
    assert metadata["labels"] == job["spec"]["template"]["metadata"]["labels"]
    assert metadata["finalizers"] == [JOB_TRACKING_FINALIZER]
    assert metadata["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "hello",
                                            "uid": job["metadata"]["uid"], "controller": True,
                                            "blockOwnerDeletion": True}]
    assert pod["spec"]["restartPolicy"] == "Never"


def test_indexed_pod_knows_its_index():
    pod = pod_from_job(new_job(indexed=True, completions=3), index=2)
    assert pod["metadata"]["generateName"] == "hello-2-"
    assert pod["metadata"]["annotations"][COMPLETION_INDEX_ANNOTATION] == "2"
    assert pod["spec"]["hostname"] == "hello-2"
    assert pod["spec"]["containers"][0]["env"] == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {
        "fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]


def test_ttl_expiry_counts_from_the_terminal_condition():
    finished = {"conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": ts(-5)}]}
    assert ttl_expiry(new_job(ttl=30, status=finished)) == NOW + 25
    assert ttl_expiry(new_job(ttl=30, status=running_status())) is None
    assert ttl_expiry(new_job(status=finished)) is None
