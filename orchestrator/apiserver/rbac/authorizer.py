"""The RBAC authorizer: is this user allowed this verb on this resource (or URL)?

Rules come from the apiserver's own watch cache (the four RBAC resources), never from etcd per
request. `RBACAuthorizer` keeps an index subject -> rules (cluster-wide, and per namespace for
RoleBindings); any change to an RBAC object marks it stale and the next request rebuilds it. For a
user (name + groups) the rules are compiled once into dicts keyed by (verb, group, resource), and
decisions are memoised per (user, attributes), so a repeated request costs one dict look-up.

Matching is Kubernetes' (pkg/apis/rbac/v1/evaluation_helpers.go): `*` in verbs/apiGroups/resources
matches anything, `*/status` matches that subresource of every resource, resourceNames restricts
to those names (a request without a name never matches a rule that lists names), nonResourceURLs
match exactly or by a trailing `*` prefix. `system:masters` is always allowed.

Used by middleware.py (every request), reviews.py (access and rules reviews), escalation.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from orchestrator.api import errors
from orchestrator.apiserver.auth import UserInfo
from orchestrator.apiserver.rbac.attributes import Attributes

log = logging.getLogger(__name__)

MASTERS_GROUP = "system:masters"
RBAC_RESOURCES = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
_ALL = "*"
_ALL_NAMES = None  # a compiled entry allowing every name
_DECISION_CACHE_LIMIT = 100_000


def subject_key(subject: dict, binding_namespace: str | None) -> str | None:
    """The user or group name a binding subject stands for: `user:NAME` or `group:NAME`."""
    kind, name = subject.get("kind"), subject.get("name") or ""
    if kind == "User":
        return f"user:{name}"
    if kind == "Group":
        return f"group:{name}"
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace or ""
        return f"user:system:serviceaccount:{namespace}:{name}"
    return None


def user_keys(user: UserInfo) -> list[str]:
    return [f"user:{user.name}", *(f"group:{group}" for group in user.groups)]


@dataclass
class CompiledRules:
    """Rules of one user in one scope, as dicts: (verb, group, resource) -> names (None: every name)."""

    resources: dict[tuple[str, str, str], set[str] | None] = field(default_factory=dict)
    urls: set[tuple[str, str]] = field(default_factory=set)
    url_prefixes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, rule: dict) -> None:
        verbs = rule.get("verbs") or []
        for url in rule.get("nonResourceURLs") or []:
            for verb in verbs:
                if url.endswith("*"):
                    self.url_prefixes.append((verb, url[:-1]))
                else:
                    self.urls.add((verb, url))
        names = rule.get("resourceNames") or []
        for verb in verbs:
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    key = (verb, group, resource)
                    if not names:
                        self.resources[key] = _ALL_NAMES
                    elif key not in self.resources:
                        self.resources[key] = set(names)
                    elif self.resources[key] is not _ALL_NAMES:
                        self.resources[key].update(names)

    def allows(self, attributes: Attributes) -> bool:
        verbs = (attributes.verb, _ALL)
        if not attributes.resource_request:
            path = attributes.path
            for verb in verbs:
                if (verb, path) in self.urls:
                    return True
            return any(verb in verbs and path.startswith(prefix) for verb, prefix in self.url_prefixes)
        resource = attributes.resource
        sub = attributes.subresource
        resources = (f"{resource}/{sub}", _ALL, f"*/{sub}") if sub else (resource, _ALL)
        groups = (attributes.api_group, _ALL)
        name = attributes.name
        lookup = self.resources.get
        for verb in verbs:
            for group in groups:
                for candidate in resources:
                    key = (verb, group, candidate)
                    if key not in self.resources:
                        continue
                    names = lookup(key)
                    if names is _ALL_NAMES or (name and name in names):
                        return True
        return False


class RBACAuthorizer:
    """See the module docstring. `objects(plural)` gives the current objects of an RBAC resource."""

    def __init__(self, objects: Callable[[str], Iterable[dict]]):
        self.objects = objects
        self.stale = True
        self._cluster: dict[str, list[dict]] = {}
        self._namespaced: dict[str, dict[str, list[dict]]] = {}
        self._compiled: dict[tuple, CompiledRules] = {}
        self._decisions: dict[tuple, bool] = {}

    def invalidate(self) -> None:
        self.stale = True

    # -- the index ---------------------------------------------------------------

    def _rebuild(self) -> None:
        self.stale = False
        roles = {(r["metadata"].get("namespace"), r["metadata"]["name"]): r.get("rules") or []
                 for r in self.objects("roles")}
        cluster_roles = {r["metadata"]["name"]: r.get("rules") or [] for r in self.objects("clusterroles")}
        cluster: dict[str, list[dict]] = {}
        namespaced: dict[str, dict[str, list[dict]]] = {}
        for binding in self.objects("clusterrolebindings"):
            rules = cluster_roles.get((binding.get("roleRef") or {}).get("name"), [])
            for subject in binding.get("subjects") or []:
                key = subject_key(subject, None)
                if key:
                    cluster.setdefault(key, []).extend(rules)
        for binding in self.objects("rolebindings"):
            namespace = binding["metadata"].get("namespace")
            role_ref = binding.get("roleRef") or {}
            if role_ref.get("kind") == "ClusterRole":
                rules = cluster_roles.get(role_ref.get("name"), [])
            else:
                rules = roles.get((namespace, role_ref.get("name")), [])
            for subject in binding.get("subjects") or []:
                key = subject_key(subject, namespace)
                if key:
                    namespaced.setdefault(key, {}).setdefault(namespace, []).extend(rules)
        self._cluster, self._namespaced = cluster, namespaced
        self._compiled = {}
        self._decisions = {}

    def rules_for(self, user: UserInfo, namespace: str | None) -> list[dict]:
        """Every rule `user` holds cluster-wide, plus those of `namespace` (Kubernetes' RulesFor)."""
        if self.stale:
            self._rebuild()
        rules: list[dict] = []
        for key in user_keys(user):
            rules.extend(self._cluster.get(key, ()))
            if namespace:
                rules.extend(self._namespaced.get(key, {}).get(namespace, ()))
        return rules

    def role_rules(self, kind: str | None, namespace: str, name: str) -> list[dict] | None:
        """The rules of the Role `namespace/name` or the ClusterRole `name`; None if it does not exist."""
        plural = "roles" if kind == "Role" else "clusterroles"
        for role in self.objects(plural):
            metadata = role["metadata"]
            if metadata["name"] == name and (plural == "clusterroles" or metadata.get("namespace") == namespace):
                return role.get("rules") or []
        return None

    def _compiled_for(self, user: UserInfo, namespace: str) -> CompiledRules:
        key = (user.name, user.groups, namespace)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledRules()
            for rule in self.rules_for(user, namespace or None):
                compiled.add(rule)
            self._compiled[key] = compiled
        return compiled

    # -- decisions ---------------------------------------------------------------

    def allowed(self, user: UserInfo, attributes: Attributes) -> bool:
        if MASTERS_GROUP in user.groups:
            return True
        if self.stale:
            self._rebuild()
        key = (user.name, user.groups, attributes)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._compiled_for(user, attributes.namespace).allows(attributes)
            if len(self._decisions) >= _DECISION_CACHE_LIMIT:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def authorize(self, user: UserInfo, attributes: Attributes) -> None:
        """Raise Kubernetes' 403 Forbidden when `user` may not do `attributes`."""
        if not self.allowed(user, attributes):
            raise forbidden(user, attributes)


def forbidden_reason(user: UserInfo, attributes: Attributes) -> str:
    """Kubernetes' forbiddenMessage (staging/.../endpoints/handlers/responsewriters/errors.go)."""
    if not attributes.resource_request:
        return f'User "{user.name}" cannot {attributes.verb} path "{attributes.path}"'
    resource = attributes.resource
    if attributes.subresource:
        resource = f"{resource}/{attributes.subresource}"
    if attributes.namespace:
        return (f'User "{user.name}" cannot {attributes.verb} resource "{resource}" in API group '
                f'"{attributes.api_group}" in the namespace "{attributes.namespace}"')
    return (f'User "{user.name}" cannot {attributes.verb} resource "{resource}" in API group '
            f'"{attributes.api_group}" at the cluster scope')


def forbidden(user: UserInfo, attributes: Attributes, reason: str = "") -> errors.Forbidden:
    """apierrors.NewForbidden(groupResource, name, forbiddenMessage): `pods "x" is forbidden: User ...`."""
    message = forbidden_reason(user, attributes)
    if reason:
        message = f"{message}: {reason}"
    if not attributes.resource_request:
        return errors.Forbidden(f"forbidden: {message}", details={})
    qualified = f"{attributes.resource}.{attributes.api_group}" if attributes.api_group else attributes.resource
    details: dict = {}
    if attributes.name:
        details["name"] = attributes.name
        text = f'{qualified} "{attributes.name}" is forbidden: {message}'
    else:
        text = f"{qualified} is forbidden: {message}"
    if attributes.api_group:
        details["group"] = attributes.api_group
    details["kind"] = attributes.resource
    return errors.Forbidden(text, details=details)
