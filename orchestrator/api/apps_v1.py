"""The apps/v1 kinds: Deployment, ReplicaSet and DaemonSet.

Mirrors k8s.io/api/apps/v1/types.go (Kubernetes 1.32), with the strategic-merge-patch
tags of the Go struct fields (`strategy` is retainKeys, `conditions` merge on `type`).
`selector` and `template` are required by Kubernetes; they stay optional here and the
validation layer reports their absence as Kubernetes does (`spec.selector: Required value`).

Used by: the apiserver (validation, OpenAPI), the deployment, replicaset and daemonset controllers.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel, merge_list, retain_keys
from orchestrator.api.core_v1 import PodTemplateSpec
from orchestrator.api.meta import IntOrString, LabelSelector, ObjectMeta, Time

OPENAPI_PACKAGE = "io.k8s.api.apps.v1"


class RollingUpdateDeployment(K8sModel):
    """How far a rolling update may go above (`maxSurge`) and below (`maxUnavailable`) the desired replicas."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(K8sModel):
    """How a Deployment replaces old pods: `RollingUpdate` (the default) or `Recreate`."""

    type: StrictStr | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(K8sModel):
    """The desired state of a Deployment: how many pods of which template, and how to roll them out."""

    replicas: StrictInt | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    # retainKeys: switching to `type: Recreate` in a patch drops the old `rollingUpdate`.
    strategy: DeploymentStrategy | None = retain_keys()
    min_ready_seconds: StrictInt | None = None
    revision_history_limit: StrictInt | None = None
    paused: StrictBool | None = None
    progress_deadline_seconds: StrictInt | None = None


class DeploymentCondition(K8sModel):
    """A condition of a Deployment: Available, Progressing, ReplicaFailure."""

    type: StrictStr
    status: StrictStr
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class DeploymentStatus(K8sModel):
    """The observed state of a Deployment, written by its controller."""

    observed_generation: StrictInt | None = None
    replicas: StrictInt | None = None
    updated_replicas: StrictInt | None = None
    ready_replicas: StrictInt | None = None
    available_replicas: StrictInt | None = None
    unavailable_replicas: StrictInt | None = None
    terminating_replicas: StrictInt | None = None
    conditions: list[DeploymentCondition] | None = merge_list("type")
    collision_count: StrictInt | None = None


class Deployment(K8sModel):
    """Keeps a number of identical pods running and rolls out changes to their template."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None


class ReplicaSetSpec(K8sModel):
    """The desired state of a ReplicaSet: how many pods matching the selector, made from the template."""

    replicas: StrictInt | None = None
    min_ready_seconds: StrictInt | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None


class ReplicaSetCondition(K8sModel):
    """A condition of a ReplicaSet (ReplicaFailure)."""

    type: StrictStr
    status: StrictStr
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class ReplicaSetStatus(K8sModel):
    """The observed state of a ReplicaSet, written by its controller."""

    replicas: StrictInt | None = None
    fully_labeled_replicas: StrictInt | None = None
    ready_replicas: StrictInt | None = None
    available_replicas: StrictInt | None = None
    terminating_replicas: StrictInt | None = None
    observed_generation: StrictInt | None = None
    conditions: list[ReplicaSetCondition] | None = merge_list("type")


class ReplicaSet(K8sModel):
    """Keeps a number of pods matching its selector running; Deployments own one per template."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: ReplicaSetSpec | None = None
    status: ReplicaSetStatus | None = None


class RollingUpdateDaemonSet(K8sModel):
    """How many nodes may be without a ready daemon pod (`maxUnavailable`), or run two (`maxSurge`), during an update."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DaemonSetUpdateStrategy(K8sModel):
    """How a DaemonSet replaces its pods when its template changes: `RollingUpdate` (the default) or `OnDelete`."""

    type: StrictStr | None = None
    rolling_update: RollingUpdateDaemonSet | None = None


class DaemonSetSpec(K8sModel):
    """The desired state of a DaemonSet: the pod to run on every eligible node, and how to update it."""

    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    update_strategy: DaemonSetUpdateStrategy | None = None
    min_ready_seconds: StrictInt | None = None
    revision_history_limit: StrictInt | None = None


class DaemonSetCondition(K8sModel):
    """A condition of a DaemonSet."""

    type: StrictStr
    status: StrictStr
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class DaemonSetStatus(K8sModel):
    """The observed state of a DaemonSet, written by its controller (counts of nodes)."""

    current_number_scheduled: StrictInt | None = None
    number_misscheduled: StrictInt | None = None
    desired_number_scheduled: StrictInt | None = None
    number_ready: StrictInt | None = None
    observed_generation: StrictInt | None = None
    updated_number_scheduled: StrictInt | None = None
    number_available: StrictInt | None = None
    number_unavailable: StrictInt | None = None
    collision_count: StrictInt | None = None
    conditions: list[DaemonSetCondition] | None = merge_list("type")


class DaemonSet(K8sModel):
    """Runs one copy of a pod on every node that matches it."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: DaemonSetSpec | None = None
    status: DaemonSetStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"Deployment": Deployment, "ReplicaSet": ReplicaSet, "DaemonSet": DaemonSet}
