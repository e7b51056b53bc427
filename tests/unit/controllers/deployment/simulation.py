"""A tiny in-memory cluster for the Deployment planner's tests: apply plans, let pods come up.

`World` holds one Deployment and its ReplicaSets; `sync()` runs `plan_deployment` and
applies the plan as the apiserver would; `kubelet_tick()` plays the ReplicaSet
controller and kubelets: every ReplicaSet gets `spec.replicas` pods, and pods that
existed at the previous tick become ready and available (or never, for a broken image).
"""

from __future__ import annotations

import copy
import itertools

from orchestrator.controllers.deployment.sync import DeploymentPlan, plan_deployment
from orchestrator.controllers.deployment.util import REVISION_ANNOTATION
from tests.unit.controllers.builders import NOW, ts

_uids = itertools.count(1)


class World:
    def __init__(self, deployment: dict, replica_sets: list[dict] | None = None, *, now: float = NOW,
                 broken_images: frozenset[str] = frozenset()):
        self.deployment = copy.deepcopy(deployment)
        self.replica_sets = {rs["metadata"]["name"]: copy.deepcopy(rs) for rs in replica_sets or []}
        self.now = now
        self.broken_images = broken_images
        self.plans: list[DeploymentPlan] = []
        self.events: list[str] = []

    def sync(self) -> DeploymentPlan:
        plan = plan_deployment(self.deployment, list(self.replica_sets.values()), pods_by_replica_set={}, now=self.now)
        self.apply(plan)
        self.plans.append(plan)
        return plan

    def apply(self, plan: DeploymentPlan) -> None:
        if plan.create is not None:
            rs = copy.deepcopy(plan.create.replica_set)
            rs["metadata"].update(uid=f"rs-{next(_uids)}", creationTimestamp=ts(self.now - NOW), generation=1,
                                  resourceVersion="1")
            rs["status"] = {}
            self.replica_sets[rs["metadata"]["name"]] = rs
            self.events += [message for _, message in plan.create.events]
        for write in plan.updates:
            self.replica_sets[write.replica_set["metadata"]["name"]] = copy.deepcopy(write.replica_set)
            self.events += [message for _, message in write.events]
        for rs in plan.deletions:
            del self.replica_sets[rs["metadata"]["name"]]
        if plan.status is not None:
            self.deployment["status"] = copy.deepcopy(plan.status)
        if plan.revision is not None:
            self.deployment["metadata"].setdefault("annotations", {})[REVISION_ANNOTATION] = plan.revision

    def kubelet_tick(self, seconds: float = 1.0) -> None:
        self.now += seconds
        for rs in self.replica_sets.values():
            wanted = rs["spec"]["replicas"]
            previous = (rs.get("status") or {}).get("replicas") or 0
            image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
            ready = 0 if image in self.broken_images else min(wanted, previous)
            rs["status"] = {"replicas": wanted, "readyReplicas": ready, "availableReplicas": ready,
                            "observedGeneration": rs["metadata"].get("generation", 1)}

    def set_spec(self, **changes) -> None:
        """A user edit: the spec changes and the generation goes up."""
        for path, value in changes.items():
            if path == "image":
                self.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = value
            else:
                self.deployment["spec"][path] = value
        self.deployment["metadata"]["generation"] += 1

    def pod_total(self) -> int:
        return sum(rs["spec"]["replicas"] for rs in self.replica_sets.values())

    def available(self) -> int:
        return sum((rs.get("status") or {}).get("availableReplicas") or 0 for rs in self.replica_sets.values())

    def by_image(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for rs in self.replica_sets.values():
            image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
            totals[image] = totals.get(image, 0) + rs["spec"]["replicas"]
        return {image: count for image, count in totals.items() if count}

    def condition(self, condition_type: str) -> dict | None:
        for condition in self.deployment["status"].get("conditions") or []:
            if condition["type"] == condition_type:
                return condition
        return None

    def converge(self, *, max_steps: int = 100, check=None) -> None:
        """Sync and tick until neither changes anything; `check(world)` runs after every step."""
        for _ in range(max_steps):
            plan = self.sync()
            if check is not None:
                check(self)
            before = copy.deepcopy(self.replica_sets)
            self.kubelet_tick()
            if check is not None:
                check(self)
            if plan.empty and before == self.replica_sets:
                return
        raise AssertionError(f"no convergence after {max_steps} steps: {self.by_image()}")
