"""Impersonation and authorization of every request, after authentication (app.py's TokenAuthMiddleware).

Pure ASGI middleware. The authenticated user is in `scope["state"]["user"]`; a request with
`Impersonate-User` / `Impersonate-Group` / `Impersonate-Uid` headers is first checked for the
`impersonate` verb on users / groups / serviceaccounts / uids (Kubernetes' impersonation filter) and
then runs as the impersonated user. The request's attributes (attributes.py) then go to the RBAC
authorizer; a denial is Kubernetes' 403 Status. Requests without a user (an anonymous loopback
apiserver without a token file, and the unauthenticated health paths) are not authorised here.

Used by app.py.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from orchestrator.api import errors
from orchestrator.apiserver.auth import AUTHENTICATED_GROUP, UserInfo
from orchestrator.apiserver.rbac.attributes import Attributes, request_attributes
from orchestrator.apiserver.rbac.authorizer import forbidden

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")


def _impersonation_attributes(kind: str, name: str) -> Attributes:
    if kind == "user" and name.startswith(SERVICE_ACCOUNT_PREFIX) and name.count(":") == 3:
        namespace, account = name.removeprefix(SERVICE_ACCOUNT_PREFIX).split(":")
        return Attributes(verb="impersonate", path="", resource_request=True, namespace=namespace,
                          resource="serviceaccounts", name=account)
    if kind == "uid":
        return Attributes(verb="impersonate", path="", resource_request=True, api_group="authentication.k8s.io",
                          resource="uids", name=name)
    return Attributes(verb="impersonate", path="", resource_request=True, resource=f"{kind}s", name=name)


def impersonated_user(user: UserInfo, headers: list[tuple[bytes, bytes]], allowed) -> UserInfo | None:
    """The user a request impersonates (None: no impersonation headers); raises Forbidden/BadRequest.

    `allowed(user, attributes)` is the authorizer's decision."""
    name = None
    groups: list[str] = []
    uid = ""
    extra = False
    for key, value in headers:
        if key == b"impersonate-user":
            name = value.decode("latin-1")
        elif key == b"impersonate-group":
            groups.append(value.decode("latin-1"))
        elif key == b"impersonate-uid":
            uid = value.decode("latin-1")
        elif key.startswith(b"impersonate-extra-"):
            extra = True
    if name is None:
        if groups or uid or extra:
            raise errors.BadRequest("requested impersonation without a user: Impersonate-User is required")
        return None
    checks = [("user", name)] + [("group", group) for group in groups] + ([("uid", uid)] if uid else [])
    for kind, value in checks:
        attributes = _impersonation_attributes(kind, value)
        if not allowed(user, attributes):
            raise forbidden(user, attributes)
    if name.startswith(SERVICE_ACCOUNT_PREFIX) and name.count(":") == 3 and not groups:
        groups = list(service_account_groups(name.split(":")[2]))
    if name != "system:anonymous" and AUTHENTICATED_GROUP not in groups:
        groups.append(AUTHENTICATED_GROUP)
    return UserInfo(name=name, uid=uid, groups=tuple(groups))


class AuthorizationMiddleware:
    def __init__(self, app, authorization):
        self.app = app
        self.authorization = authorization

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        state = scope.get("state") or {}
        user = state.get("user")
        if user is None:
            return await self.app(scope, receive, send)
        authorizer = self.authorization.authorizer
        try:
            impersonated = impersonated_user(user, scope["headers"], authorizer.allowed)
            if impersonated is not None:
                state["user"] = user = impersonated
            if self.authorization.enabled:
                method = "GET" if scope["type"] == "websocket" else scope["method"]
                query = scope.get("query_string", b"").decode("latin-1")
                authorizer.authorize(user, request_attributes(method, scope["path"], query))
        except errors.APIError as error:
            response = Response(orjson.dumps(error.to_status()), status_code=error.code, media_type="application/json")
            if scope["type"] == "websocket":
                from starlette.websockets import WebSocket

                from orchestrator.apiserver.app import deny_websocket

                return await deny_websocket(WebSocket(scope, receive, send), response)
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)
