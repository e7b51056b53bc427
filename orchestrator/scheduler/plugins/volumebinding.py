"""VolumeBinding: pods that mount PersistentVolumeClaims go where their volumes can be used.

As kube-scheduler's plugins/volumebinding, reduced to what this cluster provisions:

- PreFilter (`check_pod_volumes`, pure): a claim that does not exist or is being deleted, or an
  unbound claim of an Immediate class, makes the pod unschedulable everywhere with Kubernetes'
  words (`persistentvolumeclaim "x" not found`, `pod has unbound immediate PersistentVolumeClaims`);
- Filter: a node is rejected when the volume a claim is bound to has node affinity that excludes
  it ("node(s) had volume node affinity conflict"), or when that volume does not exist;
- PreBind (the scheduler loop, scheduler.py): each unbound claim of a WaitForFirstConsumer class
  gets the `volume.kubernetes.io/selected-node` annotation naming the chosen node before the pod
  is bound, so the persistent-volume controller provisions (or binds) a volume there.

Static volumes of a WaitForFirstConsumer class are bound by the controller once a node is
selected; this plugin does not check beforehand that one fits the node (Kubernetes does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from orchestrator.controllers.persistentvolume.plan import node_admits
from orchestrator.scheduler.framework import SUCCESS, Code, NodeInfo, PodInfo, Status
from orchestrator.scheduler.nodetable import NodeTable

REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"

Lookup = Callable[[str], Mapping | None]


@dataclass
class PodVolumes:
    """What the pod's claims require: a reason it fits nowhere, the volumes nodes must admit,
    the claims whose node the scheduler chooses, and whether some claim's volume is missing."""

    unschedulable: str | None = None
    bound_volumes: list[Mapping] = field(default_factory=list)
    claims_to_select: list[Mapping] = field(default_factory=list)
    missing_volume: bool = False


def check_pod_volumes(pod: Mapping, *, get_claim: Lookup, get_volume: Lookup, get_class: Lookup) -> PodVolumes:
    """`get_claim("ns/name")`, `get_volume(name)`, `get_class(name)` read the caches."""
    result = PodVolumes()
    namespace = (pod.get("metadata") or {}).get("namespace") or ""
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim")
        if not source:
            continue
        claim_name = source.get("claimName") or ""
        claim = get_claim(f"{namespace}/{claim_name}")
        if claim is None:
            return PodVolumes(unschedulable=f'persistentvolumeclaim "{claim_name}" not found')
        if (claim.get("metadata") or {}).get("deletionTimestamp"):
            return PodVolumes(unschedulable=f'persistentvolumeclaim "{claim_name}" is being deleted')
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name:
            persistent_volume = get_volume(volume_name)
            if persistent_volume is None:
                result.missing_volume = True
            else:
                result.bound_volumes.append(persistent_volume)
            continue
        class_name = (claim.get("spec") or {}).get("storageClassName") or ""
        storage_class = get_class(class_name) if class_name else None
        if (storage_class or {}).get("volumeBindingMode") == "WaitForFirstConsumer":
            result.claims_to_select.append(claim)
        else:
            return PodVolumes(unschedulable=UNBOUND_IMMEDIATE)
    return result


class VolumeBinding:
    NAME = "VolumeBinding"
    CODE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE

    def __init__(self, pod_volumes: Callable[[Mapping], PodVolumes]):
        self.pod_volumes = pod_volumes  # check_pod_volumes over the scheduler's caches

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        volumes = self.pod_volumes(pod.pod)
        if volumes.missing_volume:
            return Status.unresolvable(REASON_PV_NOT_EXIST)
        if not all(node_admits(volume, node.name, node.labels) for volume in volumes.bound_volumes):
            return Status.unresolvable(REASON_NODE_CONFLICT)
        return SUCCESS

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        volumes = self.pod_volumes(pod.pod)
        if not volumes.missing_volume and not any(
                (v.get("spec") or {}).get("nodeAffinity") for v in volumes.bound_volumes):
            return None
        mask = np.zeros(len(table.present), dtype=bool)
        for slot, info in enumerate(table.node_infos):
            if info is not None and table.present[slot]:
                mask[slot] = self.filter(pod, info).is_success
        return mask

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        reason = REASON_PV_NOT_EXIST if self.pod_volumes(pod.pod).missing_volume else REASON_NODE_CONFLICT
        return Counter({reason: len(rejected_slots)})
