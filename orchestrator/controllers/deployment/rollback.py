"""Revisions of a Deployment, and what a rollback means to the controller.

In apps/v1, `kubectl rollout undo` is done by kubectl itself: it copies an old
ReplicaSet's template back into the Deployment. For the controller a rollback is just a
template equal to an old ReplicaSet's, so that ReplicaSet becomes the new one again
(never a fresh copy) and gets the next revision number, its former numbers kept in
`deployment.kubernetes.io/revision-history` (SetNewReplicaSetAnnotations). This module
computes revision numbers and the annotations a new ReplicaSet carries.

Used by `sync.py` (getNewReplicaSet).
"""

from __future__ import annotations

from orchestrator.controllers.base import annotations_of
from orchestrator.controllers.deployment.util import (
    ANNOTATIONS_TO_SKIP,
    MAX_REVISION_HISTORY_LENGTH,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    max_revision,
    max_surge,
    replicas_of,
    set_replicas_annotations,
)


def next_revision(old_replica_sets: list[dict]) -> int:
    """A new template gets the highest revision among the old ReplicaSets plus one."""
    return max_revision(old_replica_sets) + 1


def copy_deployment_annotations(deployment: dict, rs: dict) -> bool:
    """copyDeploymentAnnotationsToReplicaSet (mutates `rs`): e.g. kubernetes.io/change-cause,
    so `kubectl rollout history` can show why each revision exists."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(deployment).items():
        if key in ANNOTATIONS_TO_SKIP or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def _append_revision_history(annotations: dict, old_revision: str) -> None:
    history = annotations.get(REVISION_HISTORY_ANNOTATION, "")
    if not history:
        annotations[REVISION_HISTORY_ANNOTATION] = old_revision
        return
    revisions = history.split(",")
    total_length = len(history) + len(old_revision) + 1
    start = 0
    while total_length > MAX_REVISION_HISTORY_LENGTH and start < len(revisions):
        total_length -= len(revisions[start]) + 1
        start += 1
    if total_length <= MAX_REVISION_HISTORY_LENGTH:
        annotations[REVISION_HISTORY_ANNOTATION] = ",".join([*revisions[start:], old_revision])


def set_new_replica_set_annotations(deployment: dict, rs: dict, *, new_revision: int, exists: bool) -> bool:
    """SetNewReplicaSetAnnotations (mutates `rs`); True if an annotation changed.

    The revision only ever goes up: an old ReplicaSet brought back by a rollback gets
    `new_revision` and remembers its former number in the revision history.
    """
    changed = copy_deployment_annotations(deployment, rs)
    annotations = rs["metadata"].setdefault("annotations", {})
    old_revision_text = annotations.get(REVISION_ANNOTATION)
    try:
        old_revision = int(old_revision_text) if old_revision_text else 0
    except ValueError:
        return False  # someone wrote garbage; Kubernetes leaves such a ReplicaSet alone
    if old_revision < new_revision:
        annotations[REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if old_revision_text:
            _append_revision_history(annotations, old_revision_text)
    if not exists:
        replicas = replicas_of(deployment)
        if set_replicas_annotations(rs, desired=replicas, maximum=replicas + max_surge(deployment)):
            changed = True
    return changed
