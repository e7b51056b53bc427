"""`orc apply --prune`: delete what was applied before but is no longer in the files, as kubectl does.

After `apply -f DIR --prune -l app=web`, every object that (a) is of a kind in kubectl's default
prune allowlist, (b) lives in a namespace the files applied to (or is cluster-scoped), (c) matches the
selector (or `--all`), (d) carries the `last-applied-configuration` annotation — so it was applied
once — and (e) was not among the objects just applied, is deleted and reported
`deployment.apps/old pruned`.

Called by cli/client/apply.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cli.client.apply import LAST_APPLIED_ANNOTATION, dry_run_suffix
from cli.client.delete import delete_one
from cli.client.targets import list_items

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource

# kubectl's default prune allowlist (staging/src/k8s.io/kubectl/pkg/util/prune), as (group, version, kind).
DEFAULT_ALLOWLIST: tuple[tuple[str, str, str], ...] = (
    ("", "v1", "ConfigMap"), ("", "v1", "Endpoints"), ("", "v1", "Namespace"),
    ("", "v1", "PersistentVolumeClaim"), ("", "v1", "PersistentVolume"), ("", "v1", "Pod"),
    ("", "v1", "ReplicationController"), ("", "v1", "Secret"), ("", "v1", "Service"),
    ("batch", "v1", "Job"), ("batch", "v1", "CronJob"), ("networking.k8s.io", "v1", "Ingress"),
    ("apps", "v1", "DaemonSet"), ("apps", "v1", "Deployment"), ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
)

# (group, kind, namespace or "", name) of an applied object.
AppliedKey = tuple[str, str, str, str]


def applied_key(resource: ApiResource, namespace: str | None, name: str) -> AppliedKey:
    return (resource.group, resource.kind, namespace or "", name)


def prune_candidates(objects: Iterable[dict], *, applied: set[AppliedKey], resource: ApiResource) -> list[dict]:
    """The listed objects that were applied once (annotation) and are not in this apply."""
    candidates = []
    for item in objects:
        metadata = item.get("metadata") or {}
        if LAST_APPLIED_ANNOTATION not in (metadata.get("annotations") or {}):
            continue
        if metadata.get("deletionTimestamp"):
            continue
        if applied_key(resource, metadata.get("namespace"), metadata.get("name", "")) in applied:
            continue
        candidates.append(item)
    return candidates


def prune(connection: Connection, *, applied: set[AppliedKey], namespaces: set[str], selector: str | None,
          dry_run: str | None) -> None:
    """Delete and report every object this apply no longer declares."""
    resources = connection.discovery.resources()
    for group, version, kind in DEFAULT_ALLOWLIST:
        resource = next((r for r in resources if (r.group, r.version, r.kind) == (group, version, kind)
                         and "/" not in r.name), None)
        if resource is None or "list" not in resource.verbs or "delete" not in resource.verbs:
            continue  # a kind this server does not serve
        scopes = sorted(namespaces) if resource.namespaced else [None]
        for namespace in scopes:
            items = list_items(connection.client, resource, namespace=namespace, label_selector=selector)
            for item in prune_candidates(items, applied=applied, resource=resource):
                name = item["metadata"]["name"]
                delete_one(connection, resource, name, namespace=namespace, propagation="Background",
                           grace_period=None, dry_run=dry_run)
                sys.stdout.write(f"{resource.object_ref(name)} pruned{dry_run_suffix(dry_run)}\n")
    sys.stdout.flush()
