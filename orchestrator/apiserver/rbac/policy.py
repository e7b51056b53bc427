"""The default RBAC policy: ClusterRoles and ClusterRoleBindings every cluster starts with.

As kube-apiserver's bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) and its
`rbac/bootstrap-roles` post-start hook: `reconcile_bootstrap_policy` creates what is missing at
every apiserver start and adds missing rules/subjects to objects annotated
`rbac.authorization.kubernetes.io/autoupdate: "true"` (a user who set it to "false" keeps theirs).
Two apiservers doing it at once are safe: writes are compare-and-swap and the result is the same.

Extending: each role is one table below (`ROLE_RULES`); a new kind served by the apiserver adds a
row to VIEW/EDIT/ADMIN and, if a controller of ours writes it, to CONTROLLER_MANAGER (one entry per
controller, named after it). Rows are (verbs, apiGroups, resources[, resourceNames]).

`aggregate_cluster_roles` is the clusterrole-aggregation controller: the rules of a ClusterRole
with an `aggregationRule` are the union of the rules of the ClusterRoles its selectors match.

Used by app.py (start-up, and the aggregation task) through rbac/service.py.
"""

from __future__ import annotations

import copy

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
RBAC_GROUP = "rbac.authorization.k8s.io"

Row = tuple  # (verbs, apiGroups, resources) or (verbs, apiGroups, resources, resourceNames)


def rule(verbs, groups, resources, names=()) -> dict:
    result = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        result["resourceNames"] = list(names)
    return result


def url_rule(verbs, urls) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


EVENTS = [(("create", "patch", "update"), ("", "events.k8s.io"), ("events",))]
REVIEWS = [(("create",), ("authentication.k8s.io",), ("tokenreviews",)),
           (("create",), ("authorization.k8s.io",), ("subjectaccessreviews",))]

# --- the user-facing roles (aggregated into admin/edit/view, as Kubernetes does) -------------------

VIEW = [
    (READ, ("",), ("pods", "pods/log", "pods/status", "replicationcontrollers", "replicationcontrollers/scale",
                   "replicationcontrollers/status", "services", "services/status", "endpoints",
                   "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps", "serviceaccounts",
                   "limitranges", "resourcequotas", "resourcequotas/status", "bindings", "events", "namespaces",
                   "namespaces/status")),
    (READ, ("apps",), ("controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                       "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
                       "replicasets", "replicasets/status", "replicasets/scale")),
    (READ, ("autoscaling",), ("horizontalpodautoscalers", "horizontalpodautoscalers/status")),
    (READ, ("batch",), ("cronjobs", "cronjobs/status", "jobs", "jobs/status")),
    (READ, ("policy",), ("poddisruptionbudgets", "poddisruptionbudgets/status")),
    (READ, ("networking.k8s.io",), ("ingresses", "ingresses/status", "networkpolicies")),
    (READ, ("discovery.k8s.io",), ("endpointslices",)),
    (("get", "list"), ("metrics.k8s.io",), ("pods", "nodes")),  # system:aggregated-metrics-reader
]
EDIT = [
    (READ, ("",), ("pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy")),
    (("impersonate",), ("",), ("serviceaccounts",)),
    (WRITE, ("",), ("pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy")),
    (("create",), ("",), ("pods/eviction",)),
    (WRITE, ("",), ("configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                    "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy")),
    (("create",), ("",), ("serviceaccounts/token",)),
    (WRITE, ("apps",), ("daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                        "replicasets/scale", "statefulsets", "statefulsets/scale")),
    (WRITE, ("autoscaling",), ("horizontalpodautoscalers",)),
    (WRITE, ("batch",), ("cronjobs", "jobs")),
    (WRITE, ("networking.k8s.io",), ("ingresses", "networkpolicies")),
    (WRITE, ("policy",), ("poddisruptionbudgets",)),
    (WRITE + READ, ("coordination.k8s.io",), ("leases",)),
]
ADMIN = [
    (("create",), ("authorization.k8s.io",), ("localsubjectaccessreviews",)),
    (WRITE + READ, (RBAC_GROUP,), ("rolebindings", "roles")),
]

# --- the components --------------------------------------------------------------------------------

# One entry per controller of orchestrator/controllers (they all run as system:kube-controller-manager).
CONTROLLER_MANAGER: dict[str, list[Row]] = {
    "leader-election": [(("create",), ("coordination.k8s.io",), ("leases",)),
                        (("get", "update"), ("coordination.k8s.io",), ("leases",), ("kube-controller-manager",)),
                        *EVENTS, *REVIEWS],
    "replicaset": [(("get", "list", "watch", "update"), ("apps",), ("replicasets",)),
                   (("update",), ("apps",), ("replicasets/status", "replicasets/finalizers")),
                   (("list", "watch", "create", "delete", "patch"), ("",), ("pods",))],
    "deployment": [(("get", "list", "watch", "update"), ("apps",), ("deployments",)),
                   (("update",), ("apps",), ("deployments/status", "deployments/finalizers")),
                   (("get", "list", "watch", "create", "update", "patch", "delete"), ("apps",), ("replicasets",)),
                   (("get", "list", "watch", "update"), ("",), ("pods",))],
    "job": [(("get", "list", "watch", "update", "patch"), ("batch",), ("jobs",)),
            (("update",), ("batch",), ("jobs/status", "jobs/finalizers")),
            (("list", "watch", "create", "delete", "patch"), ("",), ("pods",))],
    "cronjob": [(("get", "list", "watch", "update"), ("batch",), ("cronjobs",)),
                (("get", "list", "watch", "create", "update", "delete", "patch"), ("batch",), ("jobs",)),
                (("update",), ("batch",), ("cronjobs/status", "cronjobs/finalizers")),
                (("list", "delete"), ("",), ("pods",))],
    "ttl-after-finished": [(("get", "list", "watch", "delete"), ("batch",), ("jobs",))],
    "daemonset": [(READ, ("apps",), ("daemonsets",)),
                  (("update",), ("apps",), ("daemonsets/status", "daemonsets/finalizers")),
                  (("list", "watch"), ("",), ("nodes",)),
                  (("list", "watch", "create", "delete", "patch"), ("",), ("pods",)),
                  (("create",), ("",), ("pods/binding",)),
                  (("get", "list", "watch", "create", "delete", "update", "patch"), ("apps",), ("controllerrevisions",))],
    "endpoints": [(READ, ("",), ("services", "pods")),
                  (("get", "list", "watch", "create", "update", "delete"), ("",), ("endpoints",)),
                  (("create",), ("",), ("endpoints/restricted",))],
    "endpointslice-mirroring": [(READ, ("",), ("services", "endpoints")),
                                (("get", "list", "watch", "create", "update", "delete"), ("discovery.k8s.io",),
                                 ("endpointslices",))],
    "node-lifecycle": [(("get", "list", "watch", "delete", "patch", "update"), ("",), ("nodes",)),
                       (("patch", "update"), ("",), ("nodes/status",)),
                       (("list", "watch", "delete"), ("",), ("pods",)),
                       (("patch", "update"), ("",), ("pods/status",))],
    "garbage-collector": [(("get", "list", "watch", "patch", "update", "delete"), ("*",), ("*",))],
    "namespace": [(("get", "list", "watch", "delete"), ("",), ("namespaces",)),
                  (("update",), ("",), ("namespaces/finalize", "namespaces/status")),
                  (("get", "list", "delete", "deletecollection"), ("*",), ("*",))],
    "serviceaccount": [(("create",), ("",), ("serviceaccounts",))],
    "persistent-volume-binder": [(("get", "list", "watch", "update", "create", "delete", "patch"), ("",),
                                  ("persistentvolumes", "persistentvolumeclaims")),
                                 (("update", "patch"), ("",), ("persistentvolumes/status",
                                                               "persistentvolumeclaims/status")),
                                 (READ, ("storage.k8s.io",), ("storageclasses",)),
                                 (READ, ("",), ("pods", "nodes"))],
    "horizontal-pod-autoscaler": [(READ, ("autoscaling",), ("horizontalpodautoscalers",)),
                                  (("update",), ("autoscaling",), ("horizontalpodautoscalers/status",)),
                                  (("get", "update"), ("apps",), ("deployments/scale", "replicasets/scale",
                                                                  "statefulsets/scale")),
                                  (("get", "update"), ("",), ("replicationcontrollers/scale",)),
                                  (("list",), ("",), ("pods",)),
                                  (("get", "list"), ("metrics.k8s.io",), ("pods",))],
}

SCHEDULER: list[Row] = [
    *EVENTS, *REVIEWS,
    (("create",), ("coordination.k8s.io",), ("leases",)),
    (("get", "update"), ("coordination.k8s.io",), ("leases",), ("kube-scheduler",)),
    (READ, ("",), ("nodes", "namespaces", "services", "replicationcontrollers", "persistentvolumeclaims",
                   "persistentvolumes")),
    (("patch", "update"), ("",), ("persistentvolumeclaims",)),  # the selected-node annotation (VolumeBinding)
    (("get", "list", "watch", "delete"), ("",), ("pods",)),
    (("create",), ("",), ("bindings", "pods/binding")),
    (("patch", "update"), ("",), ("pods/status",)),
    (READ, ("apps",), ("replicasets", "statefulsets")),
    (READ, ("policy",), ("poddisruptionbudgets",)),
    (READ, ("storage.k8s.io",), ("csinodes", "csidrivers", "csistoragecapacities", "storageclasses")),
]

# What a kubelet needs (Kubernetes' system:node; the node restriction narrows it per node).
NODE: list[Row] = [
    *REVIEWS,
    (("create",), ("authorization.k8s.io",), ("localsubjectaccessreviews",)),
    (READ, ("",), ("services", "endpoints")),
    (("create", "get", "list", "watch", "patch", "update", "delete"), ("",), ("nodes",)),
    (("patch", "update"), ("",), ("nodes/status",)),
    *EVENTS,
    (READ, ("",), ("pods",)),
    (("create", "delete"), ("",), ("pods",)),
    (("patch", "update"), ("",), ("pods/status",)),
    (("create",), ("",), ("pods/eviction",)),
    (READ, ("",), ("secrets", "configmaps")),
    (("get",), ("",), ("persistentvolumeclaims", "persistentvolumes")),
    (("update", "patch"), ("",), ("persistentvolumeclaims/status",)),
    # The local-path volumes' directories are the kubelet's: it watches the volumes of its node and
    # removes a deleted one's directory, then its finalizer (orchestrator/kubelet/localpath.py).
    (("list", "watch", "update", "patch"), ("",), ("persistentvolumes",)),
    (("get", "create", "update", "patch", "delete"), ("coordination.k8s.io",), ("leases",)),
    (READ, ("storage.k8s.io",), ("csidrivers",)),
    (READ, ("node.k8s.io",), ("runtimeclasses",)),
    (("create",), ("",), ("serviceaccounts/token",)),
]

NODE_PROXIER: list[Row] = [
    (("list", "watch"), ("",), ("services", "endpoints")),
    (("get", "list", "watch"), ("",), ("nodes",)),
    (("list", "watch"), ("discovery.k8s.io",), ("endpointslices",)),
    # Our proxy also plays the LoadBalancer provider (orchestrator/proxy/loadbalancer.py).
    (("patch", "update"), ("",), ("services/status",)),
    *EVENTS,
]

# orc ingress-controller (orchestrator/ingress/), as ingress-nginx's own ClusterRole.
INGRESS_CONTROLLER: list[Row] = [
    (("get", "list", "watch"), ("networking.k8s.io",), ("ingresses", "ingressclasses")),
    (("update", "patch"), ("networking.k8s.io",), ("ingresses/status",)),
    (("get", "list", "watch"), ("",), ("services", "endpoints", "secrets")),
    (("get", "list", "watch"), ("discovery.k8s.io",), ("endpointslices",)),
    *EVENTS,
]


def _rules(rows: list[Row]) -> list[dict]:
    return [rule(*row) for row in rows]


def _controller_manager_rules() -> list[dict]:
    return [rule(*row) for rows in CONTROLLER_MANAGER.values() for row in rows]


PUBLIC_INFO_URLS = ("/healthz", "/livez", "/readyz", "/version", "/version/")
DISCOVERY_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
                  "/version", "/version/")


def default_cluster_roles() -> list[dict]:
    """The default ClusterRoles, as objects ready to store."""
    roles = [
        ("cluster-admin", {"rules": [rule(("*",), ("*",), ("*",)), url_rule(("*",), ("*",))]}, {}),
        ("admin", {"aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]}}, {}),
        ("edit", {"aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]}},
         {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}),
        ("view", {"aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}},
         {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
        ("system:aggregate-to-admin", {"rules": _rules(ADMIN)}, {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}),
        ("system:aggregate-to-edit", {"rules": _rules(EDIT)}, {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
        ("system:aggregate-to-view", {"rules": _rules(VIEW)}, {"rbac.authorization.k8s.io/aggregate-to-view": "true"}),
        ("system:basic-user", {"rules": [
            rule(("create",), ("authorization.k8s.io",), ("selfsubjectaccessreviews", "selfsubjectrulesreviews")),
            rule(("create",), ("authentication.k8s.io",), ("selfsubjectreviews",))]}, {}),
        ("system:discovery", {"rules": [url_rule(("get",), DISCOVERY_URLS)]}, {}),
        ("system:public-info-viewer", {"rules": [url_rule(("get",), PUBLIC_INFO_URLS)]}, {}),
        ("system:monitoring", {"rules": [url_rule(("get",), ("/healthz", "/healthz/*", "/livez", "/livez/*",
                                                            "/readyz", "/readyz/*", "/metrics", "/metrics/slis"))]}, {}),
        ("system:auth-delegator", {"rules": _rules(REVIEWS)}, {}),
        ("system:service-account-issuer-discovery", {"rules": [
            url_rule(("get",), ("/.well-known/openid-configuration", "/.well-known/openid-configuration/",
                                "/openid/v1/jwks", "/openid/v1/jwks/"))]}, {}),
        ("system:kube-scheduler", {"rules": _rules(SCHEDULER)}, {}),
        ("system:kube-controller-manager", {"rules": _controller_manager_rules()}, {}),
        ("system:node", {"rules": _rules(NODE)}, {}),
        ("system:node-proxier", {"rules": _rules(NODE_PROXIER)}, {}),
        ("system:ingress-controller", {"rules": _rules(INGRESS_CONTROLLER)}, {}),
        ("system:kube-dns", {"rules": [rule(("list", "watch"), ("",), ("endpoints", "services")),
                                       rule(("list", "watch"), ("discovery.k8s.io",), ("endpointslices",))]}, {}),
        ("system:kubelet-api-admin", {"rules": [
            rule(("get", "list", "watch"), ("",), ("nodes",)), rule(("proxy",), ("",), ("nodes",)),
            rule(("*",), ("",), ("nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"))]}, {}),
    ]
    objects = []
    for name, body, labels in roles:
        objects.append({"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole",
                        "metadata": {"name": name, "labels": {**BOOTSTRAP_LABEL, **labels},
                                     "annotations": {AUTOUPDATE: "true"}}, **body})
    return objects


def _user(name: str) -> dict:
    return {"kind": "User", "apiGroup": RBAC_GROUP, "name": name}


def _group(name: str) -> dict:
    return {"kind": "Group", "apiGroup": RBAC_GROUP, "name": name}


def default_cluster_role_bindings() -> list[dict]:
    bindings = [
        ("cluster-admin", "cluster-admin", [_group("system:masters")]),
        ("system:basic-user", "system:basic-user", [_group("system:authenticated")]),
        ("system:discovery", "system:discovery", [_group("system:authenticated")]),
        ("system:public-info-viewer", "system:public-info-viewer",
         [_group("system:authenticated"), _group("system:unauthenticated")]),
        ("system:monitoring", "system:monitoring", [_group("system:monitoring")]),
        ("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
         [_group("system:serviceaccounts")]),
        ("system:kube-scheduler", "system:kube-scheduler", [_user("system:kube-scheduler")]),
        ("system:kube-controller-manager", "system:kube-controller-manager", [_user("system:kube-controller-manager")]),
        # Kubernetes leaves system:node unbound (the Node authorizer decides for system:node:NAME users);
        # here the kubelets of orc up / compose share the `system:kubelet` identity, and per-node users
        # (system:node:NAME in system:nodes) are narrowed to their own node by noderestriction.py.
        ("system:node", "system:node", [_user("system:kubelet"), _group("system:nodes")]),
        ("system:node-proxier", "system:node-proxier", [_user("system:kube-proxy")]),
        ("system:ingress-controller", "system:ingress-controller", [_user("system:ingress-controller")]),
        ("system:kube-dns", "system:kube-dns",
         [{"kind": "ServiceAccount", "apiGroup": "", "name": "kube-dns", "namespace": "kube-system"}]),
    ]
    return [{"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": name, "labels": dict(BOOTSTRAP_LABEL), "annotations": {AUTOUPDATE: "true"}},
             "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role}, "subjects": subjects}
            for name, role, subjects in bindings]


def _union(existing: list, wanted: list) -> list:
    merged = list(existing)
    for item in wanted:
        if item not in merged:
            merged.append(item)
    return merged


def reconciled(current: dict, wanted: dict) -> dict | None:
    """The stored object with what the default adds (labels, rules, subjects), or None if nothing to do.

    As Kubernetes' reconcile: additive only, and skipped when autoupdate is "false"."""
    if ((current.get("metadata") or {}).get("annotations") or {}).get(AUTOUPDATE) == "false":
        return None
    new = copy.deepcopy(current)
    metadata = new.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **wanted["metadata"]["labels"]}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **wanted["metadata"]["annotations"]}
    if "aggregationRule" in wanted:
        new["aggregationRule"] = wanted["aggregationRule"]
    elif "rules" in wanted:
        new["rules"] = _union(new.get("rules") or [], wanted["rules"])
    if "subjects" in wanted:
        new["subjects"] = _union(new.get("subjects") or [], wanted["subjects"])
    return None if new == current else new


# --- aggregation -----------------------------------------------------------------------------------


def _selector_matches(selector: dict, labels: dict) -> bool:
    from orchestrator.apiserver.strategies.meta import selector_matches

    return selector_matches(selector, labels)


def aggregate_cluster_roles(cluster_roles: list[dict]) -> dict[str, list[dict]]:
    """name -> the rules an aggregated ClusterRole should hold, for those whose stored rules differ.

    Rules come from every other ClusterRole matching any selector, sorted by name (as the
    clusterrole-aggregation controller), duplicates dropped."""
    by_name = sorted(cluster_roles, key=lambda role: role["metadata"]["name"])
    changes: dict[str, list[dict]] = {}
    for role in by_name:
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if not selectors:
            continue
        rules: list[dict] = []
        for other in by_name:
            if other is role:
                continue
            labels = other["metadata"].get("labels") or {}
            if any(_selector_matches(selector, labels) for selector in selectors):
                for item in other.get("rules") or []:
                    if item not in rules:
                        rules.append(item)
        if rules != (role.get("rules") or []):
            changes[role["metadata"]["name"]] = rules
    return changes
