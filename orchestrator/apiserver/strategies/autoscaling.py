"""Strategy for autoscaling/v2 HorizontalPodAutoscaler: defaults and validation of Kubernetes 1.32.

Defaults (pkg/apis/autoscaling/v2/defaults.go): `minReplicas` 1; no metrics means CPU at 80 %
utilization; a `behavior` given in part is completed with the default scale-up rules (no
stabilization, the larger of 4 pods or 100 % per 15 s) and scale-down rules (100 % per 15 s;
the window left unset means the controller's 300 s). Validation (pkg/apis/autoscaling/validation)
checks the target reference, the replica range, each metric's source and target, and the behavior's
windows and policies, with Kubernetes' field paths and messages.

Used by strategies/__init__.py (STRATEGIES).
"""

from __future__ import annotations

from orchestrator.api.errors import FieldError, invalid, not_supported, required
from orchestrator.apiserver.strategies.base import Strategy

METRIC_SOURCE_FIELDS = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                        "Object": "object", "External": "external"}
TARGET_TYPES = ["AverageValue", "Utilization", "Value"]
POLICY_TYPES = ["Percent", "Pods"]
SELECT_POLICIES = ["Disabled", "Max", "Min"]
MAX_STABILIZATION_WINDOW_SECONDS = 3600
MAX_PERIOD_SECONDS = 1800
DEFAULT_CPU_UTILIZATION = 80


def default_scale_up_rules() -> dict:
    return {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                         {"type": "Percent", "value": 100, "periodSeconds": 15}]}


def default_scale_down_rules() -> dict:
    return {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _complete_rules(rules: dict | None, defaults: dict) -> dict:
    rules = dict(rules or {})
    for key, value in defaults.items():
        if rules.get(key) is None:
            rules[key] = value
    return rules


class HorizontalPodAutoscalerStrategy(Strategy):
    kind = "HorizontalPodAutoscaler"
    has_status = True

    def prepare_for_create(self, hpa: dict) -> None:
        # Go writes desiredReplicas even when zero (no omitempty); the official client requires it.
        hpa["status"] = {"desiredReplicas": 0}

    def default(self, hpa: dict) -> None:
        spec = hpa.setdefault("spec", {})
        if spec.get("minReplicas") is None:
            spec["minReplicas"] = 1
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
        if spec.get("behavior") is not None:
            behavior = spec["behavior"]
            behavior["scaleUp"] = _complete_rules(behavior.get("scaleUp"), default_scale_up_rules())
            behavior["scaleDown"] = _complete_rules(behavior.get("scaleDown"), default_scale_down_rules())

    def validate(self, hpa: dict) -> list[FieldError]:
        errors = self.validate_metadata(hpa)
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if not ref.get("kind"):
            errors.append(required("spec.scaleTargetRef.kind"))
        if not ref.get("name"):
            errors.append(required("spec.scaleTargetRef.name"))
        minimum, maximum = spec.get("minReplicas"), spec.get("maxReplicas")
        if minimum is not None and minimum < 1:
            errors.append(invalid("spec.minReplicas", minimum, "must be greater than or equal to 1"))
        if maximum is None:
            errors.append(required("spec.maxReplicas"))
        elif maximum < 1:
            errors.append(invalid("spec.maxReplicas", maximum, "must be greater than 0"))
        elif minimum is not None and maximum < minimum:
            errors.append(invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`"))
        for index, metric in enumerate(spec.get("metrics") or []):
            errors += validate_metric(metric, f"spec.metrics[{index}]")
        behavior = spec.get("behavior") or {}
        for direction in ("scaleUp", "scaleDown"):
            if behavior.get(direction) is not None:
                errors += validate_rules(behavior[direction], f"spec.behavior.{direction}")
        return errors


def validate_metric(metric: dict, path: str) -> list[FieldError]:
    kind = metric.get("type")
    if not kind:
        return [required(f"{path}.type", "must specify a metric source type")]
    if kind not in METRIC_SOURCE_FIELDS:
        return [not_supported(f"{path}.type", kind, sorted(METRIC_SOURCE_FIELDS))]
    field = METRIC_SOURCE_FIELDS[kind]
    source = metric.get(field)
    if source is None:
        return [required(f"{path}.{field}", f"must populate information for the given metric source (type {kind})")]
    errors = []
    if kind in ("Resource", "ContainerResource"):
        if not source.get("name"):
            errors.append(required(f"{path}.{field}.name", "must specify a resource name"))
        if kind == "ContainerResource" and not source.get("container"):
            errors.append(required(f"{path}.{field}.container", "must specify a container"))
    elif not (source.get("metric") or {}).get("name"):
        errors.append(required(f"{path}.{field}.metric.name", "must specify a metric name"))
    errors += validate_target(source.get("target") or {}, f"{path}.{field}.target")
    return errors


def validate_target(target: dict, path: str) -> list[FieldError]:
    kind = target.get("type")
    if not kind:
        return [required(f"{path}.type", "must specify a metric target type")]
    if kind not in TARGET_TYPES:
        return [not_supported(f"{path}.type", kind, TARGET_TYPES)]
    errors = []
    utilization = target.get("averageUtilization")
    if kind == "Utilization" and utilization is None:
        errors.append(required(f"{path}.averageUtilization", "must set either a target value or averageValue"))
    if utilization is not None and utilization < 1:
        errors.append(invalid(f"{path}.averageUtilization", utilization, "must be greater than 0"))
    if kind == "AverageValue" and target.get("averageValue") is None:
        errors.append(required(f"{path}.averageValue", "must set either a target value for metric or a per-pod target"))
    if kind == "Value" and target.get("value") is None:
        errors.append(required(f"{path}.value", "must set either a target value for metric or a per-pod target"))
    return errors


def validate_rules(rules: dict, path: str) -> list[FieldError]:
    errors = []
    window = rules.get("stabilizationWindowSeconds")
    if window is not None and not 0 <= window <= MAX_STABILIZATION_WINDOW_SECONDS:
        detail = ("must be greater than or equal to zero" if window < 0
                  else f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}")
        errors.append(invalid(f"{path}.stabilizationWindowSeconds", window, detail))
    select = rules.get("selectPolicy")
    if select is not None and select not in SELECT_POLICIES:
        errors.append(not_supported(f"{path}.selectPolicy", select, SELECT_POLICIES))
    policies = rules.get("policies")
    if policies is not None and not policies:
        errors.append(required(f"{path}.policies", "must specify at least one Policy"))
    for index, policy in enumerate(policies or []):
        here = f"{path}.policies[{index}]"
        if policy.get("type") not in POLICY_TYPES:
            errors.append(not_supported(f"{here}.type", policy.get("type"), POLICY_TYPES))
        value = policy.get("value")
        if value is None or value <= 0:
            errors.append(invalid(f"{here}.value", value, "must be greater than zero"))
        period = policy.get("periodSeconds")
        if period is None or period <= 0:
            errors.append(invalid(f"{here}.periodSeconds", period, "must be greater than zero"))
        elif period > MAX_PERIOD_SECONDS:
            errors.append(invalid(f"{here}.periodSeconds", period,
                                  f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return errors
