"""Table rows of the batch/v1 and later workload kinds equal Kubernetes 1.32's printers (orchestrator.apiserver.tables)."""

from __future__ import annotations

import pytest

from orchestrator.apiserver.tables import column_definitions
from tests.unit.apiserver.test_tables import ago, cells, meta


def headers(resource: str) -> str:
    """As kubectl prints them: upper case, priority-1 (wide) columns after the bar."""
    columns = column_definitions(resource)

    def names(priority: int) -> list[str]:
        return [c["name"].upper().replace(" ", "-") for c in columns if c["priority"] == priority]

    return " ".join([*names(0), "|", *names(1)])


# ----- Job -------------------------------------------------------------------------------------


def new_job(*, completions: int | None = 1, parallelism: int = 1, status: dict | None = None,
            deleting: bool = False) -> dict:
    spec: dict = {"parallelism": parallelism,
                  "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                  "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"},
                                                       {"name": "log", "image": "busybox"}]}}}
    if completions is not None:
        spec["completions"] = completions
    metadata = meta("pi", deletionTimestamp=ago(seconds=1)) if deleting else meta("pi")
    return {"metadata": metadata, "spec": spec, "status": status or {}}


def true(condition_type: str) -> dict:
    return {"type": condition_type, "status": "True"}


def test_job_headers():
    assert headers("jobs") == "NAME STATUS COMPLETIONS DURATION AGE | CONTAINERS IMAGES SELECTOR"


def test_running_job_row():
    job = new_job(status={"startTime": ago(seconds=30), "active": 1})
    assert cells("jobs", job) == ["pi", "Running", "0/1", "30s", "5m", "pi,log", "perl:5.34,busybox",
                                  "batch.kubernetes.io/controller-uid=u1"]


@pytest.mark.parametrize(
    ("status", "deleting", "expected"),
    [
        pytest.param({"conditions": [true("SuccessCriteriaMet"), true("Complete")]}, False, "Complete", id="complete"),
        pytest.param({"conditions": [true("FailureTarget"), true("Failed")]}, False, "Failed", id="failed"),
        pytest.param({"conditions": [true("FailureTarget")]}, False, "FailureTarget", id="failing"),
        pytest.param({"conditions": [true("SuccessCriteriaMet")]}, False, "Running", id="succeeding-is-running-in-1-32"),
        pytest.param({"conditions": [true("Suspended")]}, False, "Suspended", id="suspended"),
        pytest.param({"conditions": [{"type": "Suspended", "status": "False"}]}, False, "Running", id="resumed"),
        pytest.param({"conditions": [true("Suspended")]}, True, "Terminating", id="terminating-wins-over-suspended"),
        pytest.param({"conditions": [true("Complete")]}, True, "Complete", id="complete-wins-over-terminating"),
        pytest.param({}, False, "Running", id="new"),
    ],
)
def test_job_status_cell(status, deleting, expected):
    assert cells("jobs", new_job(status=status, deleting=deleting))[1] == expected


@pytest.mark.parametrize(
    ("completions", "parallelism", "succeeded", "expected"),
    [
        pytest.param(3, 2, 1, "1/3", id="completions"),
        pytest.param(None, 1, 0, "0/1", id="work-queue"),
        pytest.param(None, 3, 1, "1/1 of 3", id="parallel-work-queue"),
    ],
)
def test_job_completions_cell(completions, parallelism, succeeded, expected):
    job = new_job(completions=completions, parallelism=parallelism, status={"succeeded": succeeded})
    assert cells("jobs", job)[2] == expected


def test_job_duration_is_start_to_completion_once_complete():
    job = new_job(status={"startTime": ago(minutes=4), "completionTime": ago(minutes=1, seconds=55),
                          "conditions": [true("Complete")], "succeeded": 1})
    assert cells("jobs", job)[2:4] == ["1/1", "2m5s"]
    assert cells("jobs", new_job())[3] == ""  # not started


# ----- CronJob ---------------------------------------------------------------------------------


def test_cronjob_headers():
    assert headers("cronjobs") == \
        "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST-SCHEDULE AGE | CONTAINERS IMAGES SELECTOR"


@pytest.mark.parametrize(
    ("spec_extra", "status", "expected"),
    [
        pytest.param({"suspend": False}, {}, ["tick", "*/1 * * * *", "<none>", "False", 0, "<none>", "5m"], id="new"),
        pytest.param({"suspend": True, "timeZone": "Europe/Berlin"},
                     {"active": [{"name": "tick-1"}], "lastScheduleTime": "2024-05-01T11:59:00Z"},
                     ["tick", "*/1 * * * *", "Europe/Berlin", "True", 1, "60s", "5m"], id="scheduled"),
        pytest.param({}, {}, ["tick", "*/1 * * * *", "<none>", "<unset>", 0, "<none>", "5m"], id="suspend-unset"),
    ],
)
def test_cronjob_cells(spec_extra, status, expected):
    cronjob = {"metadata": meta("tick"),
               "spec": {"schedule": "*/1 * * * *", **spec_extra,
                        "jobTemplate": {"spec": {"template": {"spec": {"containers": [
                            {"name": "tick", "image": "busybox"}]}}}}},
               "status": status}
    assert cells("cronjobs", cronjob) == [*expected, "tick", "busybox", "<none>"]


# ----- DaemonSet -------------------------------------------------------------------------------


def test_daemonset_headers():
    assert headers("daemonsets") == \
        "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE-SELECTOR AGE | CONTAINERS IMAGES SELECTOR"


def test_daemonset_cells():
    daemon_set = {"metadata": meta("agent"),
                  "spec": {"selector": {"matchLabels": {"app": "agent"}},
                           "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                                 "containers": [{"name": "agent", "image": "busybox"}]}}},
                  "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                             "updatedNumberScheduled": 1, "numberAvailable": 2}}
    assert cells("daemonsets", daemon_set) == ["agent", 3, 3, 2, 1, 2, "kubernetes.io/os=linux", "5m", "agent",
                                               "busybox", "app=agent"]
    daemon_set["spec"]["template"]["spec"].pop("nodeSelector")
    daemon_set["status"] = {}
    assert cells("daemonsets", daemon_set)[1:7] == [0, 0, 0, 0, 0, "<none>"]
