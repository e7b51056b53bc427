"""Where each kind of object lives in the Kubernetes REST API.

A `Resource` names a resource (group, version, plural) and builds its URL paths,
e.g. `/api/v1/namespaces/ns/pods/web/status` or `/apis/apps/v1/deployments`.
Used by the ApiClient (`rest.py`), informers and every component that reads or
writes objects through the apiserver, and by the `orc` CLI — which is why it is a named tuple and
not a dataclass, and quotes URLs itself: importing dataclasses and urllib.parse, and building a
dataclass, cost the CLI's start-up about as much as a request to the apiserver.
"""

from __future__ import annotations

from collections import namedtuple

# RFC 3986's unreserved characters: what urllib.parse.quote(text, safe="") leaves as it is.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote_segment(text: str) -> str:
    """`text` percent-encoded for one path segment or query value, as urllib.parse.quote(text, safe="")."""
    if _UNRESERVED.issuperset(text):
        return text
    return "".join(chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8"))


class Resource(namedtuple("Resource", ("group", "version", "plural", "kind", "namespaced"))):
    """A resource: its group ("" for the core group served under /api), version, plural, kind, and
    whether its objects live in namespaces. Immutable, comparable and hashable."""

    __slots__ = ()

    @property
    def api_version(self) -> str:
        """The objects' `apiVersion`: `v1` or `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The URL path of the collection (no name) or of one object (and its subresource).

        A namespaced resource without a namespace gives the all-namespaces collection,
        which only lists and watches accept.
        """
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            root += f"/namespaces/{quote_segment(namespace)}"
        path = f"{root}/{self.plural}"
        if name is not None:
            path += f"/{quote_segment(name)}"
            if subresource:
                path += f"/{subresource}"
        return path


PODS = Resource("", "v1", "pods", "Pod", True)
NODES = Resource("", "v1", "nodes", "Node", False)
SERVICES = Resource("", "v1", "services", "Service", True)
ENDPOINTS = Resource("", "v1", "endpoints", "Endpoints", True)
ENDPOINTSLICES = Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True)
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", False)
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap", True)
SECRETS = Resource("", "v1", "secrets", "Secret", True)
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount", True)
EVENTS = Resource("", "v1", "events", "Event", True)
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment", True)
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet", True)
DAEMONSETS = Resource("apps", "v1", "daemonsets", "DaemonSet", True)
JOBS = Resource("batch", "v1", "jobs", "Job", True)
CRONJOBS = Resource("batch", "v1", "cronjobs", "CronJob", True)
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease", True)
ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True)
ROLEBINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True)
INGRESSES = Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True)
NETWORKPOLICIES = Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True)
HORIZONTALPODAUTOSCALERS = Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True)
PODDISRUPTIONBUDGETS = Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True)
PERSISTENTVOLUMECLAIMS = Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True)
PERSISTENTVOLUMES = Resource("", "v1", "persistentvolumes", "PersistentVolume", False)
STORAGECLASSES = Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False)
