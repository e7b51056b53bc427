"""Strategies for apps/v1 Deployment, ReplicaSet and DaemonSet.

Mirrors pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation/validation.go and
pkg/registry/apps/{deployment,replicaset,daemonset}/strategy.go: the selector must match the pod
template and may not change after create, the template is validated as a pod spec
under `spec.template.spec`, status belongs to the controllers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from orchestrator.api.errors import FieldError, forbidden, invalid, not_supported, required
from orchestrator.api.names import is_valid_percent
from orchestrator.apiserver.strategies.base import Strategy, _copy_field
from orchestrator.apiserver.strategies.meta import (
    FIELD_IMMUTABLE,
    GoValue,
    go_int_or_string,
    go_label_selector,
    go_quote,
    go_string_map,
    selector_is_empty,
    selector_is_usable,
    selector_matches,
    validate_label_selector,
    validate_nonnegative,
)
from orchestrator.apiserver.strategies.podspec import default_template, validate_pod_template_spec

DEFAULT_MAX_SURGE = "25%"
DEFAULT_MAX_UNAVAILABLE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600


def validate_template_for_selector(spec: Mapping[str, Any], *, owner_kind: str) -> list[FieldError]:
    """ValidatePodTemplateSpecForReplicaSet: the template is a valid pod, selected by the selector, restarting Always."""
    template = spec.get("template") or {}
    selector = spec.get("selector")
    errors: list[FieldError] = []
    labels = (template.get("metadata") or {}).get("labels")
    # A missing selector selects nothing: Kubernetes then also reports the template as unmatched.
    if (selector is None or not selector_is_empty(selector)) and not selector_matches(selector, labels):
        errors.append(invalid("spec.template.metadata.labels", go_string_map(labels), "`selector` does not match template `labels`"))
    errors += validate_pod_template_spec(template, "spec.template")
    restart_policy = (template.get("spec") or {}).get("restartPolicy") or ""
    if restart_policy != "Always":
        errors.append(not_supported("spec.template.spec.restartPolicy", restart_policy, ["Always"]))
    if (template.get("spec") or {}).get("activeDeadlineSeconds") is not None:
        errors.append(forbidden("spec.template.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {owner_kind} is not Supported"))
    return errors


def validate_selector_and_template(spec: Mapping[str, Any], *, owner_kind: str) -> list[FieldError]:
    selector = spec.get("selector")
    errors: list[FieldError] = []
    if selector is None:
        errors.append(required("spec.selector"))
    else:
        errors += validate_label_selector(selector, "spec.selector")
        if selector_is_empty(selector):
            # "deployment" for ReplicaSets too: Kubernetes shares the message.
            errors.append(invalid("spec.selector", go_label_selector(selector), "empty selector is invalid for deployment"))
    if selector_is_usable(selector):
        errors += validate_template_for_selector(spec, owner_kind=owner_kind)
    else:
        errors.append(invalid("spec.selector", go_label_selector(selector), "invalid label selector"))
    return errors


def _validate_selector_unchanged(new: dict, old: dict) -> list[FieldError]:
    new_selector = (new.get("spec") or {}).get("selector")
    old_selector = (old.get("spec") or {}).get("selector")
    if new_selector != old_selector:
        return [invalid("spec.selector", go_label_selector(new_selector), FIELD_IMMUTABLE)]
    return []


# ================================================================ Deployment


def _is_percent(value: Any) -> bool:
    return isinstance(value, str) and not is_valid_percent(value)  # is_valid_percent lists errors


def _int_or_percent_value(value: Any) -> int:
    """getIntOrPercentValue: "25%" -> 25, 3 -> 3, "3" -> 3, anything else -> 0."""
    if _is_percent(value):
        return int(value[:-1])
    if isinstance(value, str):
        return int(value) if value.lstrip("+-").isdigit() else 0
    return int(value or 0)


def _validate_positive_int_or_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        return [invalid(path, go_int_or_string(value), message) for message in is_valid_percent(value)]
    return validate_nonnegative(int(value or 0), path)


def _validate_not_more_than_100_percent(value: Any, path: str) -> list[FieldError]:
    if _is_percent(value) and int(value[:-1]) > 100:
        return [invalid(path, go_int_or_string(value), "must not be greater than 100%")]
    return []


def _go_deployment_strategy(strategy: Mapping[str, Any]) -> GoValue:
    rolling = "(*apps.RollingUpdateDeployment)(nil)" if strategy.get("rollingUpdate") is None else "&apps.RollingUpdateDeployment{...}"
    return GoValue(f"apps.DeploymentStrategy{{Type:{go_quote(strategy.get('type') or '')}, RollingUpdate:{rolling}}}")


def validate_deployment_strategy(strategy: Mapping[str, Any], path: str) -> list[FieldError]:
    strategy_type = strategy.get("type") or ""
    rolling_update = strategy.get("rollingUpdate")
    if strategy_type == "Recreate":
        if rolling_update is not None:
            return [forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if strategy_type != "RollingUpdate":
        return [not_supported(path, _go_deployment_strategy(strategy), ["Recreate", "RollingUpdate"])]
    if rolling_update is None:
        return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    rolling_path = f"{path}.rollingUpdate"
    max_unavailable, max_surge = rolling_update.get("maxUnavailable"), rolling_update.get("maxSurge")
    errors = _validate_positive_int_or_percent(max_unavailable, f"{rolling_path}.maxUnavailable")
    errors += _validate_positive_int_or_percent(max_surge, f"{rolling_path}.maxSurge")
    if _int_or_percent_value(max_unavailable) == 0 and _int_or_percent_value(max_surge) == 0:
        errors.append(invalid(f"{rolling_path}.maxUnavailable", go_int_or_string(max_unavailable), "may not be 0 when `maxSurge` is 0"))
    errors += _validate_not_more_than_100_percent(max_unavailable, f"{rolling_path}.maxUnavailable")
    return errors


class DeploymentStrategy(Strategy):
    kind = "Deployment"
    has_status = True

    def default(self, deployment: dict) -> None:
        """SetDefaults_Deployment, plus the pod defaults inside the template."""
        spec = deployment.setdefault("spec", {})
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        strategy = spec.get("strategy") or {}
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling_update = strategy.get("rollingUpdate") or {}
            if rolling_update.get("maxUnavailable") is None:
                rolling_update["maxUnavailable"] = DEFAULT_MAX_UNAVAILABLE
            if rolling_update.get("maxSurge") is None:
                rolling_update["maxSurge"] = DEFAULT_MAX_SURGE
            strategy["rollingUpdate"] = rolling_update
        spec["strategy"] = strategy
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
        if spec.get("progressDeadlineSeconds") is None:
            spec["progressDeadlineSeconds"] = DEFAULT_PROGRESS_DEADLINE_SECONDS
        default_template(spec)

    def validate(self, deployment: dict) -> list[FieldError]:
        return self.validate_metadata(deployment) + self._validate_spec(deployment.get("spec") or {})

    def _validate_spec(self, spec: Mapping[str, Any]) -> list[FieldError]:
        """ValidateDeploymentSpec."""
        errors = validate_nonnegative(spec.get("replicas") or 0, "spec.replicas")
        errors += validate_selector_and_template(spec, owner_kind="ReplicaSet")
        errors += validate_deployment_strategy(spec.get("strategy") or {}, "spec.strategy")
        min_ready = spec.get("minReadySeconds") or 0
        errors += validate_nonnegative(min_ready, "spec.minReadySeconds")
        if spec.get("revisionHistoryLimit") is not None:
            errors += validate_nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        if spec.get("rollbackTo") is not None:
            errors += validate_nonnegative(spec["rollbackTo"].get("revision") or 0, "spec.rollback.version")
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is not None:
            errors += validate_nonnegative(deadline, "spec.progressDeadlineSeconds")
            if deadline <= min_ready:
                errors.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateDeploymentUpdate, and apps/v1 forbids changing the selector."""
        errors = self.validate_metadata_update(new, old) + self._validate_spec(new.get("spec") or {})
        return errors + _validate_selector_unchanged(new, old)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        status = new.get("status") or {}
        for key in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                    "unavailableReplicas", "collisionCount"):
            errors += validate_nonnegative(status.get(key) or 0, f"status.{key}")
        errors += _validate_replica_counts(status, ("updatedReplicas", "readyReplicas", "availableReplicas"))
        return errors + _validate_collision_count(new, old)

    def prepare_for_update(self, new: dict, old: dict) -> None:
        super().prepare_for_update(new, old)
        # Annotations are copied to the ReplicaSets, so changing them is a new generation too
        # (the REST layer bumps it for spec changes, once the new spec is defaulted).
        new_meta, old_meta = new.setdefault("metadata", {}), old.get("metadata") or {}
        if new_meta.get("annotations") != old_meta.get("annotations") and old_meta.get("generation") is not None:
            new_meta["generation"] = old_meta["generation"] + 1

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        super().prepare_for_status_update(new, old)
        _copy_field(new.setdefault("metadata", {}), old.get("metadata") or {}, "labels")


def _validate_replica_counts(status: Mapping[str, Any], counts: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    replicas = status.get("replicas") or 0
    for key in counts:
        if (status.get(key) or 0) > replicas:
            errors.append(invalid(f"status.{key}", status.get(key) or 0, "cannot be greater than status.replicas"))
    if (status.get("availableReplicas") or 0) > (status.get("readyReplicas") or 0):
        errors.append(invalid("status.availableReplicas", status.get("availableReplicas") or 0, "cannot be greater than readyReplicas"))
    return errors


def _validate_collision_count(new: dict, old: dict) -> list[FieldError]:
    new_count = (new.get("status") or {}).get("collisionCount")
    old_count = (old.get("status") or {}).get("collisionCount")
    if old_count is not None and (new_count is None or new_count < old_count):
        return [invalid("status.collisionCount", new_count or 0, "cannot be decremented")]
    return []


# ================================================================ ReplicaSet


class ReplicaSetStrategy(Strategy):
    kind = "ReplicaSet"
    has_status = True

    def default(self, replica_set: dict) -> None:
        spec = replica_set.setdefault("spec", {})
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        default_template(spec)

    def validate(self, replica_set: dict) -> list[FieldError]:
        return self.validate_metadata(replica_set) + self._validate_spec(replica_set.get("spec") or {})

    def _validate_spec(self, spec: Mapping[str, Any]) -> list[FieldError]:
        """ValidateReplicaSetSpec."""
        errors = validate_nonnegative(spec.get("replicas") or 0, "spec.replicas")
        errors += validate_nonnegative(spec.get("minReadySeconds") or 0, "spec.minReadySeconds")
        return errors + validate_selector_and_template(spec, owner_kind="ReplicaSet")

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        # Kubernetes runs ValidateReplicaSet and then ValidateReplicaSetUpdate: spec errors show twice.
        errors = self.validate(new) + self.validate_metadata_update(new, old)
        errors += self._validate_spec(new.get("spec") or {})
        return errors + _validate_selector_unchanged(new, old)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        status = new.get("status") or {}
        for key in ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"):
            errors += validate_nonnegative(status.get(key) or 0, f"status.{key}")
        return errors + _validate_replica_counts(status, ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"))



# ================================================================ DaemonSet

DAEMONSET_UPDATE_STRATEGIES = ["RollingUpdate", "OnDelete"]
# apps/v1 carries the old spec.templateGeneration as this annotation; the controller labels pods with it.
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


def _go_daemonset_strategy(strategy: Mapping[str, Any]) -> GoValue:
    rolling = "(*apps.RollingUpdateDaemonSet)(nil)" if strategy.get("rollingUpdate") is None else "&apps.RollingUpdateDaemonSet{...}"
    return GoValue(f"apps.DaemonSetUpdateStrategy{{Type:{go_quote(strategy.get('type') or '')}, RollingUpdate:{rolling}}}")


def validate_daemonset_update_strategy(strategy: Mapping[str, Any], path: str) -> list[FieldError]:
    """ValidateDaemonSetUpdateStrategy: exactly one of maxUnavailable and maxSurge is non-zero."""
    strategy_type = strategy.get("type") or ""
    if strategy_type == "OnDelete":
        return []
    if strategy_type != "RollingUpdate":
        return [not_supported(path, _go_daemonset_strategy(strategy), DAEMONSET_UPDATE_STRATEGIES)]
    rolling_update = strategy.get("rollingUpdate")
    if rolling_update is None:
        return [required(f"{path}.rollingUpdate")]
    rolling_path = f"{path}.rollingUpdate"
    max_unavailable, max_surge = rolling_update.get("maxUnavailable"), rolling_update.get("maxSurge")
    errors = _validate_positive_int_or_percent(max_unavailable, f"{rolling_path}.maxUnavailable")
    errors += _validate_positive_int_or_percent(max_surge, f"{rolling_path}.maxSurge")
    errors += _validate_not_more_than_100_percent(max_unavailable, f"{rolling_path}.maxUnavailable")
    errors += _validate_not_more_than_100_percent(max_surge, f"{rolling_path}.maxSurge")
    has_unavailable = _int_or_percent_value(max_unavailable) != 0
    has_surge = _int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errors.append(invalid(f"{rolling_path}.maxSurge", go_int_or_string(max_surge),
                              "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        errors.append(required(f"{rolling_path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errors


class DaemonSetStrategy(Strategy):
    kind = "DaemonSet"
    has_status = True

    def prepare_for_create(self, daemon_set: dict) -> None:
        super().prepare_for_create(daemon_set)
        metadata = daemon_set.setdefault("metadata", {})
        annotations = metadata.get("annotations") or {}
        metadata["annotations"] = {**annotations, TEMPLATE_GENERATION_ANNOTATION: "1"}

    def prepare_for_update(self, new: dict, old: dict) -> None:
        """A changed template is a new template generation (the controller's pods say which one they run)."""
        super().prepare_for_update(new, old)
        old_generation = ((old.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION, "1")
        new_meta = new.setdefault("metadata", {})
        annotations = dict(new_meta.get("annotations") or {})
        generation = int(old_generation) if old_generation.isdigit() else 1
        defaulted = copy.deepcopy(new.get("spec") or {})  # defaults are applied after this hook
        default_template(defaulted)
        if defaulted.get("template") != (old.get("spec") or {}).get("template"):
            generation += 1
        annotations[TEMPLATE_GENERATION_ANNOTATION] = str(generation)
        new_meta["annotations"] = annotations

    def default(self, daemon_set: dict) -> None:
        """SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0; ten revisions kept."""
        spec = daemon_set.setdefault("spec", {})
        strategy = spec.get("updateStrategy") or {}
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling_update = strategy.get("rollingUpdate") or {}
            if rolling_update.get("maxUnavailable") is None:
                rolling_update["maxUnavailable"] = 1
            if rolling_update.get("maxSurge") is None:
                rolling_update["maxSurge"] = 0
            strategy["rollingUpdate"] = rolling_update
        spec["updateStrategy"] = strategy
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
        default_template(spec)

    def validate(self, daemon_set: dict) -> list[FieldError]:
        return self.validate_metadata(daemon_set) + self._validate_spec(daemon_set.get("spec") or {})

    def _validate_spec(self, spec: Mapping[str, Any]) -> list[FieldError]:
        """ValidateDaemonSetSpec."""
        selector = spec.get("selector")
        template = spec.get("template") or {}
        errors: list[FieldError] = []
        if selector is None:
            errors.append(required("spec.selector"))
        else:
            errors += validate_label_selector(selector, "spec.selector")
        labels = (template.get("metadata") or {}).get("labels")
        if selector_is_usable(selector) and not selector_matches(selector, labels):
            errors.append(invalid("spec.template.metadata.labels", go_string_map(labels),
                                  "`selector` does not match template `labels`"))
        if selector is not None and selector_is_empty(selector):
            errors.append(invalid("spec.selector", go_label_selector(selector), "empty selector is invalid for daemonset"))
        errors += validate_pod_template_spec(template, "spec.template")
        pod_spec = template.get("spec") or {}
        restart_policy = pod_spec.get("restartPolicy") or ""
        if restart_policy != "Always":
            errors.append(not_supported("spec.template.spec.restartPolicy", restart_policy, ["Always"]))
        if pod_spec.get("activeDeadlineSeconds") is not None:
            errors.append(invalid("spec.template.spec.activeDeadlineSeconds", pod_spec["activeDeadlineSeconds"],
                                  "activeDeadlineSeconds in DaemonSet is not Supported"))
        errors += validate_nonnegative(spec.get("minReadySeconds") or 0, "spec.minReadySeconds")
        errors += validate_daemonset_update_strategy(spec.get("updateStrategy") or {}, "spec.updateStrategy")
        if spec.get("revisionHistoryLimit") is not None:
            errors += validate_nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateDaemonSetUpdate: the spec as on create, and a selector that never changes."""
        errors = self.validate_metadata_update(new, old) + self._validate_spec(new.get("spec") or {})
        return errors + _validate_selector_unchanged(new, old)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        status = new.get("status") or {}
        for key in ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
                    "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            errors += validate_nonnegative(status.get(key) or 0, f"status.{key}")
        return errors + _validate_collision_count(new, old)
