"""Strategies for batch/v1 Job and CronJob.

Mirrors pkg/registry/batch/{job,cronjob}/strategy.go, pkg/apis/batch/v1/defaults.go and
pkg/apis/batch/validation/validation.go (Kubernetes 1.32): a Job without `manualSelector`
gets a selector on its own uid and the matching `controller-uid`/`job-name` labels on its
pod template (both the legacy and the `batch.kubernetes.io/` spelling); its template must
restart `Never` or `OnFailure`; the selector, the template (unless suspended) and the
completion mode never change after create; status belongs to the controller.

Used by: orchestrator/apiserver/strategies/__init__.py (the STRATEGIES table).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.api.cron import ScheduleError, parse_schedule
from orchestrator.api.errors import FieldError, invalid, not_supported, required
from orchestrator.api.names import is_dns1123_label
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import (
    FIELD_IMMUTABLE,
    go_label_selector,
    go_string_map,
    selector_is_usable,
    selector_matches,
    validate_label_selector,
    validate_nonnegative,
)
from orchestrator.apiserver.strategies.podspec import default_template, validate_pod_template_spec

# pkg/apis/batch/types.go
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"

NON_INDEXED, INDEXED = "NonIndexed", "Indexed"
COMPLETION_MODES = [NON_INDEXED, INDEXED]
POD_REPLACEMENT_POLICIES = ["Failed", "TerminatingOrFailed"]  # sorted, as sets.List prints them
POD_FAILURE_POLICY_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]
POD_FAILURE_POLICY_OPERATORS = ["In", "NotIn"]
CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
DEFAULT_BACKOFF_LIMIT = 6
MAX_INT32 = 2**31 - 1
MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_POD_FAILURE_POLICY_RULES = 20


# ================================================================ Job


def generate_selector(job: dict) -> None:
    """generateSelector: label the template with the job's uid and name, and select on the uid."""
    metadata = job.get("metadata") or {}
    spec = job.setdefault("spec", {})
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    template_meta = template.get("metadata")
    if template_meta is None:
        template_meta = template["metadata"] = {}
    labels = template_meta.get("labels")
    if labels is None:
        labels = template_meta["labels"] = {}
    # A label the user set is kept as it is: validation then rejects it if it conflicts.
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, metadata.get("name") or "")
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, metadata.get("uid") or "")
    selector = spec.get("selector")
    if selector is None:
        selector = spec["selector"] = {}
    match_labels = selector.get("matchLabels")
    if match_labels is None:
        match_labels = selector["matchLabels"] = {}
    match_labels.setdefault(CONTROLLER_UID_LABEL, metadata.get("uid") or "")


def default_job_spec(spec: dict) -> None:
    """SetDefaults_Job for the spec (shared with the CronJob's job template)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else DEFAULT_BACKOFF_LIMIT
    if spec.get("completionMode") is None:
        spec["completionMode"] = NON_INDEXED
    if spec.get("suspend") is None:
        spec["suspend"] = False
    for rule in (spec.get("podFailurePolicy") or {}).get("rules") or []:
        for pattern in rule.get("onPodConditions") or []:
            if not pattern.get("status"):
                pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    default_template(spec)


def _validate_has_label(template_meta: Mapping[str, Any], key: str, expected: str) -> list[FieldError]:
    """ValidateHasLabel at `spec.template.metadata`."""
    labels = template_meta.get("labels") or {}
    path = "spec.template.metadata"
    if key not in labels:
        return [required(f"{path}.labels", f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(f"{path}.labels", labels[key], f"must be '{expected}'")]
    return []


def validate_generated_selector(job: Mapping[str, Any]) -> list[FieldError]:
    """validateGeneratedSelector: the generated labels are on the template and the selector picks them."""
    spec = job.get("spec") or {}
    metadata = job.get("metadata") or {}
    if spec.get("manualSelector") or spec.get("selector") is None:
        return []
    uid, name = metadata.get("uid") or "", metadata.get("name") or ""
    errors: list[FieldError] = []
    if not uid:
        errors.append(required("metadata.uid"))
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    expected = {LEGACY_CONTROLLER_UID_LABEL: uid, LEGACY_JOB_NAME_LABEL: name, CONTROLLER_UID_LABEL: uid,
                JOB_NAME_LABEL: name}
    for key, value in expected.items():
        errors += _validate_has_label(template_meta, key, value)
    if selector_is_usable(spec["selector"]) and not selector_matches(spec["selector"], expected):
        errors.append(invalid("spec.selector", go_label_selector(spec["selector"]), "`selector` not auto-generated"))
    return errors


def _validate_pod_failure_policy(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    rules = (spec.get("podFailurePolicy") or {}).get("rules") or []
    errors: list[FieldError] = []
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errors.append(FieldError(f"{path}.rules", "Invalid", len(rules),
                                 f"must have at most {MAX_POD_FAILURE_POLICY_RULES} items"))
    for index, rule in enumerate(rules):
        rule_path = f"{path}.rules[{index}]"
        action = rule.get("action") or ""
        if action not in POD_FAILURE_POLICY_ACTIONS:
            errors.append(not_supported(f"{rule_path}.action", action, POD_FAILURE_POLICY_ACTIONS))
        on_exit_codes, on_conditions = rule.get("onExitCodes"), rule.get("onPodConditions")
        if on_exit_codes is not None and on_conditions:
            errors.append(invalid(rule_path, "", "specifying both OnExitCodes and OnPodConditions is not supported"))
        elif on_exit_codes is None and not on_conditions:
            errors.append(invalid(rule_path, "", "specifying one of OnExitCodes and OnPodConditions is required"))
        if on_exit_codes is not None:
            operator = on_exit_codes.get("operator") or ""
            if operator not in POD_FAILURE_POLICY_OPERATORS:
                errors.append(not_supported(f"{rule_path}.onExitCodes.operator", operator, POD_FAILURE_POLICY_OPERATORS))
            if not on_exit_codes.get("values"):
                errors.append(invalid(f"{rule_path}.onExitCodes.values", [], "at least one value is required"))
    return errors


def validate_job_spec_fields(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """validateJobSpec: the counts, the modes and the pod template (a Job's or a job template's)."""
    errors: list[FieldError] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                "backoffLimitPerIndex", "maxFailedIndexes"):
        if spec.get(key) is not None:
            errors += validate_nonnegative(spec[key], f"{path}.{key}")
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        errors.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    mode = spec.get("completionMode")
    if mode is not None:
        if mode not in COMPLETION_MODES:
            errors.append(not_supported(f"{path}.completionMode", mode, COMPLETION_MODES))
        if mode == INDEXED:
            if spec.get("completions") is None:
                errors.append(required(f"{path}.completions", f"when completion mode is {INDEXED}"))
            parallelism = spec.get("parallelism")
            if parallelism is not None and parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
                errors.append(invalid(f"{path}.parallelism", parallelism,
                                      f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} "
                                      f"when completion mode is {INDEXED}"))
    if mode in (None, NON_INDEXED):
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                errors.append(invalid(f"{path}.{key}", spec[key], "requires indexed completion mode"))
    if spec.get("podFailurePolicy") is not None:
        errors += _validate_pod_failure_policy(spec, f"{path}.podFailurePolicy")
    if spec.get("successPolicy") is not None and mode != INDEXED:
        errors.append(invalid(f"{path}.successPolicy", spec["successPolicy"], "requires indexed completion mode"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None:
            if replacement != "Failed":
                errors.append(not_supported(f"{path}.podReplacementPolicy", replacement, ["Failed"]))
        elif replacement not in POD_REPLACEMENT_POLICIES:
            errors.append(not_supported(f"{path}.podReplacementPolicy", replacement, POD_REPLACEMENT_POLICIES))
    template = spec.get("template") or {}
    errors += validate_pod_template_spec(template, f"{path}.template")
    # The pod defaults make an unset restartPolicy `Always`, so both mean "not chosen".
    restart_policy = (template.get("spec") or {}).get("restartPolicy") or ""
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart_policy in ("Always", ""):
        errors.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart_policy not in ("OnFailure", "Never"):
        errors.append(not_supported(restart_path, restart_policy, ["OnFailure", "Never"]))
    elif spec.get("podFailurePolicy") is not None and restart_policy != "Never":
        errors.append(invalid(restart_path, restart_policy, 'only "Never" is supported when podFailurePolicy is specified'))
    return errors


def validate_job_spec(spec: Mapping[str, Any], path: str = "spec") -> list[FieldError]:
    """ValidateJobSpec: the fields, plus a selector that matches the template."""
    errors = validate_job_spec_fields(spec, path)
    selector = spec.get("selector")
    if selector is None:
        errors.append(required(f"{path}.selector"))
    else:
        errors += validate_label_selector(selector, f"{path}.selector")
    if selector is not None and selector_is_usable(selector):
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        if not selector_matches(selector, labels):
            errors.append(invalid(f"{path}.template.metadata.labels", go_string_map(labels),
                                  "`selector` does not match template `labels`"))
    return errors


def _immutable(new_value: Any, old_value: Any, path: str) -> list[FieldError]:
    if new_value != old_value:
        return [invalid(path, new_value if new_value is not None else "null", FIELD_IMMUTABLE)]
    return []


class JobStrategy(Strategy):
    kind = "Job"
    has_status = True

    def prepare_for_create(self, job: dict) -> None:
        super().prepare_for_create(job)
        if not (job.get("spec") or {}).get("manualSelector"):
            generate_selector(job)

    def default(self, job: dict) -> None:
        spec = job.setdefault("spec", {})
        default_job_spec(spec)
        # A Job without labels of its own takes its template's (SetDefaults_Job).
        template_labels = (spec["template"].get("metadata") or {}).get("labels")
        metadata = job.setdefault("metadata", {})
        if template_labels and not metadata.get("labels"):
            metadata["labels"] = dict(template_labels)

    def validate(self, job: dict) -> list[FieldError]:
        """ValidateJob."""
        spec = job.get("spec") or {}
        errors = self.validate_metadata(job) + validate_generated_selector(job) + validate_job_spec(spec)
        completions = spec.get("completions")
        if spec.get("completionMode") == INDEXED and completions:
            # Indexed pods are named `<job>-<index>`: the longest must still be a DNS label.
            name = (job.get("metadata") or {}).get("name") or ""
            hostname = f"{name}-{completions - 1}"
            if is_dns1123_label(hostname):
                errors.append(invalid("metadata.name", name,
                                      f"will not able to create pod with invalid DNS label: {hostname}"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateJobUpdate: the spec as on create, and what may never change."""
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        errors = self.validate_metadata_update(new, old) + validate_job_spec(spec)
        errors += _immutable(spec.get("completions"), old_spec.get("completions"), "spec.completions")
        errors += _immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector")
        if not old_spec.get("suspend"):
            errors += _immutable(spec.get("template"), old_spec.get("template"), "spec.template")
        for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
            errors += _immutable(spec.get(key), old_spec.get(key), f"spec.{key}")
        return errors

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        """validateJobStatus (counters) and the terminal conditions that may not be undone."""
        errors = self.validate_metadata_update(new, old)
        status, old_status = new.get("status") or {}, old.get("status") or {}
        for key in ("active", "succeeded", "failed", "ready", "terminating"):
            errors += validate_nonnegative(status.get(key) or 0, f"status.{key}")
        for condition_type in ("Failed", "Complete", "FailureTarget"):
            if _condition_true(old_status, condition_type) and not _condition_true(status, condition_type):
                errors.append(invalid("status.conditions", "",
                                      f"cannot disable the terminal {condition_type}=True condition"))
        if _condition_true(status, "Complete") and _condition_true(status, "Failed"):
            errors.append(invalid("status.conditions", "", "cannot set Complete=True and Failed=true conditions"))
        return errors


def _condition_true(status: Mapping[str, Any], condition_type: str) -> bool:
    return any(c.get("type") == condition_type and c.get("status") == "True" for c in status.get("conditions") or [])


# ================================================================ CronJob

# Jobs are named `<cronjob>-<minutes since the epoch>`: 11 more characters, within a 63-character DNS label.
MAX_CRONJOB_NAME_LENGTH = 52
DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT = 3
DEFAULT_FAILED_JOBS_HISTORY_LIMIT = 1


def _validate_schedule(schedule: str, *, time_zone: str | None, tz_allowed: bool) -> list[FieldError]:
    """validateScheduleFormat: robfig/cron's ParseStandard, and no TZ= inside the schedule."""
    errors: list[FieldError] = []
    text = schedule
    if text.startswith(("TZ=", "CRON_TZ=")):  # robfig accepts a leading zone; Kubernetes refuses it below
        text = text.partition(" ")[2]
    try:
        parse_schedule(text)
    except ScheduleError as error:
        errors.append(invalid("spec.schedule", schedule, str(error)))
    if tz_allowed and "TZ" in schedule and time_zone is not None:
        errors.append(invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
    elif not tz_allowed and "TZ" in schedule:
        errors.append(invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return errors


def _validate_time_zone(time_zone: str | None) -> list[FieldError]:
    """validateTimeZone: an IANA zone name the tz database knows."""
    if time_zone is None:
        return []
    if time_zone == "":
        return [invalid("spec.timeZone", time_zone, "timeZone must be nil or non-empty string")]
    errors = []
    if time_zone.lower() == "local":
        errors.append(invalid("spec.timeZone", time_zone,
                              "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(invalid("spec.timeZone", time_zone, f"unknown time zone {time_zone}"))
    return errors


def validate_cron_job_spec(spec: Mapping[str, Any], old_spec: Mapping[str, Any] | None) -> list[FieldError]:
    """validateCronJobSpec; `old_spec` is None on create."""
    errors: list[FieldError] = []
    schedule = spec.get("schedule") or ""
    if not schedule:
        errors.append(required("spec.schedule"))
    else:
        tz_allowed = old_spec is not None and "TZ" in (old_spec.get("schedule") or "")
        errors += _validate_schedule(schedule, time_zone=spec.get("timeZone"), tz_allowed=tz_allowed)
    if spec.get("startingDeadlineSeconds") is not None:
        errors += validate_nonnegative(spec["startingDeadlineSeconds"], "spec.startingDeadlineSeconds")
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errors += _validate_time_zone(spec.get("timeZone"))
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        errors.append(required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errors.append(not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    errors += validate_job_spec_fields(job_spec, "spec.jobTemplate.spec")
    # The CronJob's Jobs get generated selectors, like any Job created without one.
    if job_spec.get("selector") is not None:
        errors.append(invalid("spec.jobTemplate.spec.selector", go_label_selector(job_spec["selector"]),
                              "`selector` will be auto-generated"))
    if job_spec.get("manualSelector"):
        errors.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(key) is not None:
            errors += validate_nonnegative(spec[key], f"spec.{key}")
    return errors


class CronJobStrategy(Strategy):
    kind = "CronJob"
    has_status = True

    def default(self, cronjob: dict) -> None:
        """SetDefaults_CronJob; the job template's pod spec gets the pod defaults (its JobSpec gets none)."""
        spec = cronjob.setdefault("spec", {})
        if not spec.get("concurrencyPolicy"):
            spec["concurrencyPolicy"] = "Allow"
        if spec.get("suspend") is None:
            spec["suspend"] = False
        if spec.get("successfulJobsHistoryLimit") is None:
            spec["successfulJobsHistoryLimit"] = DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT
        if spec.get("failedJobsHistoryLimit") is None:
            spec["failedJobsHistoryLimit"] = DEFAULT_FAILED_JOBS_HISTORY_LIMIT
        # Go structs, not pointers: defaulted even when absent.
        job_template = spec["jobTemplate"] = spec.get("jobTemplate") or {}
        default_template(job_template.setdefault("spec", {}))

    def validate(self, cronjob: dict) -> list[FieldError]:
        """ValidateCronJobCreate."""
        errors = self.validate_metadata(cronjob) + validate_cron_job_spec(cronjob.get("spec") or {}, None)
        name = (cronjob.get("metadata") or {}).get("name") or ""
        if len(name) > MAX_CRONJOB_NAME_LENGTH:
            errors.append(invalid("metadata.name", name, f"must be no more than {MAX_CRONJOB_NAME_LENGTH} characters"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateCronJobUpdate (the name limit is not checked again: old long names stay editable)."""
        return self.validate_metadata_update(new, old) + validate_cron_job_spec(new.get("spec") or {},
                                                                                old.get("spec") or {})
