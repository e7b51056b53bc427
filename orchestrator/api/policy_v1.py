"""The policy/v1 PodDisruptionBudget kind: how many pods of a set may be down voluntarily.

`spec.minAvailable` or `spec.maxUnavailable` (a count or a percentage) over the pods
matching `spec.selector`; the disruption controller (not yet written) fills `status`.

Used by: the apiserver (validation, OpenAPI).
"""

from __future__ import annotations

from pydantic import StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import Condition, IntOrString, LabelSelector, ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.policy.v1"


class PodDisruptionBudgetSpec(K8sModel):
    """Which pods the budget covers and how many must stay up (or may go down)."""

    min_available: IntOrString | None = None
    max_unavailable: IntOrString | None = None
    selector: LabelSelector | None = None
    unhealthy_pod_eviction_policy: StrictStr | None = None


class PodDisruptionBudgetStatus(K8sModel):
    """What the disruption controller last observed."""

    observed_generation: StrictInt | None = None
    disrupted_pods: dict[StrictStr, StrictStr] | None = None
    disruptions_allowed: StrictInt | None = None
    current_healthy: StrictInt | None = None
    desired_healthy: StrictInt | None = None
    expected_pods: StrictInt | None = None
    conditions: list[Condition] | None = None


class PodDisruptionBudget(K8sModel):
    """A disruption budget over a set of pods."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: PodDisruptionBudgetSpec | None = None
    status: PodDisruptionBudgetStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"PodDisruptionBudget": PodDisruptionBudget}
