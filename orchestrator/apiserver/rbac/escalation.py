"""Escalation prevention: a user may only write a Role/ClusterRole holding rules they hold, and may
only bind a role whose rules they hold — unless RBAC grants them `escalate` (roles) or `bind`
(bindings) on it. As Kubernetes' rbac registry (pkg/registry/rbac/{role,clusterrole,rolebinding}/policybased).

`check_write(...)` runs on the write path of the four RBAC kinds (rest.py's write checks, through
admission.py) with the requesting user; it raises Kubernetes' 403 with the rules not held.
"""

from __future__ import annotations

import json

from orchestrator.api import errors
from orchestrator.apiserver.auth import UserInfo
from orchestrator.apiserver.rbac.attributes import Attributes
from orchestrator.apiserver.rbac.authorizer import MASTERS_GROUP, CompiledRules, RBACAuthorizer

RBAC_GROUP = "rbac.authorization.k8s.io"


def _go_quoted(values: list[str]) -> str:
    return "[" + " ".join(json.dumps(value) for value in values) + "]"


def compact(rule: dict) -> str:
    """rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`."""
    parts = []
    for label, key in (("APIGroups", "apiGroups"), ("Resources", "resources"), ("ResourceNames", "resourceNames"),
                       ("NonResourceURLs", "nonResourceURLs"), ("Verbs", "verbs")):
        if rule.get(key):
            parts.append(f"{label}:{_go_quoted(rule[key])}")
    return "{" + ", ".join(parts) + "}"


def missing_rules(held: CompiledRules, wanted: list[dict]) -> list[dict]:
    """The rules of `wanted` (one per group/resource/name, verbs combined) that `held` does not cover."""
    missing: dict[tuple, list[str]] = {}
    for rule in wanted:
        for verb in rule.get("verbs") or []:
            for url in rule.get("nonResourceURLs") or []:
                if not held.allows(Attributes(verb=verb, path=url)):
                    missing.setdefault(("url", url), []).append(verb)
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    resource_name, _, sub = resource.partition("/")
                    for name in rule.get("resourceNames") or [""]:
                        attributes = Attributes(verb=verb, path="", resource_request=True, api_group=group,
                                                resource=resource_name, subresource=sub, name=name)
                        if not held.allows(attributes):
                            missing.setdefault(("resource", group, resource, name), []).append(verb)
    result = []
    for key, verbs in sorted(missing.items()):
        verbs = list(dict.fromkeys(verbs))
        if key[0] == "url":
            result.append({"nonResourceURLs": [key[1]], "verbs": verbs})
        else:
            _, group, resource, name = key
            entry = {"apiGroups": [group], "resources": [resource], "verbs": verbs}
            if name:
                entry["resourceNames"] = [name]
            result.append(entry)
    return result


def escalation_error(user: UserInfo, *, plural: str, name: str, missing: list[dict]) -> errors.Forbidden:
    lines = "\n".join(compact(rule) for rule in missing)
    message = (f'{plural}.{RBAC_GROUP} "{name}" is forbidden: user "{user.name}" (groups={_go_quoted(list(user.groups))}) '
               f"is attempting to grant RBAC permissions not currently held:\n{lines}")
    return errors.Forbidden(message, details={"name": name, "group": RBAC_GROUP, "kind": plural})


def check_write(authorizer: RBACAuthorizer, user: UserInfo, *, kind: str, obj: dict, old: dict | None) -> None:
    if MASTERS_GROUP in user.groups:
        return
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or ""
    name = metadata.get("name") or ""
    if kind in ("Role", "ClusterRole"):
        plural = "roles" if kind == "Role" else "clusterroles"
        if authorizer.allowed(user, Attributes(verb="escalate", path="", resource_request=True, api_group=RBAC_GROUP,
                                               resource=plural, namespace=namespace, name=name)):
            return
        wanted = obj.get("rules") or []
    else:
        if old is not None and old.get("roleRef") == obj.get("roleRef") and \
                (old.get("subjects") or []) == (obj.get("subjects") or []):
            return  # metadata-only change: nothing is granted
        plural = "rolebindings" if kind == "RoleBinding" else "clusterrolebindings"
        role_ref = obj.get("roleRef") or {}
        role_plural = "roles" if role_ref.get("kind") == "Role" else "clusterroles"
        if authorizer.allowed(user, Attributes(verb="bind", path="", resource_request=True, api_group=RBAC_GROUP,
                                               resource=role_plural, namespace=namespace if role_plural == "roles" else "",
                                               name=role_ref.get("name") or "")):
            return
        wanted = authorizer.role_rules(role_ref.get("kind"), namespace, role_ref.get("name") or "")
        if wanted is None:
            raise errors.Forbidden(
                f'{plural}.{RBAC_GROUP} "{name}" is forbidden: {role_plural}.{RBAC_GROUP} '
                f'"{role_ref.get("name")}" not found', details={"name": name, "group": RBAC_GROUP, "kind": plural})
    held = CompiledRules()
    for rule in authorizer.rules_for(user, namespace or None):
        held.add(rule)
    missing = missing_rules(held, wanted)
    if missing:
        raise escalation_error(user, plural=plural, name=name, missing=missing)
