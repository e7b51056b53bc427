"""Pure decisions of the persistent-volume controller: which volume a claim binds to, what a
provisioned volume looks like, and what happens to a volume whose claim is gone.

As pkg/controller/volume/persistentvolume (findBestMatchForClaim, syncVolume's reclaim) and
the local-path provisioner of k3s: a claim matches an unbound volume of the same class
(`""` = no class) whose access modes include the claim's, whose capacity is at least the
request, whose labels match the claim's selector, with the same volume mode, and (once a node
is chosen) whose node affinity admits that node; the smallest such volume wins. No I/O:
controller.py reads the caches, calls these, and writes what they say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import PurePosixPath

from orchestrator.api.quantity import parse_quantity
from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.scheduler.plugins.nodeaffinity import term_matches

LOCAL_PATH_PROVISIONER = "orchestrator.io/local-path"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
PROVISIONED_BY_ANNOTATION = "pv.kubernetes.io/provisioned-by"
BOUND_BY_CONTROLLER_ANNOTATION = "pv.kubernetes.io/bound-by-controller"
BIND_COMPLETED_ANNOTATION = "pv.kubernetes.io/bind-completed"
STORAGE_PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner"
# The Node annotation where a kubelet says under which directory it keeps local-path volumes.
LOCAL_PATH_ROOT_ANNOTATION = "orchestrator.io/local-path-root"
# Held by a provisioned volume with reclaim policy Delete until its node's kubelet removed the directory.
LOCAL_PATH_FINALIZER = "orchestrator.io/local-path-cleanup"
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"
HOSTNAME_LABEL = "kubernetes.io/hostname"
TERMINAL_POD_PHASES = ("Succeeded", "Failed")


def _metadata(obj: Mapping | None) -> Mapping:
    return (obj or {}).get("metadata") or {}


def _spec(obj: Mapping | None) -> Mapping:
    return (obj or {}).get("spec") or {}


def requested_storage(claim: Mapping) -> Decimal:
    requests = (_spec(claim).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage", 0))


def volume_storage(volume: Mapping) -> Decimal:
    return parse_quantity((_spec(volume).get("capacity") or {}).get("storage", 0))


def claim_class(claim: Mapping) -> str:
    return _spec(claim).get("storageClassName") or ""


def volume_class(volume: Mapping) -> str:
    return _spec(volume).get("storageClassName") or ""


def node_admits(volume: Mapping, node_name: str, node_labels: Mapping[str, str]) -> bool:
    """The volume's required node affinity admits the node (no affinity: every node)."""
    required = (_spec(volume).get("nodeAffinity") or {}).get("required")
    if not required:
        return True
    return any(term_matches(term, node_labels, node_name) for term in required.get("nodeSelectorTerms") or [])


def claim_ref_points_at(volume: Mapping, claim: Mapping) -> bool:
    """The volume's claimRef names this claim (same uid, or no uid yet: pre-bound by name)."""
    ref = _spec(volume).get("claimRef")
    if not ref:
        return False
    metadata = _metadata(claim)
    return (ref.get("name") == metadata.get("name") and ref.get("namespace") == metadata.get("namespace")
            and (not ref.get("uid") or ref.get("uid") == metadata.get("uid")))


def volume_satisfies(volume: Mapping, claim: Mapping, *, node_name: str | None = None,
                     node_labels: Mapping[str, str] | None = None) -> bool:
    """Whether `volume` could back `claim` (ignoring who holds it)."""
    if _metadata(volume).get("deletionTimestamp"):
        return False
    claim_spec, spec = _spec(claim), _spec(volume)
    if volume_class(volume) != claim_class(claim):
        return False
    if not set(claim_spec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    if (spec.get("volumeMode") or "Filesystem") != (claim_spec.get("volumeMode") or "Filesystem"):
        return False
    if volume_storage(volume) < requested_storage(claim):
        return False
    if claim_spec.get("selector") is not None:
        try:
            selector = selector_from_object(claim_spec["selector"])
        except ValueError:
            return False
        if not selector.matches(_metadata(volume).get("labels") or {}):
            return False
    if node_name is not None and not node_admits(volume, node_name, node_labels or {}):
        return False
    return True


def find_best_match(claim: Mapping, volumes: Iterable[Mapping], *, node_name: str | None = None,
                    node_labels: Mapping[str, str] | None = None) -> Mapping | None:
    """The volume the claim should bind to: one pre-bound to it if it fits, else the smallest free one."""
    candidates = []
    for volume in volumes:
        if not volume_satisfies(volume, claim, node_name=node_name, node_labels=node_labels):
            continue
        if claim_ref_points_at(volume, claim):
            return volume
        if _spec(volume).get("claimRef"):
            continue  # held by (or reserved for) another claim
        if ((volume.get("status") or {}).get("phase") or "Available") not in ("Available", "Pending"):
            continue
        candidates.append(volume)
    if not candidates:
        return None
    return min(candidates, key=lambda v: (volume_storage(v), _metadata(v).get("name") or ""))


def claim_reference(claim: Mapping) -> dict:
    metadata = _metadata(claim)
    return {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": metadata.get("namespace"),
            "name": metadata.get("name"), "uid": metadata.get("uid")}


def provisioned_volume_name(claim: Mapping) -> str:
    return f"pvc-{_metadata(claim).get('uid')}"


def local_path_for(claim: Mapping, root: str) -> str:
    metadata = _metadata(claim)
    directory = f"{provisioned_volume_name(claim)}_{metadata.get('namespace')}_{metadata.get('name')}"
    return str(PurePosixPath(root) / directory)


def provisioned_volume(claim: Mapping, storage_class: Mapping, *, node_name: str, root: str) -> dict:
    """The PersistentVolume the local-path provisioner creates for `claim` on `node_name`, pre-bound to it."""
    claim_spec = _spec(claim)
    reclaim_policy = storage_class.get("reclaimPolicy") or "Delete"
    metadata: dict = {
        "name": provisioned_volume_name(claim),
        "annotations": {PROVISIONED_BY_ANNOTATION: LOCAL_PATH_PROVISIONER, SELECTED_NODE_ANNOTATION: node_name},
    }
    if reclaim_policy == "Delete":
        metadata["finalizers"] = [LOCAL_PATH_FINALIZER]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata,
        "spec": {
            "capacity": {"storage": ((claim_spec.get("resources") or {}).get("requests") or {}).get("storage")},
            "accessModes": list(claim_spec.get("accessModes") or []),
            "persistentVolumeReclaimPolicy": reclaim_policy,
            "storageClassName": claim_class(claim),
            "volumeMode": claim_spec.get("volumeMode") or "Filesystem",
            "claimRef": claim_reference(claim),
            "local": {"path": local_path_for(claim, root)},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": HOSTNAME_LABEL, "operator": "In", "values": [node_name]}]}]}},
        },
    }


def is_ready(node: Mapping) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def node_for_immediate_binding(nodes: Iterable[Mapping]) -> Mapping | None:
    """Immediate mode has no pod to follow: the first Ready node that keeps local-path volumes."""
    usable = [node for node in nodes
              if is_ready(node) and (_metadata(node).get("annotations") or {}).get(LOCAL_PATH_ROOT_ANNOTATION)
              and not _spec(node).get("unschedulable")]
    return min(usable, key=lambda node: _metadata(node).get("name") or "", default=None)


def pod_uses_claim(pod: Mapping, claim_name: str) -> bool:
    """The pod mounts the claim and has not finished (what pvc-protection waits for)."""
    if (pod.get("status") or {}).get("phase") in TERMINAL_POD_PHASES:
        return False
    return any((volume.get("persistentVolumeClaim") or {}).get("claimName") == claim_name
               for volume in _spec(pod).get("volumes") or [])


def claim_names_of(pod: Mapping) -> list[str]:
    return [volume["persistentVolumeClaim"].get("claimName") or ""
            for volume in _spec(pod).get("volumes") or [] if volume.get("persistentVolumeClaim")]


def volume_fate(volume: Mapping, claim: Mapping | None) -> str:
    """What syncVolume does with a volume: `available`, `bound`, `wait` (claim binding in progress),
    `released` (Retain: keep it), `delete` (Delete: remove the object) or `unbind` (the claim took another)."""
    ref = _spec(volume).get("claimRef")
    if not ref:
        return "available"
    if claim is None or (ref.get("uid") and ref.get("uid") != _metadata(claim).get("uid")):
        if not ref.get("uid"):
            return "available"  # pre-bound by a user to a claim that does not exist yet
        policy = _spec(volume).get("persistentVolumeReclaimPolicy") or "Retain"
        return "delete" if policy == "Delete" else "released"
    volume_name = _spec(claim).get("volumeName")
    if volume_name == _metadata(volume).get("name"):
        return "bound"
    if not volume_name:
        return "wait"
    annotations = _metadata(volume).get("annotations") or {}
    return "unbind" if annotations.get(BOUND_BY_CONTROLLER_ANNOTATION) == "yes" else "released"
