"""Strategy for coordination.k8s.io/v1 Lease (leader election, node heartbeats).

Mirrors pkg/apis/coordination/validation: durations positive, transitions non-negative.
"""

from __future__ import annotations

from orchestrator.api.errors import FieldError, invalid, not_supported
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import IS_NEGATIVE

LEASE_STRATEGIES = ["OldestEmulationVersion"]


class LeaseStrategy(Strategy):
    kind = "Lease"

    def validate(self, lease: dict) -> list[FieldError]:
        errors = self.validate_metadata(lease)
        spec = lease.get("spec") or {}
        duration = spec.get("leaseDurationSeconds")
        if duration is not None and duration <= 0:
            errors.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
        transitions = spec.get("leaseTransitions")
        if transitions is not None and transitions < 0:
            errors.append(invalid("spec.leaseTransitions", transitions, IS_NEGATIVE))
        strategy = spec.get("strategy")
        if strategy is not None and strategy not in LEASE_STRATEGIES:
            errors.append(not_supported("spec.strategy", strategy, LEASE_STRATEGIES))
        return errors
