"""The async HTTP client every component uses to talk to the apiserver.

`ApiClient` speaks the Kubernetes REST API over aiohttp (the measured-fast async
client, see design.md): get/list/create/update/patch/delete, subresources such as
pods/binding, streamed watches, and `request` for anything else (pods/log streams).
Error responses (`kind: Status`) come back as the matching class of
`orchestrator.api.errors`; a server that cannot be reached raises `ApiUnavailable`,
so callers can back off. Used by informers, the work-queue controllers, the
scheduler, the kubelet and the proxy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from orchestrator.api import errors
from orchestrator.api.errors import FIELD_ERROR_TYPES, APIError, FieldError, Invalid
from orchestrator.client.resources import Resource

if TYPE_CHECKING:
    from orchestrator.client.config import ClientConfig

USER_AGENT = "orchestrator-client/0.1"
# A watch event carries one whole object; a guard against a stream that never ends its line.
MAX_WATCH_EVENT_BYTES = 128 * 1024 * 1024
PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",  # JSON is YAML, so the body stays JSON
}
PatchType = Literal["strategic", "merge", "json", "apply"]

# Every Status reason the project knows, from the one table of error classes.
_ERROR_CLASSES = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, APIError)
                  and cls is not APIError]
_ERRORS_BY_REASON: dict[str, type[APIError]] = {cls.reason: cls for cls in _ERROR_CLASSES} | {"Gone": errors.Expired}
# A 409 without a reason is a Conflict (AlreadyExists always names its reason).
_ERRORS_BY_CODE: dict[int, type[APIError]] = {cls.code: cls for cls in reversed(_ERROR_CLASSES)} | {409: errors.Conflict}
_CAUSE_TYPES = {cause_reason: error_type for error_type, (cause_reason, _) in FIELD_ERROR_TYPES.items()}


class ApiUnavailable(ConnectionError):
    """The apiserver could not be reached or the connection broke; retry with backoff."""


@dataclass(slots=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED or BOOKMARK (ERROR events are raised instead)
    object: dict


def from_status(status_body: dict, http_code: int) -> APIError:
    """The `APIError` subclass instance that a `kind: Status` body (or watch ERROR object) stands for."""
    reason = status_body.get("reason") or ""
    code = status_body.get("code") or http_code
    message = status_body.get("message") or f"the server responded with HTTP {code}"
    details = status_body.get("details")
    cls = _ERRORS_BY_REASON.get(reason) or _ERRORS_BY_CODE.get(code)
    if cls is None:  # e.g. 429 TooManyRequests: keep what the server said
        error = APIError(message, details=details)
        error.reason = reason or "Unknown"
    else:
        # Invalid's own __init__ builds the message from FieldErrors; the server already built it.
        error = cls.__new__(cls)
        APIError.__init__(error, message, details=details)
    if cls is Invalid:
        error.field_errors = [_field_error(cause) for cause in (details or {}).get("causes", [])]
    if error.code != code:
        error.code = code
    return error


def _field_error(cause: dict) -> FieldError:
    error_type = _CAUSE_TYPES.get(cause.get("reason", ""), "Invalid")
    prefix = FIELD_ERROR_TYPES[error_type][1]
    detail = cause.get("message", "").removeprefix(prefix).removeprefix(": ")
    return FieldError(cause.get("field", ""), error_type, detail=detail)


def _error_from_response(http_code: int, payload: bytes, headers: Any) -> APIError:
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("kind") != "Status":
        text = payload.decode(errors="replace").strip()[:500]
        body = {"message": text or None}
    error = from_status(body, http_code)
    if "Retry-After" in headers:
        error.headers["Retry-After"] = headers["Retry-After"]
    return error


def _query(params: dict[str, Any] | None) -> dict[str, str]:
    query = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        query[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return query


async def _lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Newline-delimited chunks of a stream, however long (aiohttp's readline caps line length)."""
    parts: list[bytes] = []
    pending_size = 0
    async for chunk in stream.iter_any():
        start = 0
        while (newline := chunk.find(b"\n", start)) >= 0:
            parts.append(chunk[start:newline])
            line = b"".join(parts)
            parts.clear()
            pending_size = 0
            if line.strip():
                yield line
            start = newline + 1
        if start < len(chunk):
            parts.append(chunk[start:])
            pending_size += len(chunk) - start
            if pending_size > MAX_WATCH_EVENT_BYTES:
                raise ApiUnavailable(f"watch event larger than {MAX_WATCH_EVENT_BYTES} bytes")
    tail = b"".join(parts)
    if tail.strip():
        yield tail


_TRANSPORT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class ApiClient:
    """An aiohttp session bound to one apiserver, with its credentials.

    Object-level calls (get/create/update/patch/delete) on a namespaced resource use
    the kubeconfig's namespace (else `default`) when none is given, as kubectl does;
    list and watch with no namespace cover all namespaces.
    Use as `async with ApiClient(config) as client:` or call `close()`.
    """

    def __init__(self, config: ClientConfig, *, pool_limit: int = 64, request_timeout: float = 60.0):
        self.config = config
        self.server = config.server.rstrip("/")
        self.default_namespace = getattr(config, "namespace", None) or "default"
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"
        self._ssl = config.ssl_context()
        self._pool_limit = pool_limit
        self._timeout = aiohttp.ClientTimeout(total=request_timeout, sock_connect=10)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _session_or_new(self) -> aiohttp.ClientSession:
        # Created lazily: an aiohttp session belongs to the event loop that is running when it is made.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_limit, ssl=self._ssl if self._ssl is not None else True)
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers, timeout=self._timeout)
        return self._session

    def _object_namespace(self, resource: Resource, namespace: str | None, body: dict | None = None) -> str | None:
        if not resource.namespaced:
            return None
        body_namespace = ((body or {}).get("metadata") or {}).get("namespace")
        return namespace or body_namespace or self.default_namespace

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """Sends a request; returns the unread response if 2xx/3xx, raises its APIError otherwise."""
        request_headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request_headers.setdefault("Content-Type", "application/json")
        try:
            response = await self._session_or_new().request(
                method, self.server + path, params=_query(params), data=data, headers=request_headers,
                timeout=timeout or self._timeout,
            )
            if response.status < 400:
                return response
            try:
                payload = await response.read()
            finally:
                response.release()
        except _TRANSPORT_ERRORS as error:
            raise ApiUnavailable(f"{method} {path}: {error!r}") from error
        raise _error_from_response(response.status, payload, response.headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Any call: the parsed JSON (or text) body, or with `raw=True` the unread aiohttp response
        for streaming (e.g. pods/log?follow=true); the caller must `release()` it (or `async with` it)."""
        if raw:
            stream_timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
            return await self._send(method, path, params=params, body=body, headers=headers, timeout=stream_timeout)
        response = await self._send(method, path, params=params, body=body, headers=headers)
        try:
            payload = await response.read()
        except _TRANSPORT_ERRORS as error:
            raise ApiUnavailable(f"{method} {path}: {error!r}") from error
        finally:
            response.release()
        if not payload:
            return {}
        if "json" in response.content_type:
            return json.loads(payload)
        return payload.decode(response.charset or "utf-8", errors="replace")

    async def get(self, resource: Resource, name: str, *, namespace: str | None = None) -> dict:
        return await self.request("GET", resource.path(self._object_namespace(resource, namespace), name))

    async def list(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict:
        params = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "limit": limit,
            "continue": continue_,
            "resourceVersion": resource_version,
        }
        return await self.request("GET", resource.path(namespace), params=params)

    async def create(self, resource: Resource, body: dict, *, namespace: str | None = None) -> dict:
        return await self.request("POST", resource.path(self._object_namespace(resource, namespace, body)), body=body)

    async def update(
        self, resource: Resource, body: dict, *, namespace: str | None = None, subresource: str | None = None
    ) -> dict:
        """PUT: the body's `metadata.resourceVersion` makes it conditional (409 Conflict when stale)."""
        path = resource.path(self._object_namespace(resource, namespace, body), body["metadata"]["name"], subresource)
        return await self.request("PUT", path, body=body)

    async def patch(
        self,
        resource: Resource,
        name: str,
        patch: dict | list,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "strategic",
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
    ) -> dict:
        if patch_type == "apply":
            field_manager = field_manager or "orchestrator"  # server-side apply requires a manager
        path = resource.path(self._object_namespace(resource, namespace), name, subresource)
        params = {"fieldManager": field_manager, "force": force}
        headers = {"Content-Type": PATCH_CONTENT_TYPES[patch_type]}
        return await self.request("PATCH", path, params=params, body=patch, headers=headers)

    async def delete(
        self,
        resource: Resource,
        name: str,
        *,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        preconditions: dict | None = None,
    ) -> dict:
        """The deleted object (or the object still terminating / held by finalizers), or a success Status."""
        options = {
            "gracePeriodSeconds": grace_period_seconds,
            "propagationPolicy": propagation_policy,
            "preconditions": preconditions,
        }
        options = {key: value for key, value in options.items() if value is not None}
        body = {"kind": "DeleteOptions", "apiVersion": "v1", **options} if options else None
        return await self.request("DELETE", resource.path(self._object_namespace(resource, namespace), name), body=body)

    async def create_subresource(
        self, resource: Resource, name: str, subresource: str, body: dict, *, namespace: str | None = None
    ) -> dict:
        """POST to a subresource, e.g. pods/binding (the scheduler) or pods/eviction."""
        path = resource.path(self._object_namespace(resource, namespace, body), name, subresource)
        return await self.request("POST", path, body=body)

    async def watch(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[WatchEvent]:
        """Streams the changes after `resource_version` until the server ends the watch.

        An ERROR event is raised as its APIError (410 → `Expired`: re-list); a broken
        connection as `ApiUnavailable`.
        """
        params = {
            "watch": True,
            "resourceVersion": resource_version,
            "allowWatchBookmarks": allow_bookmarks,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "timeoutSeconds": timeout_seconds,
        }
        # The server closes the stream after timeoutSeconds; the read timeout only catches a dead peer.
        read_timeout = timeout_seconds + 60 if timeout_seconds else None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=read_timeout)
        response = await self._send("GET", resource.path(namespace), params=params, timeout=timeout)
        try:
            async for line in _lines(response.content):
                try:
                    event = json.loads(line)
                except ValueError as error:
                    raise ApiUnavailable(f"malformed watch event from {resource.plural}: {line[:200]!r}") from error
                event_object = event.get("object") or {}
                if event.get("type") == "ERROR":
                    raise from_status(event_object, event_object.get("code") or 500)
                yield WatchEvent(event.get("type", ""), event_object)
        except _TRANSPORT_ERRORS as error:
            raise ApiUnavailable(f"watch {resource.plural}: {error!r}") from error
        finally:
            # An abandoned stream cannot go back to the pool; watches are long-lived, so just close it.
            response.close()
