"""The batch/v1 kinds: Job and CronJob.

Mirrors k8s.io/api/batch/v1/types.go (Kubernetes 1.32), with the strategic-merge-patch
tags of the Go struct fields (`conditions` merge on `type`). `template` (Job) and
`schedule`/`jobTemplate` (CronJob) are required by Kubernetes; they stay optional here and
the validation layer reports their absence with Kubernetes' field paths.

Used by: the apiserver (validation, OpenAPI), the job, cronjob and ttl-after-finished controllers.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel, merge_list
from orchestrator.api.core_v1 import ObjectReference, PodTemplateSpec
from orchestrator.api.meta import LabelSelector, ObjectMeta, Time

OPENAPI_PACKAGE = "io.k8s.api.batch.v1"


# --- Job --------------------------------------------------------------------------------------


class PodFailurePolicyOnExitCodesRequirement(K8sModel):
    """Matches a failed pod by the exit codes of its containers (`In` or `NotIn` `values`)."""

    container_name: StrictStr | None = None
    operator: StrictStr
    values: list[StrictInt]


class PodFailurePolicyOnPodConditionsPattern(K8sModel):
    """Matches a failed pod by one of its conditions."""

    type: StrictStr
    status: StrictStr | None = None


class PodFailurePolicyRule(K8sModel):
    """What to do (`FailJob`, `FailIndex`, `Ignore`, `Count`) with a failed pod that matches."""

    action: StrictStr
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = None
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] | None = None


class PodFailurePolicy(K8sModel):
    """How pod failures count toward the backoff limit; the first matching rule wins."""

    rules: list[PodFailurePolicyRule]


class SuccessPolicyRule(K8sModel):
    """Which indexes (or how many of them) must succeed for an Indexed Job to succeed."""

    succeeded_indexes: StrictStr | None = None
    succeeded_count: StrictInt | None = None


class SuccessPolicy(K8sModel):
    """When an Indexed Job may be declared succeeded before all its indexes are."""

    rules: list[SuccessPolicyRule]


class JobSpec(K8sModel):
    """The desired state of a Job: how many pods must succeed, how many run at once, when to give up."""

    parallelism: StrictInt | None = None
    completions: StrictInt | None = None
    active_deadline_seconds: StrictInt | None = None
    pod_failure_policy: PodFailurePolicy | None = None
    success_policy: SuccessPolicy | None = None
    backoff_limit: StrictInt | None = None
    backoff_limit_per_index: StrictInt | None = None
    max_failed_indexes: StrictInt | None = None
    selector: LabelSelector | None = None
    manual_selector: StrictBool | None = None
    template: PodTemplateSpec | None = None
    ttl_seconds_after_finished: StrictInt | None = None
    completion_mode: StrictStr | None = None
    suspend: StrictBool | None = None
    pod_replacement_policy: StrictStr | None = None
    managed_by: StrictStr | None = None


class JobCondition(K8sModel):
    """A condition of a Job: Complete, Failed, Suspended, FailureTarget, SuccessCriteriaMet."""

    type: StrictStr
    status: StrictStr
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class UncountedTerminatedPods(K8sModel):
    """Finished pods (by uid) the Job controller has seen but not yet added to the counters."""

    succeeded: list[StrictStr] | None = None
    failed: list[StrictStr] | None = None


class JobStatus(K8sModel):
    """The observed state of a Job, written by its controller."""

    conditions: list[JobCondition] | None = merge_list("type")
    start_time: Time | None = None
    completion_time: Time | None = None
    active: StrictInt | None = None
    succeeded: StrictInt | None = None
    failed: StrictInt | None = None
    terminating: StrictInt | None = None
    completed_indexes: StrictStr | None = None
    failed_indexes: StrictStr | None = None
    uncounted_terminated_pods: UncountedTerminatedPods | None = None
    ready: StrictInt | None = None


class Job(K8sModel):
    """Runs pods until a number of them succeed."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: JobSpec | None = None
    status: JobStatus | None = None


# --- CronJob ----------------------------------------------------------------------------------


class JobTemplateSpec(K8sModel):
    """The Job a CronJob creates at each scheduled time."""

    metadata: ObjectMeta | None = None
    spec: JobSpec | None = None


class CronJobSpec(K8sModel):
    """The desired state of a CronJob: when to run, what to run, and how many runs to keep."""

    schedule: StrictStr | None = None
    time_zone: StrictStr | None = None
    starting_deadline_seconds: StrictInt | None = None
    concurrency_policy: StrictStr | None = None
    suspend: StrictBool | None = None
    job_template: JobTemplateSpec | None = None
    successful_jobs_history_limit: StrictInt | None = None
    failed_jobs_history_limit: StrictInt | None = None


class CronJobStatus(K8sModel):
    """The observed state of a CronJob: its running Jobs and when it last scheduled one."""

    active: list[ObjectReference] | None = None
    last_schedule_time: Time | None = None
    last_successful_time: Time | None = None


class CronJob(K8sModel):
    """Creates a Job on a repeating schedule."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: CronJobSpec | None = None
    status: CronJobStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"Job": Job, "CronJob": CronJob}
