"""Pure RBAC logic: request attributes, rule matching, forbidden messages, escalation, aggregation."""

from __future__ import annotations

import pytest

from orchestrator.apiserver.auth import UserInfo
from orchestrator.apiserver.rbac.attributes import Attributes, request_attributes
from orchestrator.apiserver.rbac.authorizer import RBACAuthorizer, forbidden
from orchestrator.apiserver.rbac.escalation import compact
from orchestrator.apiserver.rbac.policy import aggregate_cluster_roles, default_cluster_roles, reconciled


@pytest.mark.parametrize(("method", "path", "query", "expected"), [
    pytest.param("GET", "/api/v1/namespaces/default/pods", "", ("list", "", "pods", "", "", "default"), id="list"),
    pytest.param("GET", "/api/v1/namespaces/default/pods", "watch=1", ("watch", "", "pods", "", "", "default"),
                 id="watch"),
    pytest.param("GET", "/api/v1/pods", "fieldSelector=metadata.name%3Dx", ("list", "", "pods", "", "x", ""),
                 id="list-one-name"),
    pytest.param("GET", "/api/v1/namespaces/ns/pods/p/log", "", ("get", "", "pods", "log", "p", "ns"), id="log"),
    pytest.param("GET", "/api/v1/namespaces/ns/pods/p/exec", "", ("create", "", "pods", "exec", "p", "ns"),
                 id="exec-upgrade-is-create"),
    pytest.param("DELETE", "/apis/apps/v1/namespaces/ns/deployments", "",
                 ("deletecollection", "apps", "deployments", "", "", "ns"), id="deletecollection"),
    pytest.param("GET", "/api/v1/namespaces/ns", "", ("get", "", "namespaces", "", "ns", "ns"), id="namespace"),
    pytest.param("PUT", "/api/v1/namespaces/ns/finalize", "", ("update", "", "namespaces", "finalize", "ns", "ns"),
                 id="finalize"),
    pytest.param("PATCH", "/api/v1/nodes/n1/status", "", ("patch", "", "nodes", "status", "n1", ""), id="status"),
])
def test_resource_attributes(method, path, query, expected):
    attributes = request_attributes(method, path, query)
    assert attributes.resource_request
    assert (attributes.verb, attributes.api_group, attributes.resource, attributes.subresource, attributes.name,
            attributes.namespace) == expected


@pytest.mark.parametrize("path", ["/healthz", "/version", "/api", "/apis", "/apis/apps/v1", "/openapi/v3"])
def test_non_resource_paths(path):
    assert not request_attributes("GET", path).resource_request


def _authorizer(roles=(), cluster_roles=(), bindings=(), cluster_bindings=()):
    # The lists themselves, not copies: a test changes them to see the index follow.
    objects = {"roles": roles, "clusterroles": cluster_roles, "rolebindings": bindings,
               "clusterrolebindings": cluster_bindings}
    return RBACAuthorizer(lambda plural: objects[plural])


def _role(name, rules, namespace=None):
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": metadata, "rules": rules}


def _binding(name, role_kind, role, subjects, namespace=None):
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": metadata, "roleRef": {"kind": role_kind, "name": role}, "subjects": subjects}


LOOKOUT = UserInfo("system:serviceaccount:crew:lookout", groups=("system:serviceaccounts", "system:authenticated"))
SA = {"kind": "ServiceAccount", "name": "lookout", "namespace": "crew"}


def _request(verb, resource, *, namespace="crew", name="", sub="", group=""):
    return Attributes(verb=verb, path="", resource_request=True, api_group=group, resource=resource,
                      subresource=sub, namespace=namespace, name=name)


def test_role_binding_grants_in_its_namespace_only():
    authorizer = _authorizer(
        roles=[_role("reader", [{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods"]}], "crew")],
        bindings=[_binding("b", "Role", "reader", [SA], "crew")])
    assert authorizer.allowed(LOOKOUT, _request("list", "pods"))
    assert not authorizer.allowed(LOOKOUT, _request("list", "pods", namespace="default"))
    assert not authorizer.allowed(LOOKOUT, _request("delete", "pods", name="p"))
    assert not authorizer.allowed(LOOKOUT, _request("get", "pods", name="p", sub="log"))


def test_wildcards_subresources_names_and_urls():
    rules = [{"verbs": ["*"], "apiGroups": ["apps"], "resources": ["*/scale"]},
             {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["one"]},
             {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}]
    authorizer = _authorizer(cluster_roles=[_role("r", rules)],
                             cluster_bindings=[_binding("b", "ClusterRole", "r", [{"kind": "Group",
                                                                                   "name": "system:serviceaccounts"}])])
    assert authorizer.allowed(LOOKOUT, _request("update", "deployments", name="d", sub="scale", group="apps"))
    assert not authorizer.allowed(LOOKOUT, _request("update", "deployments", name="d", group="apps"))
    assert authorizer.allowed(LOOKOUT, _request("get", "configmaps", name="one"))
    assert not authorizer.allowed(LOOKOUT, _request("get", "configmaps", name="two"))
    assert not authorizer.allowed(LOOKOUT, _request("list", "configmaps"))
    assert authorizer.allowed(LOOKOUT, Attributes(verb="get", path="/apis/apps/v1"))
    assert not authorizer.allowed(LOOKOUT, Attributes(verb="get", path="/metrics"))


def test_index_is_rebuilt_after_invalidation():
    cluster_bindings = [_binding("b", "ClusterRole", "r", [SA])]
    authorizer = _authorizer(cluster_roles=[_role("r", [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}])],
                             cluster_bindings=cluster_bindings)
    assert authorizer.allowed(LOOKOUT, _request("get", "pods", name="p"))
    cluster_bindings.clear()
    authorizer.invalidate()
    assert not authorizer.allowed(LOOKOUT, _request("get", "pods", name="p"))


def test_masters_are_always_allowed():
    assert _authorizer().allowed(UserInfo("admin", groups=("system:masters",)), _request("delete", "nodes"))


@pytest.mark.parametrize(("attributes", "message", "details"), [
    pytest.param(_request("list", "pods", namespace="default"),
                 'pods is forbidden: User "system:serviceaccount:crew:lookout" cannot list resource "pods" in API '
                 'group "" in the namespace "default"', {"kind": "pods"}, id="namespaced"),
    pytest.param(_request("get", "deployments", namespace="", name="d", group="apps"),
                 'deployments.apps "d" is forbidden: User "system:serviceaccount:crew:lookout" cannot get resource '
                 '"deployments" in API group "apps" at the cluster scope',
                 {"name": "d", "group": "apps", "kind": "deployments"}, id="cluster"),
    pytest.param(_request("get", "pods", name="p", sub="log"),
                 'pods "p" is forbidden: User "system:serviceaccount:crew:lookout" cannot get resource "pods/log" in '
                 'API group "" in the namespace "crew"', {"name": "p", "kind": "pods"}, id="subresource"),
    pytest.param(Attributes(verb="get", path="/metrics"),
                 'forbidden: User "system:serviceaccount:crew:lookout" cannot get path "/metrics"', None,
                 id="non-resource"),
])
def test_forbidden_messages(attributes, message, details):
    error = forbidden(LOOKOUT, attributes)
    assert error.message == message
    assert error.to_status()["reason"] == "Forbidden"
    assert error.to_status().get("details") == details


def test_compact_rule_string():
    assert compact({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}) == \
        '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}'


def test_aggregation_follows_labels():
    roles = [
        {"metadata": {"name": "view"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"v": "true"}}]}},
        {"metadata": {"name": "a", "labels": {"v": "true"}}, "rules": [{"verbs": ["get"]}]},
        {"metadata": {"name": "b", "labels": {"v": "true"}}, "rules": [{"verbs": ["get"]}, {"verbs": ["list"]}]},
    ]
    assert aggregate_cluster_roles(roles) == {"view": [{"verbs": ["get"]}, {"verbs": ["list"]}]}
    roles[0]["rules"] = [{"verbs": ["get"]}, {"verbs": ["list"]}]
    assert aggregate_cluster_roles(roles) == {}


def test_reconcile_is_additive_and_respects_autoupdate_false():
    wanted = next(role for role in default_cluster_roles() if role["metadata"]["name"] == "system:kube-scheduler")
    current = {"metadata": {"name": "system:kube-scheduler", "annotations": {}}, "rules": [{"verbs": ["custom"]}]}
    merged = reconciled(current, wanted)
    assert merged["rules"][0] == {"verbs": ["custom"]} and len(merged["rules"]) == 1 + len(wanted["rules"])
    assert reconciled(merged, wanted) is None
    kept = {"metadata": {"name": "x", "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}}}
    assert reconciled(kept, wanted) is None
