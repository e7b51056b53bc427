"""The rbac.authorization.k8s.io/v1 kinds: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

A Role (namespaced) or ClusterRole lists PolicyRules (verbs on apiGroups/resources/resourceNames,
or on nonResourceURLs); a binding grants one role to subjects (users, groups, service accounts).
A ClusterRole with an `aggregationRule` has its `rules` filled by the apiserver from the
ClusterRoles its selectors match (orchestrator/apiserver/rbac/aggregation.py).

Used by: the apiserver (validation, OpenAPI, the RBAC authorizer), `orc` and the bootstrap policy.
"""

from __future__ import annotations

from pydantic import Field, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import LabelSelector, ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.rbac.v1"


class PolicyRule(K8sModel):
    """Verbs allowed on resources (of API groups, optionally only some names) or on non-resource URLs."""

    verbs: list[StrictStr] | None = None
    api_groups: list[StrictStr] | None = None
    resources: list[StrictStr] | None = None
    resource_names: list[StrictStr] | None = None
    non_resource_urls: list[StrictStr] | None = Field(None, alias="nonResourceURLs")


class AggregationRule(K8sModel):
    """ClusterRoles whose labels match any selector contribute their rules."""

    cluster_role_selectors: list[LabelSelector] | None = None


class Role(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    rules: list[PolicyRule] | None = None


class ClusterRole(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    rules: list[PolicyRule] | None = None
    aggregation_rule: AggregationRule | None = None


class Subject(K8sModel):
    """A user, group or service account a binding grants its role to."""

    kind: StrictStr
    api_group: StrictStr | None = None
    name: StrictStr
    namespace: StrictStr | None = None


class RoleRef(K8sModel):
    api_group: StrictStr
    kind: StrictStr
    name: StrictStr


class RoleBinding(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None


class ClusterRoleBinding(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None


MODELS: dict[str, type[K8sModel]] = {
    "Role": Role,
    "ClusterRole": ClusterRole,
    "RoleBinding": RoleBinding,
    "ClusterRoleBinding": ClusterRoleBinding,
}
