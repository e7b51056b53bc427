"""Request attributes as Kubernetes' RequestInfoFactory computes them, for the authorizer.

`request_attributes(method, path, query)` tells a resource request (`/api/v1/namespaces/default/pods/x/log`:
verb get, group "", resource pods, subresource log, name x, namespace default) from a non-resource
one (`/healthz`, `/version`, `/api`, `/apis/apps/v1`, `/openapi/v3`). Pure; used by middleware.py
and reviews.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

# `/namespaces/NAME/status` and `/finalize` are subresources of the namespace, not resources in it.
_NAMESPACE_SUBRESOURCES = ("status", "finalize")
# Connect-style subresources whose WebSocket/SPDY upgrade GET is authorised as `create`
# (Kubernetes' AuthorizePodWebsocketUpgradeCreatePermission, on by default since 1.31).
_CONNECT_SUBRESOURCES = ("exec", "attach", "portforward")
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "GET": "get", "HEAD": "get"}


@dataclass(frozen=True)
class Attributes:
    verb: str
    path: str
    resource_request: bool = False
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def request_attributes(method: str, path: str, query: str = "") -> Attributes:
    method = method.upper()
    verb = _METHOD_VERBS.get(method, method.lower())
    parts = [part for part in path.strip("/").split("/") if part]
    if parts[:1] == ["api"]:
        group, rest = "", parts[1:]
        if not rest:
            return Attributes(verb=verb, path=path)
        version, rest = rest[0], rest[1:]
    elif parts[:1] == ["apis"]:
        if len(parts) < 3:
            return Attributes(verb=verb, path=path)
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return Attributes(verb=verb, path=path)
    if not rest:
        return Attributes(verb=verb, path=path)  # discovery of one group version
    params = parse_qs(query) if query else {}
    if rest[0] == "watch":  # the deprecated /api/v1/watch/... form
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb in ("get", "delete"):
        verb = "list" if verb == "get" else "deletecollection"
    if verb == "list" and params.get("watch", [""])[0] in ("1", "true"):
        verb = "watch"
    if verb in ("list", "watch") and not name:
        # A list or watch of one name (fieldSelector=metadata.name=X) is authorised for that name.
        for selector in params.get("fieldSelector", []):
            for term in selector.split(","):
                key, _, value = term.partition("=")
                if key == "metadata.name" and value and not value.startswith("="):
                    name = value
    if resource == "pods" and subresource in _CONNECT_SUBRESOURCES:
        verb = "create"
    return Attributes(verb=verb, path=path, resource_request=True, api_group=group, api_version=version,
                      namespace=namespace, resource=resource, subresource=subresource, name=name)
