"""Small builders of API objects (plain dicts, wire form) for the controllers' unit tests."""

from __future__ import annotations

import copy
import itertools

from orchestrator.controllers.base import format_time

NOW = 1_700_000_000.0
NAMESPACE = "default"
_uids = itertools.count(1)


def ts(offset: float = 0.0) -> str:
    """A timestamp `offset` seconds after NOW."""
    return format_time(NOW + offset)


def new_uid(prefix: str = "uid") -> str:
    return f"{prefix}-{next(_uids)}"


def ref_to(owner: dict, *, controller: bool = True, block: bool = True) -> dict:
    reference = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                 "uid": owner["metadata"]["uid"]}
    if controller:
        reference["controller"] = True
    if block:
        reference["blockOwnerDeletion"] = True
    return reference


def new_pod(name: str, *, labels: dict | None = None, owner: dict | None = None, phase: str = "Running",
            ready: bool = True, node: str | None = "node-1", ip: str | None = "10.0.0.1", created: float = 0.0,
            ready_since: float = 0.0, deleting: bool = False, namespace: str = NAMESPACE,
            containers: list[dict] | None = None, tolerations: list[dict] | None = None,
            annotations: dict | None = None, restarts: int = 0) -> dict:
    metadata: dict = {"name": name, "namespace": namespace, "uid": new_uid("pod"), "resourceVersion": "1",
                      "creationTimestamp": ts(created), "labels": dict(labels or {"app": "web"})}
    if owner is not None:
        metadata["ownerReferences"] = [ref_to(owner)]
    if deleting:
        metadata["deletionTimestamp"] = ts(100)
    if annotations:
        metadata["annotations"] = annotations
    spec: dict = {"containers": containers or [{"name": "app", "image": "app:1"}]}
    if node:
        spec["nodeName"] = node
    if tolerations:
        spec["tolerations"] = tolerations
    status: dict = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ts(ready_since)}]}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    if restarts:
        status["containerStatuses"] = [{"name": "app", "restartCount": restarts}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def pod_template(image: str = "app:1", labels: dict | None = None) -> dict:
    return {"metadata": {"labels": dict(labels or {"app": "web"})},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def new_replica_set(name: str, *, replicas: int = 3, image: str = "app:1", owner: dict | None = None,
                    labels: dict | None = None, created: float = 0.0, revision: int | None = None,
                    status_replicas: int | None = None, ready: int | None = None, available: int | None = None,
                    annotations: dict | None = None, generation: int = 1, min_ready_seconds: int = 0,
                    template_hash: str | None = None, namespace: str = NAMESPACE) -> dict:
    labels = dict(labels or {"app": "web"})
    template = pod_template(image, labels)
    selector_labels = dict(labels)
    if template_hash:
        template["metadata"]["labels"]["pod-template-hash"] = template_hash
        selector_labels["pod-template-hash"] = template_hash
    metadata: dict = {"name": name, "namespace": namespace, "uid": new_uid("rs"), "resourceVersion": "1",
                      "generation": generation, "creationTimestamp": ts(created),
                      "labels": dict(template["metadata"]["labels"]), "annotations": dict(annotations or {})}
    if revision is not None:
        metadata["annotations"]["deployment.kubernetes.io/revision"] = str(revision)
    if owner is not None:
        metadata["ownerReferences"] = [ref_to(owner)]
    status_replicas = replicas if status_replicas is None else status_replicas
    ready = status_replicas if ready is None else ready
    available = ready if available is None else available
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": metadata,
        "spec": {"replicas": replicas, "minReadySeconds": min_ready_seconds,
                 "selector": {"matchLabels": selector_labels}, "template": template},
        "status": {"replicas": status_replicas, "readyReplicas": ready, "availableReplicas": available,
                   "observedGeneration": generation},
    }


def new_deployment(name: str = "web", *, replicas: int = 3, image: str = "app:1", max_surge: int | str = "25%",
                   max_unavailable: int | str = "25%", strategy: str = "RollingUpdate", generation: int = 1,
                   status: dict | None = None, paused: bool = False, annotations: dict | None = None,
                   progress_deadline: int | None = 600, revision_history_limit: int = 10,
                   min_ready_seconds: int = 0, deleting: bool = False, namespace: str = NAMESPACE) -> dict:
    strategy_spec: dict = {"type": strategy}
    if strategy == "RollingUpdate":
        strategy_spec["rollingUpdate"] = {"maxSurge": max_surge, "maxUnavailable": max_unavailable}
    spec: dict = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template(image),
                  "strategy": strategy_spec, "revisionHistoryLimit": revision_history_limit,
                  "minReadySeconds": min_ready_seconds}
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    if paused:
        spec["paused"] = True
    metadata: dict = {"name": name, "namespace": namespace, "uid": new_uid("deploy"), "resourceVersion": "1",
                      "generation": generation, "creationTimestamp": ts(-1000), "annotations": dict(annotations or {})}
    if deleting:
        metadata["deletionTimestamp"] = ts(0)
        metadata["finalizers"] = ["foregroundDeletion"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec,
            "status": copy.deepcopy(status or {})}
