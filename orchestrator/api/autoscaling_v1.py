"""The autoscaling/v1 Scale kind: the body of every `/scale` subresource.

`kubectl scale deployment web --replicas=3` GETs and PUTs (or PATCHes) a Scale at
`/apis/apps/v1/namespaces/{ns}/deployments/web/scale`; the apiserver maps it onto the
owner's `spec.replicas` and reports `status.selector` as a label-selector string.

Used by: the apiserver (scale subresource, OpenAPI).
"""

from __future__ import annotations

from pydantic import Field, StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.autoscaling.v1"


class ScaleSpec(K8sModel):
    """The desired number of replicas."""

    replicas: StrictInt | None = None


class ScaleStatus(K8sModel):
    """The observed number of replicas and the selector of their pods (`app=web,tier=front`)."""

    replicas: StrictInt | None = None
    selector: StrictStr | None = None


class Scale(K8sModel):
    """The replica count of a scalable resource."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: ScaleSpec | None = None
    status: ScaleStatus | None = None


class CrossVersionObjectReference(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None


class HorizontalPodAutoscalerSpec(K8sModel):
    scale_target_ref: CrossVersionObjectReference | None = None
    min_replicas: StrictInt | None = None
    max_replicas: StrictInt | None = None
    target_cpu_utilization_percentage: StrictInt | None = Field(default=None, alias="targetCPUUtilizationPercentage")


class HorizontalPodAutoscalerStatus(K8sModel):
    observed_generation: StrictInt | None = None
    last_scale_time: StrictStr | None = None
    current_replicas: StrictInt | None = None
    desired_replicas: StrictInt | None = None
    current_cpu_utilization_percentage: StrictInt | None = Field(default=None,
                                                                 alias="currentCPUUtilizationPercentage")


class HorizontalPodAutoscaler(K8sModel):
    """autoscaling/v1's view of an HPA (stored as autoscaling/v2; apiserver/hpa_v1.py converts)."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: HorizontalPodAutoscalerSpec | None = None
    status: HorizontalPodAutoscalerStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"Scale": Scale, "HorizontalPodAutoscaler": HorizontalPodAutoscaler}
