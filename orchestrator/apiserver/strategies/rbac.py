"""Strategies for rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding.

Mirrors pkg/apis/rbac/validation (names are path segments, rules need verbs and either
resources or non-resource URLs, a binding's roleRef is immutable and names an RBAC role,
subjects are ServiceAccount/User/Group) and rbac/v1 defaulting (User and Group subjects get
the rbac API group). Escalation checks are not validation: they need the requesting user and
live in orchestrator/apiserver/rbac/escalation.py.

Used by: orchestrator/apiserver/strategies/__init__.py (STRATEGIES).
"""

from __future__ import annotations

from orchestrator.api.errors import FieldError, invalid, not_supported, required
from orchestrator.api.names import name_is_dns_subdomain
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import validate_label_selector

RBAC_GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ["ServiceAccount", "User", "Group"]


def path_segment_name(name: str, prefix: bool = False) -> list[str]:
    """Kubernetes' path.IsValidPathSegmentName: RBAC names may hold ':' (system:node) but no '/' or '%'."""
    if not prefix and name in (".", ".."):
        return [f'may not be \'{name}\'']
    return [f"may not contain '{character}'" for character in ("/", "%") if character in name]


def validate_rules(rules: list | None, *, namespaced: bool, field: str = "rules") -> list[FieldError]:
    errors: list[FieldError] = []
    for index, rule in enumerate(rules or []):
        path = f"{field}[{index}]"
        if not rule.get("verbs"):
            errors.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        non_resource_urls = rule.get("nonResourceURLs") or []
        if non_resource_urls:
            if namespaced:
                errors.append(invalid(f"{path}.nonResourceURLs", non_resource_urls,
                                      "namespaced rules cannot apply to non-resource URLs"))
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                errors.append(invalid(f"{path}.nonResourceURLs", non_resource_urls,
                                      "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not rule.get("apiGroups"):
            errors.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            errors.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errors


class _RBACStrategy(Strategy):
    validate_name = staticmethod(path_segment_name)


class RoleStrategy(_RBACStrategy):
    kind = "Role"

    def validate(self, role: dict) -> list[FieldError]:
        return self.validate_metadata(role) + validate_rules(role.get("rules"), namespaced=True)


class ClusterRoleStrategy(_RBACStrategy):
    kind = "ClusterRole"
    namespaced = False

    def validate(self, role: dict) -> list[FieldError]:
        errors = self.validate_metadata(role) + validate_rules(role.get("rules"), namespaced=False)
        aggregation = role.get("aggregationRule")
        if aggregation is not None:
            selectors = aggregation.get("clusterRoleSelectors") or []
            if not selectors:
                errors.append(required("aggregationRule.clusterRoleSelectors",
                                       "at least one clusterRoleSelector required if aggregationRule is non-nil"))
            for index, selector in enumerate(selectors):
                errors.extend(validate_label_selector(selector, f"aggregationRule.clusterRoleSelectors[{index}]"))
        return errors


def default_subjects(binding: dict) -> None:
    for subject in binding.get("subjects") or []:
        if subject.get("kind") in ("User", "Group") and not subject.get("apiGroup"):
            subject["apiGroup"] = RBAC_GROUP
        if subject.get("kind") == "ServiceAccount" and subject.get("apiGroup") == "":
            # Go's `apiGroup,omitempty`: the default "" is never written, so re-applying is `unchanged`.
            del subject["apiGroup"]


def validate_subjects(subjects: list | None, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, subject in enumerate(subjects or []):
        path = f"subjects[{index}]"
        name = subject.get("name") or ""
        kind = subject.get("kind")
        api_group = subject.get("apiGroup") or ""
        if not name:
            errors.append(required(f"{path}.name"))
        if kind == "ServiceAccount":
            if name:
                errors.extend(invalid(f"{path}.name", name, message) for message in name_is_dns_subdomain(name, False))
            if api_group:
                errors.append(not_supported(f"{path}.apiGroup", api_group, [""]))
            if not namespaced and not subject.get("namespace"):
                errors.append(required(f"{path}.namespace"))
        elif kind in ("User", "Group"):
            if api_group != RBAC_GROUP:
                errors.append(not_supported(f"{path}.apiGroup", api_group, [RBAC_GROUP]))
        else:
            errors.append(not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return errors


class _BindingStrategy(_RBACStrategy):
    role_kinds: list[str] = []

    def default(self, binding: dict) -> None:
        default_subjects(binding)

    def validate(self, binding: dict) -> list[FieldError]:
        errors = self.validate_metadata(binding)
        role_ref = binding.get("roleRef") or {}
        if role_ref.get("apiGroup") != RBAC_GROUP:
            errors.append(not_supported("roleRef.apiGroup", role_ref.get("apiGroup") or "", [RBAC_GROUP]))
        if role_ref.get("kind") not in self.role_kinds:
            errors.append(not_supported("roleRef.kind", role_ref.get("kind") or "", self.role_kinds))
        if not role_ref.get("name"):
            errors.append(required("roleRef.name"))
        else:
            errors.extend(invalid("roleRef.name", role_ref["name"], message)
                          for message in path_segment_name(role_ref["name"]))
        errors.extend(validate_subjects(binding.get("subjects"), namespaced=self.namespaced))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        if new.get("roleRef") != old.get("roleRef"):
            errors.append(invalid("roleRef", new.get("roleRef"), "cannot change roleRef"))
        return errors + self.validate(new)


class RoleBindingStrategy(_BindingStrategy):
    kind = "RoleBinding"
    role_kinds = ["Role", "ClusterRole"]


class ClusterRoleBindingStrategy(_BindingStrategy):
    kind = "ClusterRoleBinding"
    namespaced = False
    role_kinds = ["ClusterRole"]


RBAC_STRATEGIES = (RoleStrategy(), ClusterRoleStrategy(), RoleBindingStrategy(), ClusterRoleBindingStrategy())
