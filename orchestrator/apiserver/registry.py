"""The resource registry: every kind the apiserver serves, in one table.

One `ResourceInfo` per resource drives everything generic: URL routing, discovery
(`/api/v1`, `/apis/apps/v1`), OpenAPI, validation (model + strategy), the etcd key
and table printing. Adding a kind means adding a row here, a model in
`orchestrator/api/` and, if it has rules, a strategy — never a new route.

Used by `rest.py`, `discovery.py` and `app.py`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property

from pydantic import BaseModel

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    model_module: str  # module in orchestrator.api holding the model named `kind`
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # PUT on a missing object creates it (Kubernetes' AllowCreateOnUpdate).
    create_on_update: bool = False
    # DELETE answers with the deleted object rather than a Status (ReturnDeletedObject).
    return_deleted_object: bool = False
    verbs: tuple[str, ...] = ALL_VERBS
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    api_version = group_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """`deployments.apps`, `pods`: how Kubernetes names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @cached_property
    def model(self) -> type[BaseModel] | None:
        if not self.model_module:
            return None  # a custom resource: its CRD's schema, not a model, describes it
        try:
            module = importlib.import_module(f"orchestrator.api.{self.model_module}")
        except ImportError:
            return None
        return getattr(module, "MODELS", {}).get(self.kind) or getattr(module, self.kind, None)

    @cached_property
    def strategy(self):
        from orchestrator.apiserver import strategies

        if self.extra.get("strategy") is not None:
            return self.extra["strategy"]  # a custom resource's own (customresources.py)
        if self.kind not in strategies.STRATEGIES and not self.namespaced:
            # A cluster-scoped kind without rules of its own (CustomResourceDefinition): no namespace.
            return strategies.DefaultStrategy(kind=self.kind, namespaced=False)
        default = getattr(strategies, "DEFAULT_STRATEGY", None) or strategies.Strategy()
        return strategies.STRATEGIES.get(self.kind) or default


def _core(kind, plural, singular, *, namespaced=True, model_module="core_v1", **kwargs) -> ResourceInfo:
    return ResourceInfo("", "v1", kind, plural, singular, namespaced, model_module, **kwargs)


RESOURCES: tuple[ResourceInfo, ...] = (
    _core("Namespace", "namespaces", "namespace", namespaced=False, short_names=("ns",), subresources=("status", "finalize")),
    _core("Pod", "pods", "pod", short_names=("po",), categories=("all",),
          subresources=("status", "binding", "log", "exec", "portforward"), return_deleted_object=True),
    _core("Service", "services", "service", short_names=("svc",), categories=("all",),
          subresources=("status", "proxy"), return_deleted_object=True),
    _core("Endpoints", "endpoints", "endpoints", short_names=("ep",), create_on_update=True),
    _core("Node", "nodes", "node", namespaced=False, short_names=("no",), subresources=("status", "proxy")),
    _core("ConfigMap", "configmaps", "configmap", short_names=("cm",)),
    _core("Secret", "secrets", "secret"),
    _core("ServiceAccount", "serviceaccounts", "serviceaccount", short_names=("sa",), subresources=("token",)),
    _core("Event", "events", "event", short_names=("ev",), create_on_update=True),
    _core("Binding", "bindings", "binding", verbs=("create",)),
    ResourceInfo("apps", "v1", "Deployment", "deployments", "deployment", True, "apps_v1",
                 short_names=("deploy",), categories=("all",), subresources=("status", "scale")),
    ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, "apps_v1",
                 short_names=("rs",), categories=("all",), subresources=("status", "scale")),
    ResourceInfo("apps", "v1", "DaemonSet", "daemonsets", "daemonset", True, "apps_v1",
                 short_names=("ds",), categories=("all",), subresources=("status",)),
    ResourceInfo("batch", "v1", "Job", "jobs", "job", True, "batch_v1", categories=("all",), subresources=("status",)),
    ResourceInfo("batch", "v1", "CronJob", "cronjobs", "cronjob", True, "batch_v1", short_names=("cj",),
                 categories=("all",), subresources=("status",)),
    ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", "lease", True, "coordination_v1",
                 create_on_update=True),
    ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True, "discovery_v1"),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", True, "rbac_v1"),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", False, "rbac_v1"),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", True, "rbac_v1"),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding",
                 False, "rbac_v1"),
    # Virtual (never stored) create-only resources, served by orchestrator/apiserver/rbac/reviews.py.
    ResourceInfo("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", False,
                 "reviews_unstored", verbs=("create",)),
    ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
                 "selfsubjectaccessreview", False, "reviews_unstored", verbs=("create",)),
    ResourceInfo("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "subjectaccessreview",
                 False, "reviews_unstored", verbs=("create",)),
    ResourceInfo("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews",
                 "localsubjectaccessreview", True, "reviews_unstored", verbs=("create",)),
    ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
                 "selfsubjectrulesreview", False, "reviews_unstored", verbs=("create",)),
    ResourceInfo("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
                 "customresourcedefinition", False, "", short_names=("crd", "crds"), subresources=("status",)),
    ResourceInfo("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", True, "networking_v1",
                 short_names=("ing",), subresources=("status",)),
    ResourceInfo("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", False, "networking_v1"),
    ResourceInfo("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", True, "networking_v1",
                 short_names=("netpol",)),
    ResourceInfo("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
                 "validatingwebhookconfigurations", "validatingwebhookconfiguration", False, "admissionregistration_v1"),
    ResourceInfo("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
                 "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", False, "admissionregistration_v1"),
    ResourceInfo("apiregistration.k8s.io", "v1", "APIService", "apiservices", "apiservice", False, "apiregistration_v1",
                 subresources=("status",)),
    ResourceInfo("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                 "horizontalpodautoscaler", True, "autoscaling_v2", short_names=("hpa",), categories=("all",),
                 subresources=("status",)),
    # Stored as autoscaling/v2; served converted by orchestrator/apiserver/hpa_v1.py (row for discovery and RBAC).
    ResourceInfo("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                 "horizontalpodautoscaler", True, "autoscaling_v1", short_names=("hpa",), categories=("all",),
                 subresources=("status",)),
    ResourceInfo("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", True,
                 "policy_v1", short_names=("pdb",), subresources=("status",)),
    ResourceInfo("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", False,
                 "scheduling_v1", short_names=("pc",)),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", short_names=("pvc",),
          subresources=("status",), model_module="core_v1_storage"),
    _core("PersistentVolume", "persistentvolumes", "persistentvolume", namespaced=False, short_names=("pv",),
          subresources=("status",), model_module="core_v1_storage"),
    ResourceInfo("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", False, "storage_v1",
                 short_names=("sc",)),
    # Read from the kubelets, never stored: served by orchestrator/apiserver/metrics.py (rows for discovery).
    ResourceInfo("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", "", False, "metrics_unstored",
                 verbs=("get", "list")),
    ResourceInfo("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", "", True, "metrics_unstored",
                 verbs=("get", "list")),
)

# Group versions in the order discovery lists them (Kubernetes puts preferred groups first).
GROUP_VERSIONS: tuple[str, ...] = ("v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
                                  "rbac.authorization.k8s.io/v1", "authentication.k8s.io/v1",
                                  "authorization.k8s.io/v1", "apiextensions.k8s.io/v1",
                                  "networking.k8s.io/v1", "admissionregistration.k8s.io/v1",
                                  "apiregistration.k8s.io/v1", "metrics.k8s.io/v1beta1", "autoscaling/v2",
                                  "autoscaling/v1", "policy/v1", "scheduling.k8s.io/v1",
                                  "storage.k8s.io/v1")


class Registry:
    """Look-ups over RESOURCES by URL coordinates and by kind.

    The built-in rows are fixed; custom resources are added and removed at run time
    (`replace_custom`, called by customresources.py when a CRD changes), so every look-up
    reads the current tables.
    """

    def __init__(self, resources: tuple[ResourceInfo, ...] = RESOURCES):
        self.builtin = tuple(resources)
        self.custom: dict[str, tuple[ResourceInfo, ...]] = {}  # CRD name -> its served versions
        self._index(self.builtin)

    def _index(self, resources: tuple[ResourceInfo, ...]) -> None:
        self.resources = resources
        self._by_path = {(r.group, r.version, r.plural): r for r in resources}
        self._by_kind = {(r.group, r.kind): r for r in resources}
        # The first row of a plural wins: metrics.k8s.io's `pods`/`nodes` never shadow the core ones.
        self._by_plural = {r.plural: r for r in reversed(resources)}

    def replace_custom(self, crd_name: str, infos: tuple[ResourceInfo, ...]) -> None:
        """Serve `infos` for the CRD `crd_name` (none: stop serving it)."""
        if infos:
            self.custom[crd_name] = tuple(infos)
        else:
            self.custom.pop(crd_name, None)
        self._index(self.builtin + tuple(info for group in self.custom.values() for info in group))

    def group_versions(self) -> list[str]:
        """GROUP_VERSIONS, then the custom resources' group-versions: by group, each group's versions by priority."""
        from orchestrator.apiserver.versionpriority import group_version_order

        extra = sorted({info.group_version for group in self.custom.values() for info in group} - set(GROUP_VERSIONS),
                       key=group_version_order)
        return [*GROUP_VERSIONS, *extra]

    def lookup(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceInfo | None:
        return self._by_kind.get((group, kind))

    def by_plural(self, plural: str) -> ResourceInfo | None:
        return self._by_plural.get(plural)

    def in_group_version(self, group_version: str) -> list[ResourceInfo]:
        return [r for r in self.resources if r.group_version == group_version]

    def stored(self) -> list[ResourceInfo]:
        """Resources that live in etcd (Binding is a verb on pods, not an object)."""
        return [r for r in self.resources if r.kind != "Binding"]


REGISTRY = Registry()
