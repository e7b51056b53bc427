"""The autoscaling/v2 HorizontalPodAutoscaler kind.

An HPA names a scalable object (`spec.scaleTargetRef`: a Deployment, ReplicaSet or StatefulSet,
scaled through its `/scale` subresource), a replica range and metrics to hold at a target;
its controller (orchestrator/controllers/hpa/) writes `status`. All of Kubernetes' metric source
types are accepted and stored; the controller acts on `Resource` and `ContainerResource` ones.

Used by: the apiserver (validation, OpenAPI), the HPA controller, `kubectl autoscale`.
"""

from __future__ import annotations

from pydantic import StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import LabelSelector, ObjectMeta, Quantity, Time

OPENAPI_PACKAGE = "io.k8s.api.autoscaling.v2"


class CrossVersionObjectReference(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None


class MetricTarget(K8sModel):
    """`type` Utilization (averageUtilization, percent of the pods' requests), AverageValue or Value."""

    type: StrictStr | None = None
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: StrictInt | None = None


class MetricValueStatus(K8sModel):
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: StrictInt | None = None


class MetricIdentifier(K8sModel):
    name: StrictStr | None = None
    selector: LabelSelector | None = None


class ResourceMetricSource(K8sModel):
    name: StrictStr | None = None
    target: MetricTarget | None = None


class ContainerResourceMetricSource(K8sModel):
    name: StrictStr | None = None
    container: StrictStr | None = None
    target: MetricTarget | None = None


class PodsMetricSource(K8sModel):
    metric: MetricIdentifier | None = None
    target: MetricTarget | None = None


class ObjectMetricSource(K8sModel):
    described_object: CrossVersionObjectReference | None = None
    metric: MetricIdentifier | None = None
    target: MetricTarget | None = None


class ExternalMetricSource(K8sModel):
    metric: MetricIdentifier | None = None
    target: MetricTarget | None = None


class MetricSpec(K8sModel):
    type: StrictStr | None = None
    resource: ResourceMetricSource | None = None
    container_resource: ContainerResourceMetricSource | None = None
    pods: PodsMetricSource | None = None
    object: ObjectMetricSource | None = None
    external: ExternalMetricSource | None = None


class HPAScalingPolicy(K8sModel):
    """At most `value` pods (type Pods) or percent of the current replicas (Percent) per `periodSeconds`."""

    type: StrictStr | None = None
    value: StrictInt | None = None
    period_seconds: StrictInt | None = None


class HPAScalingRules(K8sModel):
    stabilization_window_seconds: StrictInt | None = None
    select_policy: StrictStr | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: Quantity | None = None


class HorizontalPodAutoscalerBehavior(K8sModel):
    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


class HorizontalPodAutoscalerSpec(K8sModel):
    scale_target_ref: CrossVersionObjectReference | None = None
    min_replicas: StrictInt | None = None
    max_replicas: StrictInt | None = None
    metrics: list[MetricSpec] | None = None
    behavior: HorizontalPodAutoscalerBehavior | None = None


class ResourceMetricStatus(K8sModel):
    name: StrictStr | None = None
    current: MetricValueStatus | None = None


class ContainerResourceMetricStatus(K8sModel):
    name: StrictStr | None = None
    container: StrictStr | None = None
    current: MetricValueStatus | None = None


class PodsMetricStatus(K8sModel):
    metric: MetricIdentifier | None = None
    current: MetricValueStatus | None = None


class ObjectMetricStatus(K8sModel):
    metric: MetricIdentifier | None = None
    current: MetricValueStatus | None = None
    described_object: CrossVersionObjectReference | None = None


class ExternalMetricStatus(K8sModel):
    metric: MetricIdentifier | None = None
    current: MetricValueStatus | None = None


class MetricStatus(K8sModel):
    type: StrictStr | None = None
    resource: ResourceMetricStatus | None = None
    container_resource: ContainerResourceMetricStatus | None = None
    pods: PodsMetricStatus | None = None
    object: ObjectMetricStatus | None = None
    external: ExternalMetricStatus | None = None


class HorizontalPodAutoscalerCondition(K8sModel):
    type: StrictStr | None = None
    status: StrictStr | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class HorizontalPodAutoscalerStatus(K8sModel):
    observed_generation: StrictInt | None = None
    last_scale_time: Time | None = None
    current_replicas: StrictInt | None = None
    desired_replicas: StrictInt | None = None
    current_metrics: list[MetricStatus] | None = None
    conditions: list[HorizontalPodAutoscalerCondition] | None = None


class HorizontalPodAutoscaler(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: HorizontalPodAutoscalerSpec | None = None
    status: HorizontalPodAutoscalerStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"HorizontalPodAutoscaler": HorizontalPodAutoscaler}
