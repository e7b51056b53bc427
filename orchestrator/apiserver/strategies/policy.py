"""Strategies for policy/v1 PodDisruptionBudget and scheduling.k8s.io/v1 PriorityClass.

Mirrors pkg/apis/policy/validation and pkg/apis/scheduling/validation: a budget names
minAvailable or maxUnavailable (not both, non-negative, percentages at most 100%); a
priority class's value may not exceed one billion (higher values are reserved for the
system classes) and is immutable. Registered in strategies/__init__.py.
"""

from __future__ import annotations

import re

from orchestrator.api.errors import FieldError, forbidden, invalid, not_supported
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import IS_NEGATIVE, validate_label_selector

_PERCENT = re.compile(r"^[0-9]+%$")
UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}
PREEMPTION_POLICIES = ["Never", "PreemptLowerPriority"]


def _validate_int_or_percent(value, field: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent."""
    if isinstance(value, int):
        return [invalid(field, value, IS_NEGATIVE)] if value < 0 else []
    if not _PERCENT.match(value):
        return [invalid(field, value, "must be an integer or percentage (e.g '5%')")]
    if int(value[:-1]) > 100:
        return [invalid(field, value, "must not be greater than 100%")]
    return []


class PodDisruptionBudgetStrategy(Strategy):
    kind = "PodDisruptionBudget"
    has_status = True

    def validate(self, pdb: dict) -> list[FieldError]:
        errors = self.validate_metadata(pdb)
        spec = pdb.get("spec") or {}
        min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
        if min_available is not None and max_unavailable is not None:
            errors.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
        if min_available is not None:
            errors.extend(_validate_int_or_percent(min_available, "spec.minAvailable"))
        if max_unavailable is not None:
            errors.extend(_validate_int_or_percent(max_unavailable, "spec.maxUnavailable"))
        errors.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
        policy = spec.get("unhealthyPodEvictionPolicy")
        if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
            errors.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        return self.validate_metadata_update(new, old) + self.validate(new)


class PriorityClassStrategy(Strategy):
    kind = "PriorityClass"
    namespaced = False

    def default(self, priority_class: dict) -> None:
        priority_class.setdefault("preemptionPolicy", "PreemptLowerPriority")

    def validate(self, priority_class: dict) -> list[FieldError]:
        errors = self.validate_metadata(priority_class)
        name = (priority_class.get("metadata") or {}).get("name") or ""
        value = priority_class.get("value", 0)
        if name.startswith("system-"):
            if SYSTEM_PRIORITY_CLASSES.get(name) != value:
                errors.append(forbidden("metadata.name", "name of a priority class may not start with 'system-', "
                                        "which is reserved for system use"))
        elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
            errors.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                    f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
        policy = priority_class.get("preemptionPolicy")
        if policy is not None and policy not in PREEMPTION_POLICIES:
            errors.append(not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old) + self.validate(new)
        if new.get("value") != old.get("value"):
            errors.append(forbidden("value", "may not be changed in an update."))
        return errors
