"""Unit tests of the CronJob controller's pure decisions (orchestrator.controllers.cronjob.plan), on a fake clock."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from orchestrator.client.events import NORMAL, WARNING
from orchestrator.controllers.cronjob.plan import SCHEDULED_TIMESTAMP_ANNOTATION, job_name, plan_cronjob
from tests.unit.controllers.builders import new_uid


def clock(text: str) -> float:
    """Seconds since the epoch of a UTC wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def stamp(text: str) -> str:
    return text + "Z"


def minutes(text: str) -> int:
    return int(clock(text)) // 60


def new_cronjob(schedule: str = "*/5 * * * *", *, created: str = "2024-05-01T12:01:30", policy: str = "Allow",
                status: dict | None = None, **spec_fields) -> dict:
    spec = {"schedule": schedule, "concurrencyPolicy": policy, "suspend": False, "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"labels": {"team": "data"}},
                            "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                                           "containers": [{"name": "c", "image": "busybox"}]}}}},
            **spec_fields}
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default", "uid": new_uid("cj"), "resourceVersion": "1",
                         "creationTimestamp": stamp(created)},
            "spec": spec, "status": copy.deepcopy(status or {})}


def owned_job(cronjob: dict, name: str, *, finished: str | None = None, started: str = "2024-05-01T12:00:00",
              completed: str | None = None) -> dict:
    status: dict = {"startTime": stamp(started)}
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
    if completed:
        status["completionTime"] = stamp(completed)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default", "uid": new_uid("job"), "resourceVersion": "7",
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "controller": True,
                                              "name": cronjob["metadata"]["name"],
                                              "uid": cronjob["metadata"]["uid"]}]},
            "spec": {}, "status": status}


def reference(job: dict) -> dict:
    return {"kind": "Job", "namespace": "default", "name": job["metadata"]["name"], "uid": job["metadata"]["uid"],
            "apiVersion": "batch/v1", "resourceVersion": "7"}


# ---------------------------------------------------------------- when to run


def test_before_the_first_run_it_waits_for_it():
    plan = plan_cronjob(new_cronjob(), jobs=[], now=clock("2024-05-01T12:04:00"))
    assert plan.create is None
    assert plan.requeue_after == pytest.approx(60.1)


def test_a_due_run_creates_its_job():
    cronjob = new_cronjob()
    plan = plan_cronjob(cronjob, jobs=[], now=clock("2024-05-01T12:05:10"))
    job = plan.create
    assert job["metadata"]["name"] == f"tick-{minutes('2024-05-01T12:05:00')}"
    assert job["metadata"]["labels"] == {"team": "data"}
    assert job["metadata"]["annotations"] == {SCHEDULED_TIMESTAMP_ANNOTATION: "2024-05-01T12:05:00Z"}
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "tick",
                                                  "uid": cronjob["metadata"]["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]
    assert job["spec"] == cronjob["spec"]["jobTemplate"]["spec"]
    assert plan.scheduled_time == "2024-05-01T12:05:00Z"
    assert plan.requeue_after == pytest.approx(290.1)


def test_a_run_already_made_is_not_made_again():
    cronjob = new_cronjob(status={"lastScheduleTime": stamp("2024-05-01T12:05:00")})
    plan = plan_cronjob(cronjob, jobs=[], now=clock("2024-05-01T12:07:00"))
    assert plan.create is None and plan.requeue_after == pytest.approx(180.1)


def test_after_an_outage_only_the_most_recent_run_is_made():
    plan = plan_cronjob(new_cronjob(), jobs=[], now=clock("2024-05-01T12:32:00"))
    assert plan.create["metadata"]["name"] == f"tick-{minutes('2024-05-01T12:30:00')}"


def test_starting_deadline_skips_runs_too_old_to_start():
    cronjob = new_cronjob(startingDeadlineSeconds=60)
    assert plan_cronjob(cronjob, jobs=[], now=clock("2024-05-01T12:32:00")).create is None
    assert plan_cronjob(cronjob, jobs=[], now=clock("2024-05-01T12:30:40")).create is not None


def test_far_too_many_missed_runs_are_reported():
    plan = plan_cronjob(new_cronjob("* * * * *"), jobs=[], now=clock("2024-05-02T12:00:00"))
    assert (WARNING, "TooManyMissedTimes",
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew") \
        in plan.events
    assert plan.create["metadata"]["name"] == f"tick-{minutes('2024-05-02T12:00:00')}"


def test_schedule_in_its_time_zone():
    cronjob = new_cronjob("0 9 * * *", timeZone="Europe/Berlin")
    plan = plan_cronjob(cronjob, jobs=[], now=clock("2024-05-02T07:00:30"))  # 09:00:30 in Berlin
    assert plan.create["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION] == "2024-05-02T09:00:00+02:00"
    assert plan.scheduled_time == "2024-05-02T07:00:00Z"


def test_suspended_cronjob_makes_no_runs():
    plan = plan_cronjob(new_cronjob(suspend=True), jobs=[], now=clock("2024-05-01T12:05:10"))
    assert plan.create is None and plan.requeue_after is None


@pytest.mark.parametrize(
    ("spec_fields", "reason"),
    [
        pytest.param({"schedule": "61 * * * *"}, "UnparseableSchedule", id="schedule"),
        pytest.param({"timeZone": "Mars/Olympus"}, "UnknownTimeZone", id="time-zone"),
    ],
)
def test_unusable_schedule_is_reported(spec_fields, reason):
    plan = plan_cronjob(new_cronjob(**spec_fields), jobs=[], now=clock("2024-05-01T12:05:10"))
    assert plan.create is None and [event[1] for event in plan.events] == [reason]


# ---------------------------------------------------------------- concurrency


def test_concurrency_policies_with_a_run_still_going():
    cronjob = new_cronjob(status={"lastScheduleTime": stamp("2024-05-01T12:00:00")})
    running = owned_job(cronjob, f"tick-{minutes('2024-05-01T12:00:00')}")
    cronjob["status"]["active"] = [reference(running)]
    now = clock("2024-05-01T12:05:10")

    allow = plan_cronjob(cronjob, jobs=[running], now=now)
    assert allow.create is not None and allow.delete == []
    assert allow.status["active"] == [reference(running)]

    forbid = plan_cronjob(new_cronjob_like(cronjob, "Forbid"), jobs=[running], now=now)
    assert forbid.create is None
    assert forbid.events == [(NORMAL, "JobAlreadyActive",
                              "Not starting job because prior execution is running and concurrency policy is Forbid")]

    replace = plan_cronjob(new_cronjob_like(cronjob, "Replace"), jobs=[running], now=now)
    assert replace.delete == [running] and replace.create is not None
    assert "active" not in replace.status


def new_cronjob_like(cronjob: dict, policy: str) -> dict:
    changed = copy.deepcopy(cronjob)
    changed["spec"]["concurrencyPolicy"] = policy
    return changed


# ---------------------------------------------------------------- status and history


def test_finished_job_leaves_the_active_list_and_marks_success():
    cronjob = new_cronjob(status={"lastScheduleTime": stamp("2024-05-01T12:05:00")})
    done = owned_job(cronjob, "tick-1", finished="Complete", completed="2024-05-01T12:05:30")
    cronjob["status"]["active"] = [reference(done)]
    plan = plan_cronjob(cronjob, jobs=[done], now=clock("2024-05-01T12:06:00"))
    assert "active" not in plan.status
    assert plan.status["lastSuccessfulTime"] == "2024-05-01T12:05:30Z"
    assert plan.events == [(NORMAL, "SawCompletedJob", "Saw completed job: tick-1, condition: Complete")]


def test_missing_and_unexpected_jobs_are_reported():
    cronjob = new_cronjob(status={"lastScheduleTime": stamp("2024-05-01T12:05:00"),
                                  "active": [{"kind": "Job", "name": "tick-gone", "uid": "gone-uid"}]})
    stray = owned_job(cronjob, "manual-run")
    plan = plan_cronjob(cronjob, jobs=[stray], now=clock("2024-05-01T12:06:00"), gone_uids=frozenset({"gone-uid"}))
    assert plan.events == [
        (WARNING, "UnexpectedJob", "Saw a job that the controller did not create or forgot: manual-run"),
        (NORMAL, "MissingJob", "Active job went missing: tick-gone"),
    ]
    assert "active" not in plan.status


def test_history_limits_delete_the_oldest_finished_jobs():
    cronjob = new_cronjob(status={"lastScheduleTime": stamp("2024-05-01T12:05:00")}, successfulJobsHistoryLimit=2)
    succeeded = [owned_job(cronjob, f"ok-{i}", finished="Complete", started=f"2024-05-01T12:0{i}:00") for i in range(4)]
    failed = [owned_job(cronjob, f"bad-{i}", finished="Failed", started=f"2024-05-01T11:0{i}:00") for i in range(2)]
    running = owned_job(cronjob, "now")
    cronjob["status"]["active"] = [reference(running)]
    plan = plan_cronjob(cronjob, jobs=[*reversed(succeeded), *failed, running], now=clock("2024-05-01T12:06:00"))
    assert [job["metadata"]["name"] for job in plan.delete] == ["ok-0", "ok-1", "bad-0"]


def test_job_name_is_minutes_since_the_epoch():
    scheduled = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
    assert job_name(new_cronjob(), scheduled) == "tick-28576085"  # 1714565100 s / 60
