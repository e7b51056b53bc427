"""batch/v1 defaulting and validation produce what a Kubernetes 1.32 apiserver produces (strategies/batch.py)."""

from __future__ import annotations

import copy

import pytest

from orchestrator.apiserver.strategies import STRATEGIES

UID = "0b3f8e56-5d1c-4d0e-9d8a-3c1f2d7e6a11"


def new_job(name: str = "pi", *, restart_policy: str | None = "Never", labels: dict | None = None,
            **spec_fields) -> dict:
    pod_spec: dict = {"containers": [{"name": "pi", "image": "perl:5.34"}]}
    if restart_policy is not None:
        pod_spec["restartPolicy"] = restart_policy
    template: dict = {"spec": pod_spec}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
            "spec": {"template": template, **spec_fields}}


def created(obj: dict) -> dict:
    """As the REST layer stores it: uid first (FillObjectMetaSystemFields), then prepared and defaulted."""
    obj = copy.deepcopy(obj)
    obj["metadata"]["uid"] = UID
    strategy = STRATEGIES[obj["kind"]]
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def create_errors(obj: dict) -> list[str]:
    return [error.message() for error in STRATEGIES[obj["kind"]].validate(created(obj))]


def update_errors(new: dict, old: dict) -> list[str]:
    strategy = STRATEGIES[new["kind"]]
    new = copy.deepcopy(new)
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    return [error.message() for error in strategy.validate_update(new, old)]


def test_job_defaults_and_generated_selector():
    job = created(new_job())
    generated = {"batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "pi",
                 "controller-uid": UID, "job-name": "pi"}
    spec = job["spec"]
    assert {key: spec[key] for key in ("completions", "parallelism", "backoffLimit", "completionMode", "suspend",
                                       "manualSelector", "podReplacementPolicy")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
        "manualSelector": False, "podReplacementPolicy": "TerminatingOrFailed"}
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert spec["template"]["metadata"]["labels"] == generated
    assert job["metadata"]["labels"] == generated  # a Job without labels takes its template's
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30  # the pod defaults apply too
    assert job["status"] == {}
    assert create_errors(new_job()) == []


def test_parallelism_alone_leaves_completions_unset():
    spec = created(new_job(parallelism=3))["spec"]
    assert "completions" not in spec and spec["parallelism"] == 3


def test_job_labels_of_its_own_are_kept():
    job = new_job()
    job["metadata"]["labels"] = {"team": "data"}
    assert created(job)["metadata"]["labels"] == {"team": "data"}


@pytest.mark.parametrize(
    ("restart_policy", "message"),
    [
        pytest.param(None, 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
                     id="unset-defaults-to-always"),
        pytest.param("Always", 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
                     id="always"),
    ],
)
def test_job_pods_must_not_restart_always(restart_policy, message):
    assert create_errors(new_job(restart_policy=restart_policy)) == [message]


def test_on_failure_is_accepted():
    assert create_errors(new_job(restart_policy="OnFailure")) == []


@pytest.mark.parametrize(
    ("spec_fields", "message"),
    [
        pytest.param({"parallelism": -1}, "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                     id="parallelism"),
        pytest.param({"backoffLimit": -2}, "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
                     id="backoff-limit"),
        pytest.param({"completionMode": "Sometimes"},
                     'spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"',
                     id="completion-mode"),
        pytest.param({"completionMode": "Indexed", "parallelism": 2},
                     "spec.completions: Required value: when completion mode is Indexed", id="indexed-needs-completions"),
        pytest.param({"podReplacementPolicy": "Never"},
                     'spec.podReplacementPolicy: Unsupported value: "Never": supported values: "Failed", '
                     '"TerminatingOrFailed"', id="replacement-policy"),
    ],
)
def test_job_spec_errors(spec_fields, message):
    assert message in create_errors(new_job(**spec_fields))


def test_manual_selector_must_match_the_template():
    job = new_job(labels={"app": "pi"}, manualSelector=True, selector={"matchLabels": {"app": "other"}})
    assert create_errors(job) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"pi"}: '
        "`selector` does not match template `labels`"]
    assert create_errors(new_job(labels={"app": "pi"}, manualSelector=True)) == ["spec.selector: Required value"]
    assert create_errors(new_job(labels={"app": "pi"}, manualSelector=True,
                                 selector={"matchLabels": {"app": "pi"}})) == []


def test_conflicting_generated_label_is_refused():
    errors = create_errors(new_job(labels={"controller-uid": "someone-else"}))
    assert errors == [f"spec.template.metadata.labels: Invalid value: \"someone-else\": must be '{UID}'"]


def test_selector_without_manual_selector_is_refused():
    errors = create_errors(new_job(labels={"app": "pi"}, selector={"matchLabels": {"app": "pi"}}))
    assert len(errors) == 1
    assert errors[0].startswith("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{")
    assert errors[0].endswith(": `selector` not auto-generated")


def test_indexed_job_name_must_leave_room_for_the_index():
    job = new_job(name="a" * 62, completionMode="Indexed", completions=10)
    assert f"metadata.name: Invalid value: \"{'a' * 62}\": will not able to create pod with invalid DNS label: " \
           f"{'a' * 62}-9" in create_errors(job)


def test_job_update_keeps_selector_and_template_unless_suspended():
    old = created(new_job())
    changed_image = copy.deepcopy(old)
    changed_image["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5.36"
    errors = update_errors(changed_image, old)
    assert len(errors) == 1 and errors[0].startswith("spec.template: Invalid value: ")
    assert errors[0].endswith(": field is immutable")

    suspended = copy.deepcopy(old)
    suspended["spec"]["suspend"] = True
    changed_suspended = copy.deepcopy(changed_image)
    changed_suspended["spec"]["suspend"] = True
    assert update_errors(changed_suspended, suspended) == []

    more_parallel = copy.deepcopy(old)
    more_parallel["spec"]["parallelism"] = 4
    assert update_errors(more_parallel, old) == []
    other_completions = copy.deepcopy(old)
    other_completions["spec"]["completions"] = 3
    assert update_errors(other_completions, old) == ["spec.completions: Invalid value: 3: field is immutable"]


def test_job_status_keeps_terminal_conditions():
    strategy = STRATEGIES["Job"]
    old = created(new_job())
    old["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    new = copy.deepcopy(old)
    new["status"] = {"conditions": [{"type": "Complete", "status": "False"}]}
    assert [error.message() for error in strategy.validate_status_update(new, old)] == [
        'status.conditions: Invalid value: "": cannot disable the terminal Complete=True condition']


# ---------------------------------------------------------------- CronJob


def new_cronjob(name: str = "tick", schedule: str | None = "*/1 * * * *", **spec_fields) -> dict:
    spec: dict = {"jobTemplate": {"spec": {"template": {"spec": {
        "restartPolicy": "OnFailure", "containers": [{"name": "tick", "image": "busybox"}]}}}}, **spec_fields}
    if schedule is not None:
        spec["schedule"] = schedule
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def test_cronjob_defaults():
    cronjob = created(new_cronjob())
    spec = cronjob["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_spec and "completions" not in job_spec  # only Jobs get Job defaults
    assert job_spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert create_errors(new_cronjob()) == []


@pytest.mark.parametrize(
    ("cronjob", "message"),
    [
        pytest.param(new_cronjob(schedule=None), "spec.schedule: Required value", id="no-schedule"),
        pytest.param(new_cronjob(schedule="every minute"),
                     'spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]',
                     id="bad-schedule"),
        pytest.param(new_cronjob(schedule="CRON_TZ=UTC 0 * * * *"),
                     'spec.schedule: Invalid value: "CRON_TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, '
                     "use timeZone field instead", id="tz-in-schedule"),
        pytest.param(new_cronjob(timeZone="Mars/Olympus"),
                     'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus', id="time-zone"),
        pytest.param(new_cronjob(concurrencyPolicy="Sometimes"),
                     'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", '
                     '"Replace"', id="policy"),
        pytest.param(new_cronjob(startingDeadlineSeconds=-5),
                     "spec.startingDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
                     id="deadline"),
        pytest.param(new_cronjob(name="x" * 53),
                     f'metadata.name: Invalid value: "{"x" * 53}": must be no more than 52 characters', id="long-name"),
    ],
)
def test_cronjob_errors(cronjob, message):
    assert message in create_errors(cronjob)


def test_cronjob_job_template_is_checked_as_a_job():
    cronjob = new_cronjob()
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    cronjob["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    errors = create_errors(cronjob)
    assert 'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"' \
        in errors
    assert any(error.startswith("spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{")
               and error.endswith("`selector` will be auto-generated") for error in errors)


def test_cronjob_update_may_change_its_schedule():
    old = created(new_cronjob())
    new = copy.deepcopy(old)
    new["spec"]["schedule"] = "0 3 * * *"
    assert update_errors(new, old) == []
