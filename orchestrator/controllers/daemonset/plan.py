"""The DaemonSet controller's decisions, as pure functions of a DaemonSet, the nodes, its pods and the time.

As pkg/controller/daemon (Kubernetes 1.32):

- A node should run the daemon pod when the template's nodeName (if any), nodeSelector and
  required node affinity match it and its NoSchedule/NoExecute taints are tolerated — with
  the tolerations every daemon pod gets (not-ready, unreachable, the pressure conditions,
  unschedulable: daemons run on cordoned nodes). A node whose NoExecute taints are still
  tolerated keeps a pod it already has even when new ones would not be placed there.
- The controller does not bind pods: each pod is pinned to its node with a required node
  affinity on `metadata.name` (ReplaceDaemonSetPodNodeNameNodeAffinity) and the scheduler
  binds it, as Kubernetes does since 1.12.
- Each node gets one pod; failed or surplus pods are deleted; pods on nodes that should not
  run them are deleted.
- `RollingUpdate` replaces pods whose `controller-revision-hash` is not the template's:
  without surge, old pods are deleted while fewer than `maxUnavailable` nodes are
  unavailable (the next sync creates their replacements); with `maxSurge`, new pods start
  beside old ones and the old one goes once the new one is available. `OnDelete` leaves
  replacing to the user.
- The status counts nodes: desired, current, ready, available, up to date, misscheduled.

`plan_daemonset` returns a `DaemonSetPlan`; controller.py carries it out.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from orchestrator.client.events import WARNING
from orchestrator.controllers.base import labels_of, parse_time
from orchestrator.controllers.deployment.util import compute_hash, scaled_value
from orchestrator.controllers.podutil import is_pod_available, is_pod_ready
from orchestrator.scheduler.plugins.nodeaffinity import term_matches
from orchestrator.scheduler.plugins.tainttoleration import first_untolerated_taint

REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
FAILED_DAEMON_POD = "FailedDaemonPod"

_DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


@dataclass
class DaemonSetPlan:
    """What one sync does: create pods on these nodes, delete these pods, write this status, record events."""

    create_on: list[str] = field(default_factory=list)
    delete: list[dict] = field(default_factory=list)
    status: dict = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    requeue_after: float | None = None


# ---------------------------------------------------------------- the pod a DaemonSet runs


def template_hash(daemon_set: dict) -> str:
    """The `controller-revision-hash` of the current template."""
    spec, status = daemon_set.get("spec") or {}, daemon_set.get("status") or {}
    return compute_hash(spec.get("template") or {}, status.get("collisionCount"))


def template_generation(daemon_set: dict) -> str | None:
    return ((daemon_set.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)


def with_daemon_tolerations(pod_spec: dict) -> dict:
    """AddOrUpdateDaemonPodTolerations: the pod spec with the tolerations every daemon pod has (a copy)."""
    pod_spec = copy.deepcopy(pod_spec)
    tolerations = list(pod_spec.get("tolerations") or [])
    wanted = list(_DAEMON_TOLERATIONS)
    if pod_spec.get("hostNetwork"):
        wanted.append(_HOST_NETWORK_TOLERATION)
    for key, effect in wanted:
        if not any(t.get("key") == key and t.get("effect") == effect and t.get("operator") == "Exists"
                   for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    pod_spec["tolerations"] = tolerations
    return pod_spec


def pinned_affinity(affinity: dict | None, node_name: str) -> dict:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes `metadata.name In [node]`."""
    affinity = copy.deepcopy(affinity or {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    else:
        required["nodeSelectorTerms"] = [term]
    return affinity


def pod_for_node(daemon_set: dict, node_name: str) -> dict:
    """The daemon pod for one node: template labels plus hash and generation, pinned by affinity, owned."""
    spec = daemon_set.get("spec") or {}
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    metadata = daemon_set["metadata"]
    labels = {**(template_meta.get("labels") or {}), REVISION_HASH_LABEL: template_hash(daemon_set)}
    generation = template_generation(daemon_set)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    pod_meta: dict[str, Any] = {"generateName": f"{metadata['name']}-", "namespace": metadata.get("namespace"),
                                "labels": labels}
    if template_meta.get("annotations"):
        pod_meta["annotations"] = dict(template_meta["annotations"])
    if template_meta.get("finalizers"):
        pod_meta["finalizers"] = list(template_meta["finalizers"])
    pod_meta["ownerReferences"] = [{"apiVersion": daemon_set.get("apiVersion") or "apps/v1",
                                    "kind": daemon_set.get("kind") or "DaemonSet", "name": metadata["name"],
                                    "uid": metadata["uid"], "controller": True, "blockOwnerDeletion": True}]
    pod_spec = with_daemon_tolerations(template.get("spec") or {})
    pod_spec["affinity"] = pinned_affinity(pod_spec.get("affinity"), node_name)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}


# ---------------------------------------------------------------- which nodes, which pods


def should_run_on(daemon_set: dict, node: dict) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (a daemon pod should be created there, an existing one may stay)."""
    pod_spec = with_daemon_tolerations(((daemon_set.get("spec") or {}).get("template") or {}).get("spec") or {})
    node_name = (node.get("metadata") or {}).get("name") or ""
    if pod_spec.get("nodeName") and pod_spec["nodeName"] != node_name:
        return False, False
    labels = labels_of(node)
    if any(labels.get(key) != value for key, value in (pod_spec.get("nodeSelector") or {}).items()):
        return False, False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None and not any(term_matches(term, labels, node_name)
                                        for term in required.get("nodeSelectorTerms") or []):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = tuple(pod_spec.get("tolerations") or [])
    if first_untolerated_taint(taints, tolerations) is not None:
        no_execute = [taint for taint in taints if taint.get("effect") == "NoExecute"]
        return False, first_untolerated_taint(no_execute, tolerations) is None
    return True, True


def target_node(pod: dict) -> str | None:
    """GetTargetNodeName: the node a pod is bound to, or the one its pinning affinity names."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for requirement in term.get("matchFields") or []:
            values = requirement.get("values") or []
            if requirement.get("key") == "metadata.name" and requirement.get("operator") == "In" and len(values) == 1:
                return values[0]
    return None


def is_pod_updated(pod: dict, *, revision_hash: str, generation: str | None) -> bool:
    """IsPodUpdated: the pod carries the current hash, or the current template generation."""
    labels = labels_of(pod)
    return labels.get(REVISION_HASH_LABEL) == revision_hash or (
        generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation)


def _oldest_first(pod: dict) -> tuple:
    """podByCreationTimestampAndPhase: older first, and running before pending at the same age."""
    created = parse_time((pod.get("metadata") or {}).get("creationTimestamp")) or 0.0
    return (created, 0 if (pod.get("status") or {}).get("phase") == "Running" else 1, pod["metadata"]["name"])


def _updated_and_old(pods: list[dict], *, revision_hash: str, generation: str | None
                     ) -> tuple[dict | None, dict | None, bool]:
    """findUpdatedPodsOnNode: (the new pod, the old pod, whether there is at most one of each)."""
    new_pod = old_pod = None
    for pod in pods:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if is_pod_updated(pod, revision_hash=revision_hash, generation=generation):
            if new_pod is not None:
                return None, None, False
            new_pod = pod
        else:
            if old_pod is not None:
                return None, None, False
            old_pod = pod
    return new_pod, old_pod, True


# ---------------------------------------------------------------- the plan


def plan_daemonset(daemon_set: dict, *, nodes: list[dict], pods: list[dict], now: float,
                   may_manage: bool = True) -> DaemonSetPlan:
    """One sync: `pods` are the pods the DaemonSet controls (any phase); `may_manage` is false while the
    controller still waits to see its own creations and deletions."""
    spec = daemon_set.get("spec") or {}
    plan = DaemonSetPlan()
    revision_hash, generation = template_hash(daemon_set), template_generation(daemon_set)
    min_ready = spec.get("minReadySeconds") or 0
    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    rolling_params = strategy.get("rollingUpdate") or {}
    by_node: dict[str, list[dict]] = defaultdict(list)
    for pod in pods:
        if (node_name := target_node(pod)) is not None:
            by_node[node_name].append(pod)
    node_names = {(node.get("metadata") or {}).get("name") for node in nodes}
    ordered_nodes = sorted(nodes, key=lambda node: node["metadata"]["name"])
    placement = {node["metadata"]["name"]: should_run_on(daemon_set, node) for node in ordered_nodes}
    desired = sum(1 for should_run, _ in placement.values() if should_run)
    max_surge = scaled_value(rolling_params.get("maxSurge") or 0, desired, round_up=True) if rolling else 0

    def available(pod: dict) -> bool:
        return is_pod_available(pod, min_ready_seconds=min_ready, now=now)

    if may_manage:
        deleting: list[dict] = []
        for node in ordered_nodes:
            node_name = node["metadata"]["name"]
            should_run, may_stay = placement[node_name]
            on_node = by_node.get(node_name, [])
            if should_run and not on_node:
                plan.create_on.append(node_name)
            elif may_stay:
                deleting += _surplus_on_node(plan, daemon_set, on_node, node_name, surge=max_surge > 0,
                                             revision_hash=revision_hash, available=available)
            elif on_node:
                deleting += [pod for pod in on_node if not (pod.get("metadata") or {}).get("deletionTimestamp")]
        # Unscheduled pods pinned to nodes that are gone would never run, and nothing else removes them.
        for node_name, on_node in sorted(by_node.items()):
            if node_name not in node_names:
                deleting += [pod for pod in on_node if not (pod.get("spec") or {}).get("nodeName")
                             and not (pod.get("metadata") or {}).get("deletionTimestamp")]
        if rolling:
            # Nodes that should run the daemon but have no pod count as unavailable (updatedDesiredNodeCounts).
            wanted_nodes = {name: [] for name, (should_run, _) in placement.items() if should_run}
            rolling_deletes, rolling_creates = _rolling_update(
                daemon_set, by_node={**wanted_nodes, **by_node}, placement=placement, desired=desired, max_surge=max_surge,
                revision_hash=revision_hash, generation=generation, available=available)
            deleting += rolling_deletes
            plan.create_on += [name for name in rolling_creates if name not in plan.create_on]
        seen: set[str] = set()
        for pod in deleting:
            if pod["metadata"]["name"] not in seen:
                seen.add(pod["metadata"]["name"])
                plan.delete.append(pod)

    plan.status = _status(daemon_set, ordered_nodes, placement, by_node, revision_hash=revision_hash,
                          generation=generation, available=available)
    # A ready pod becomes available after minReadySeconds: look again then.
    waits = [ready_at + min_ready - now for pod in pods if min_ready and is_pod_ready(pod) and not available(pod)
             and (ready_at := _ready_since(pod)) is not None]
    if waits:
        plan.requeue_after = max(0.0, min(waits))
    return plan


def _ready_since(pod: dict) -> float | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def _surplus_on_node(plan: DaemonSetPlan, daemon_set: dict, on_node: list[dict], node_name: str, *, surge: bool,
                     revision_hash: str, available) -> list[dict]:
    """podsShouldBeOnNode for a node that keeps its daemon: failed pods go, and all but one (or, surging,
    the newest new beside a ready old one) of the running ones."""
    deleting, running = [], []
    metadata = daemon_set["metadata"]
    for pod in on_node:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Failed":
            plan.events.append((WARNING, FAILED_DAEMON_POD, f"Found failed daemon pod {metadata.get('namespace')}/"
                                                            f"{pod['metadata']['name']} on node {node_name}, "
                                                            "will try to kill it"))
            deleting.append(pod)
        elif phase == "Succeeded":
            deleting.append(pod)
        else:
            running.append(pod)
    running.sort(key=_oldest_first)
    if not surge:
        return deleting + running[1:]
    oldest_new = oldest_old = None
    for pod in running:
        if labels_of(pod).get(REVISION_HASH_LABEL) == revision_hash:
            if oldest_new is None:
                oldest_new = pod
                continue
        elif oldest_old is None:
            oldest_old = pod
            continue
        deleting.append(pod)
    if oldest_new is not None and oldest_old is not None and (not is_pod_ready(oldest_old) or available(oldest_new)):
        deleting.append(oldest_old)
    return deleting


def _rolling_update(daemon_set: dict, *, by_node: dict[str, list[dict]], placement: dict[str, tuple[bool, bool]],
                    desired: int, max_surge: int, revision_hash: str, generation: str | None,
                    available) -> tuple[list[dict], list[str]]:
    """rollingUpdate: (old pods to delete, nodes on which to surge a new pod)."""
    rolling_params = ((daemon_set.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    max_unavailable = scaled_value(rolling_params.get("maxUnavailable") or 0, desired, round_up=True)
    if max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1  # an impossible configuration: Kubernetes falls back to one at a time
    deletes: list[dict] = []
    if max_surge == 0:
        unavailable, allowed, candidates = 0, [], []
        for node_name in sorted(by_node):
            new_pod, old_pod, single = _updated_and_old(by_node[node_name], revision_hash=revision_hash,
                                                        generation=generation)
            if not single or (old_pod is None) == (new_pod is None):
                unavailable += 1  # the manage loop creates or cleans up here
            elif new_pod is not None:
                unavailable += 0 if available(new_pod) else 1
            elif not available(old_pod):
                allowed.append(old_pod)  # nothing to lose by replacing it
            elif unavailable < max_unavailable:
                candidates.append(old_pod)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return allowed + candidates[:room], []
    surging, available_count = 0, 0
    allowed_nodes, candidate_nodes, retiring = [], [], []
    for node_name in sorted(by_node):
        new_pod, old_pod, single = _updated_and_old(by_node[node_name], revision_hash=revision_hash,
                                                    generation=generation)
        if not single:
            surging += 1
            continue
        counted = old_pod if old_pod is not None else new_pod
        if counted is not None and available(counted):
            available_count += 1
        should_run = placement.get(node_name, (False, False))[0]
        if old_pod is None:
            continue
        if new_pod is None:
            if not available(old_pod):
                if not should_run:
                    deletes.append(old_pod)
                else:
                    allowed_nodes.append(node_name)
            elif not should_run:
                retiring.append(old_pod)
            elif surging < max_surge:
                candidate_nodes.append(node_name)
        elif not available(new_pod):
            surging += 1
        else:
            deletes.append(old_pod)
    # Pods on nodes that should no longer run them go only once enough others are available.
    deletes += retiring[:max(0, min(available_count - desired, len(retiring)))]
    room = max(0, min(max_surge - surging, len(candidate_nodes)))
    return deletes, allowed_nodes + candidate_nodes[:room]


def _status(daemon_set: dict, nodes: list[dict], placement: dict[str, tuple[bool, bool]],
            by_node: dict[str, list[dict]], *, revision_hash: str, generation: str | None, available) -> dict:
    """updateDaemonSetStatus: counts over nodes, from each node's oldest daemon pod."""
    desired = current = ready = available_count = updated = misscheduled = 0
    for node in nodes:
        node_name = node["metadata"]["name"]
        on_node = sorted(by_node.get(node_name, []), key=_oldest_first)
        if not placement[node_name][0]:
            misscheduled += 1 if on_node else 0
            continue
        desired += 1
        if not on_node:
            continue
        current += 1
        pod = on_node[0]
        if is_pod_ready(pod):
            ready += 1
            available_count += 1 if available(pod) else 0
        if is_pod_updated(pod, revision_hash=revision_hash, generation=generation):
            updated += 1
    status: dict[str, Any] = {"currentNumberScheduled": current, "numberMisscheduled": misscheduled,
                              "desiredNumberScheduled": desired, "numberReady": ready}
    observed = (daemon_set.get("metadata") or {}).get("generation")
    optional = {"observedGeneration": observed, "updatedNumberScheduled": updated, "numberAvailable": available_count,
                "numberUnavailable": desired - available_count,
                "collisionCount": (daemon_set.get("status") or {}).get("collisionCount"),
                "conditions": (daemon_set.get("status") or {}).get("conditions")}
    status.update({key: value for key, value in optional.items() if value})  # Go's omitempty
    return status
