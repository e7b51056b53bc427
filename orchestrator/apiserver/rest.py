"""The one generic REST implementation behind every resource.

A request is first resolved to a `Target` (resource, namespace, name, subresource);
`RestHandler` then runs the verb the same way for every kind, asking the
resource's registry entry for what differs: the model (types, unknown fields),
the strategy (defaulting, validation, status-vs-spec), the table columns.

Write path, as Kubernetes' generic registry: decode -> check kind/namespace ->
prepare (system metadata, status reset) -> default -> validate types -> validate
values -> compare-and-swap in etcd. Nothing is written unless every check passed.

Used by `app.py`, which maps URLs to `handle()`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import yaml
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from orchestrator.api import errors
from orchestrator.apiserver import customfields, fieldmanager, selectors
from orchestrator.apiserver.registry import Registry, ResourceInfo
from orchestrator.apiserver.storage import KeyExists, KeyMissing, StaleRevision, Storage, check_request_size
from orchestrator.apiserver.watchcache import BOOKMARK, WatchCache

log = logging.getLogger(__name__)

JSON = "application/json"
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
# Kinds whose metadata.generation tracks spec changes.
GENERATION_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "Job", "CronJob", "Service", "Pod"}
MAX_CONFLICT_RETRIES = 20
WRITE_OPTIONS = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions", "DELETE": "DeleteOptions"}


def utc_now_iso(clock: Callable[[], float] = time.time) -> str:
    return datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Target:
    info: ResourceInfo
    namespace: str | None
    name: str | None
    subresource: str | None


def json_response(body, status_code: int = 200, headers: dict | None = None, content_type: str = JSON) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type=content_type, headers=headers)


def wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


def field_path(loc: tuple) -> str:
    """Pydantic's location -> Kubernetes' field path: ('spec', 'containers', 0, 'image') -> spec.containers[0].image."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and _is_union_tag(part):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


_UNION_TAGS = {"int", "str", "float", "bool", "dict", "list", "none", "strict-int", "strict-str", "strict-bool", "strict-float"}


def _is_union_tag(part: str) -> bool:
    return part in _UNION_TAGS or "[" in part or part.startswith("function-") or part.startswith("constrained-")


def _delete_path(obj, loc: tuple) -> None:
    parts = [p for p in loc if not (isinstance(p, str) and _is_union_tag(p))]
    node = obj
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def drop_nulls(value):
    """Remove null members, as Kubernetes' typed decoding does (`creationTimestamp: null` in a
    template sent by `kubectl rollout undo` must not be stored as a difference)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for member in value.values():
            drop_nulls(member)
    elif isinstance(value, list):
        for item in value:
            drop_nulls(item)
    return value


def _strip_system_fields(obj: dict) -> None:
    metadata = obj.setdefault("metadata", {})
    for system_field in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                         "deletionGracePeriodSeconds", "selfLink", "managedFields", "generation"):
        metadata.pop(system_field, None)


class RestHandler:
    """Runs every verb for every resource; see the module docstring."""

    def __init__(self, *, storage: Storage, cache: WatchCache, registry: Registry, clock: Callable[[], float] = time.time,
                 kubelet_proxy=None, service_network=None):
        self.storage = storage
        self.cache = cache
        self.registry = registry
        self.clock = clock
        self.kubelet_proxy = kubelet_proxy
        from orchestrator.apiserver.allocators import ServiceNetwork

        self.service_network = service_network or ServiceNetwork()
        # Allocation reads every Service then writes one: serialised so two creates in this
        # apiserver cannot take the same ClusterIP or node port.
        self.service_allocation_lock = asyncio.Lock()
        # Admission-like checks after validation, before the write: `check(request, target, obj, old)`
        # may refuse (raise an APIError) or complete `obj` (orchestrator/apiserver/rbac/admission.py).
        self.write_checks: list[Callable] = []

    # ------------------------------------------------------------------ dispatch

    async def handle(self, request: Request, target: Target) -> Response:
        method = request.method
        info, sub = target.info, target.subresource
        if sub and sub not in info.subresources:
            raise errors.NotFound(f"the server could not find the requested resource ({info.qualified}/{sub})")
        params = request.query_params
        if method in WRITE_OPTIONS and sub not in ("exec", "portforward", "proxy"):
            applying = PATCH_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip()) == "apply"
            fieldmanager.check_write_options(params, options_kind=WRITE_OPTIONS[method],
                                             applying=method == "PATCH" and applying)
        if sub == "log":
            return await self.pod_log(request, target)
        if sub == "exec":
            return await self.pod_exec(request, target)
        if sub in ("binding",) or info.kind == "Binding":
            if method != "POST":
                raise errors.MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")
            return await self.bind(request, target)
        if sub == "portforward" and self.kubelet_proxy is not None:
            from orchestrator.apiserver.portforward import refuse_plain_request

            await refuse_plain_request(request, await self.get_object(target), self.kubelet_proxy)
        if sub in ("portforward", "proxy"):
            raise errors.NotFound(f"{info.plural}/{sub} is not served by this apiserver yet")
        if target.name is None:
            if method == "GET":
                if params.get("watch") in ("1", "true"):
                    return await self.watch(request, target)
                return await self.list(request, target)
            if method == "POST":
                return await self.create(request, target)
            if method == "DELETE":
                return await self.delete_collection(request, target)
            raise errors.MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")
        if method == "GET":
            return await self.get(request, target)
        if method == "PUT":
            return await self.update(request, target)
        if method == "PATCH":
            return await self.patch(request, target)
        if method == "DELETE":
            return await self.delete(request, target)
        if method == "POST" and info.kind == "Namespace" and sub == "finalize":
            return await self.update(request, target)
        raise errors.MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")

    # ------------------------------------------------------------------ helpers

    def key(self, target: Target, name: str | None = None) -> bytes:
        return self.storage.key(target.info.plural, target.namespace, name or target.name)

    def not_found(self, target: Target, name: str | None = None) -> errors.NotFound:
        return errors.NotFound.for_object(resource=target.info.plural, group=target.info.group, name=name or target.name)

    async def read_body(self, request: Request) -> dict:
        raw = await request.body()
        check_request_size(raw)
        content_type = request.headers.get("content-type", JSON).split(";")[0].strip()
        if content_type == "application/vnd.kubernetes.protobuf":
            from orchestrator.apiserver.protobuf import decode_protobuf

            return decode_protobuf(raw)
        try:
            if content_type in ("application/yaml", "application/apply-patch+yaml"):
                body = yaml.safe_load(raw)
            else:
                body = orjson.loads(raw) if raw else None
        except (orjson.JSONDecodeError, yaml.YAMLError) as error:
            raise errors.BadRequest(f"error decoding request body: {error}") from error
        if not isinstance(body, (dict, list)):
            raise errors.BadRequest("the body of the request was in an unknown format - accepted media types include: "
                                    "application/json, application/yaml")
        return body

    def check_type_meta(self, body: dict, info: ResourceInfo, *, kind: str | None = None) -> None:
        expected_kind = kind or info.kind
        api_version = body.get("apiVersion")
        expected_version = "autoscaling/v1" if expected_kind == "Scale" else info.group_version
        if api_version and api_version != expected_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API version ({expected_version})")
        if body.get("kind") and body["kind"] != expected_kind:
            raise errors.BadRequest(f"the kind in the data ({body['kind']}) does not match the expected kind ({expected_kind})")
        body["apiVersion"] = expected_version
        body["kind"] = expected_kind
        if not isinstance(body.get("metadata", {}), dict):
            raise errors.BadRequest(f'{expected_kind} in version "{info.version}" cannot be handled as a {expected_kind}: '
                                    "metadata must be an object")

    def check_namespace(self, body: dict, target: Target) -> None:
        metadata = body.setdefault("metadata", {})
        if target.info.namespaced:
            if metadata.get("namespace") and metadata["namespace"] != target.namespace:
                raise errors.BadRequest("the namespace of the provided object does not match the namespace sent on the request")
            metadata["namespace"] = target.namespace
        else:
            metadata.pop("namespace", None)

    def validate_types(self, obj: dict, info: ResourceInfo, request: Request) -> list[str]:
        """Check types and unknown fields against the model; returns warnings (for Warn mode)."""
        model = info.model
        mode = request.query_params.get("fieldValidation", "Warn")
        if model is None:
            unknown_fields = getattr(info.strategy, "unknown_fields", None)  # custom resources: their schema
            return self.check_unknown_fields(unknown_fields(obj), mode) if unknown_fields else []
        warnings: list[str] = []
        for _ in range(50):  # each round drops the unknown fields it found (Warn/Ignore) and re-checks
            try:
                model.model_validate(obj)
                return warnings
            except ValidationError as error:
                unknown = [e for e in error.errors() if e["type"] == "extra_forbidden"]
                # A missing required field is a value error (422 from the strategy), not a decoding error.
                wrong = [e for e in error.errors() if e["type"] not in ("extra_forbidden", "missing")]
                if not wrong and not unknown:
                    return warnings
                if wrong:
                    causes = [{"reason": "FieldValueInvalid", "field": field_path(e["loc"]),
                               "message": f"Invalid value: {json.dumps(e.get('input'), default=str)}: {e['msg']}"}
                              for e in wrong]
                    first = causes[0]
                    raise errors.BadRequest(
                        f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: '
                        f'{first["field"]}: {first["message"]}',
                        details={"kind": info.plural, "group": info.group, "causes": causes},
                    ) from None
                messages = [f'unknown field "{field_path(e["loc"])}"' for e in unknown]
                if mode == "Strict":
                    raise errors.BadRequest(
                        "strict decoding error: " + ", ".join(messages),
                        details={"causes": [{"reason": "FieldValueInvalid", "message": m, "field": field_path(e["loc"])}
                                            for m, e in zip(messages, unknown, strict=True)]},
                    ) from None
                if mode != "Ignore":
                    warnings.extend(messages)
                for e in unknown:
                    _delete_path(obj, e["loc"])
        return warnings

    def check_unknown_fields(self, paths: list[str], mode: str) -> list[str]:
        """fieldValidation for fields a schema does not declare: Strict refuses, Warn warns, Ignore says nothing."""
        messages = [f'unknown field "{path}"' for path in paths]
        if messages and mode == "Strict":
            raise errors.BadRequest("strict decoding error: " + ", ".join(messages),
                                    details={"causes": [{"reason": "FieldValueInvalid", "message": message, "field": path}
                                                        for message, path in zip(messages, paths, strict=True)]})
        return messages if mode != "Ignore" else []

    def validate_values(self, obj: dict, info: ResourceInfo, old: dict | None = None, *,
                        subresource: str | None = None) -> None:
        strategy = info.strategy
        if subresource == "binding":
            return
        if old is None:
            field_errors = strategy.validate(obj)
        elif subresource == "status":
            field_errors = strategy.validate_status_update(obj, old)
        else:
            field_errors = strategy.validate_update(obj, old)
        if field_errors:
            name = (obj.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get("generateName") or ""
            raise errors.Invalid(kind=info.kind, group=info.group, name=name, errors=field_errors)

    async def run_write_checks(self, request: Request, target: Target, obj: dict, old: dict | None) -> None:
        for check in self.write_checks:
            await check(request, target, obj, old)

    async def allocate_service(self, service: dict, *, old: dict | None = None) -> dict:
        """ClusterIP and node ports for a Service (the caller holds service_allocation_lock)."""
        from orchestrator.apiserver.allocators import AllocationFull, allocate_service

        page = await self.storage.list(self.storage.collection_prefix("services"))
        existing = [s for s in page.items if not old or s["metadata"].get("uid") != old["metadata"].get("uid")]
        try:
            result = allocate_service(service, existing, old=old, network=self.service_network)
        except AllocationFull as error:
            raise errors.InternalError(f"Internal error occurred: {error}") from error
        if isinstance(result, list):
            raise errors.Invalid(kind="Service", group="", name=service["metadata"].get("name", ""), errors=result)
        return result

    async def ensure_namespace_accepts(self, target: Target) -> None:
        if not target.info.namespaced:
            return
        namespace = target.namespace
        key = self.storage.key("namespaces", None, namespace)
        obj = self.cache.cache("namespaces").store.get(key) or await self.storage.get(key)
        if obj is None:
            raise errors.NotFound.for_object(resource="namespaces", group="", name=namespace)
        if obj["metadata"].get("deletionTimestamp"):
            raise errors.Forbidden(
                f'{target.info.kind.lower()}s "{target.name or ""}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                details={"name": target.name or "", "kind": target.info.plural,
                         "causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                     "message": f"namespace {namespace} is being terminated"}]},
            )

    def respond(self, request: Request, obj: dict, status_code: int = 200, warnings: list[str] | None = None) -> Response:
        headers = {}
        if warnings:
            # RFC 7234 warn-text is a quoted-string: kubectl drops a warning whose inner quotes are not escaped.
            headers["Warning"] = ", ".join('299 - "{}"'.format(w.replace("\\", "\\\\").replace('"', '\\"'))
                                           for w in warnings)
        if wants_table(request) and obj.get("kind") not in ("Status",):
            from orchestrator.apiserver import tables

            info = self.registry.by_kind(obj.get("apiVersion", "").rpartition("/")[0] if "/" in obj.get("apiVersion", "") else "",
                                         obj.get("kind", ""))
            plural = info.plural if info else ""
            table = tables.table_for(plural, [obj], now=datetime.fromtimestamp(self.clock(), UTC),
                                     include_object=request.query_params.get("includeObject", "Metadata"),
                                     printer_columns=info.extra.get("printer_columns") if info else None)
            return json_response(table, status_code, headers, TABLE_CONTENT_TYPE)
        return json_response(obj, status_code, headers)

    # ------------------------------------------------------------------ reads

    async def get_object(self, target: Target, name: str | None = None) -> dict:
        obj = await self.storage.get(self.key(target, name))
        if obj is None:
            raise self.not_found(target, name)
        return self.read_view(obj, target.info)

    @staticmethod
    def read_view(obj: dict, info: ResourceInfo) -> dict:
        """A custom resource as the requested version serves it (customresources.py); built-in kinds as stored."""
        view = getattr(info.strategy, "read_view", None)
        return view(obj) if view is not None else obj

    async def get(self, request: Request, target: Target) -> Response:
        obj = await self.get_object(target)
        if target.subresource == "scale":
            return self.respond(request, self.to_scale(obj, target.info))
        return self.respond(request, obj)

    def predicate(self, request: Request, target: Target) -> Callable[[dict], bool]:
        params = request.query_params
        labels = selectors.parse_label_selector(params.get("labelSelector"))
        fields = selectors.parse_field_selector(params.get("fieldSelector"))
        # A custom resource selects on metadata.name/namespace and its CRD's selectableFields (customfields.py).
        selectable = target.info.extra.get("selectable_fields")
        if not fields.empty:
            if selectable is not None:
                customfields.check_field_selector(selectable, fields)
            else:
                selectors.check_field_selector(target.info.plural, fields)
        field_set = (lambda obj: customfields.field_set(selectable, obj)) if selectable is not None else (
            lambda obj: selectors.field_set(plural, obj))
        namespace = target.namespace
        name = target.name
        plural = target.info.plural

        def matches(obj: dict) -> bool:
            metadata = obj.get("metadata") or {}
            if namespace and metadata.get("namespace") != namespace:
                return False
            if name and metadata.get("name") != name:
                return False
            if not labels.empty and not labels.matches(metadata.get("labels") or {}):
                return False
            if not fields.empty and not fields.matches(field_set(obj)):
                return False
            return True

        return matches

    async def list(self, request: Request, target: Target) -> Response:
        params = request.query_params
        info = target.info
        predicate = self.predicate(request, target)
        limit = int(params.get("limit") or 0)
        continue_token = params.get("continue")
        resource_version = params.get("resourceVersion")
        match = params.get("resourceVersionMatch")
        metadata: dict = {}
        if continue_token:
            revision, start_key = self.decode_continue(continue_token, target)
            items, revision, next_key, remaining = await self.list_from_etcd(
                target, predicate, limit=limit, revision=revision, start_key=start_key)
        elif resource_version and match != "Exact" and not limit:
            # resourceVersion=0 ("any") or NotOlderThan: served from the watch cache, as Kubernetes does.
            if resource_version != "0":
                await self.cache.wait_fresh(int(resource_version))
            items, revision = self.cache.snapshot(info.plural, predicate)
            next_key, remaining = None, 0
        else:
            revision = int(resource_version) if match == "Exact" and resource_version else 0
            items, revision, next_key, remaining = await self.list_from_etcd(
                target, predicate, limit=limit, revision=revision, start_key=None)
        if info.extra.get("crd"):
            items = [self.read_view(item, info) for item in items]
        metadata["resourceVersion"] = str(revision)
        if next_key is not None:
            metadata["continue"] = self.encode_continue(revision, next_key, target)
            if remaining:
                metadata["remainingItemCount"] = remaining
        if wants_table(request):
            from orchestrator.apiserver import tables

            table = tables.table_for(info.plural, items, now=datetime.fromtimestamp(self.clock(), UTC),
                                     include_object=params.get("includeObject", "Metadata"), list_metadata=metadata,
                                     printer_columns=info.extra.get("printer_columns"))
            return json_response(table, content_type=TABLE_CONTENT_TYPE)
        body = {"kind": info.list_kind, "apiVersion": info.group_version, "metadata": metadata, "items": items}
        return json_response(body)

    async def list_from_etcd(self, target: Target, predicate, *, limit: int, revision: int, start_key: bytes | None):
        prefix = self.storage.collection_prefix(target.info.plural, target.namespace)
        items: list[dict] = []
        chunk = max(limit, 500) if limit else 0
        while True:
            page = await self.storage.list(prefix, revision=revision, start_key=start_key, limit=chunk)
            revision = page.revision if not revision else revision
            items.extend(obj for obj in page.items if predicate(obj))
            if limit and len(items) >= limit and (len(items) > limit or page.next_key is not None):
                # Resume right after the last item we return.
                last = items[limit - 1]["metadata"]
                resume_at = self.storage.key(target.info.plural, last.get("namespace"), last["name"]) + b"\0"
                remaining = page.remaining + len(items) - limit
                return items[:limit], revision, resume_at, remaining
            if page.next_key is None:
                return items, revision, None, 0
            start_key = page.next_key

    def encode_continue(self, revision: int, start_key: bytes, target: Target) -> str:
        prefix = self.storage.collection_prefix(target.info.plural, target.namespace)
        token = {"v": "meta.k8s.io/v1", "rv": revision, "start": start_key[len(prefix):].decode()}
        return base64.urlsafe_b64encode(orjson.dumps(token)).decode()

    def decode_continue(self, token: str, target: Target) -> tuple[int, bytes]:
        try:
            data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
            prefix = self.storage.collection_prefix(target.info.plural, target.namespace)
            return int(data["rv"]), prefix + data["start"].encode()
        except Exception as error:
            raise errors.BadRequest(f"continue key is not valid: {error}") from error

    async def watch(self, request: Request, target: Target) -> Response:
        params = request.query_params
        info = target.info
        predicate = self.predicate(request, target)
        resource_version = params.get("resourceVersion")
        as_table = wants_table(request)
        allow_bookmarks = params.get("allowWatchBookmarks") in ("1", "true")
        send_initial = params.get("sendInitialEvents") in ("1", "true")
        timeout = float(params.get("timeoutSeconds") or random.uniform(1800, 3600))
        include_object = params.get("includeObject", "Metadata")
        error_event = None
        watcher = None
        if not resource_version or resource_version == "0" or send_initial:
            if resource_version and resource_version != "0":
                await self.cache.wait_fresh(int(resource_version))
            watcher = self.cache.watch(info.plural, predicate=predicate, since_revision=None,
                                       allow_bookmarks=allow_bookmarks)
            if send_initial:
                watcher.put((BOOKMARK, ("initial-events-end", self.cache.revision)))
        else:
            since = int(resource_version)
            try:
                await self.cache.wait_fresh(since)
                watcher = self.cache.watch(info.plural, predicate=predicate, since_revision=since,
                                           allow_bookmarks=allow_bookmarks)
            except errors.Expired as expired:
                error_event = orjson.dumps({"type": "ERROR", "object": expired.to_status()}) + b"\n"

        from orchestrator.apiserver import tables

        now = lambda: datetime.fromtimestamp(self.clock(), UTC)  # noqa: E731

        def bookmark_line(payload) -> bytes:
            annotations = {}
            revision = payload
            if isinstance(payload, tuple):
                annotations = {"k8s.io/initial-events-end": "true"}
                revision = payload[1]
            obj = {"kind": info.kind, "apiVersion": info.group_version,
                   "metadata": {"resourceVersion": str(revision), **({"annotations": annotations} if annotations else {})}}
            return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

        async def stream():
            if error_event is not None:
                yield error_event
                return
            deadline = asyncio.get_running_loop().time() + timeout
            try:
                while True:
                    remaining = deadline - asyncio.get_running_loop().time()
                    if remaining <= 0:
                        return
                    try:
                        item = await asyncio.wait_for(watcher.queue.get(), remaining)
                    except TimeoutError:
                        return
                    if item is None:
                        return
                    event_type, event = item
                    if event_type == BOOKMARK:
                        if allow_bookmarks or isinstance(event, tuple):
                            yield bookmark_line(event)
                        continue
                    if as_table:
                        table = tables.table_for(info.plural, [self.read_view(event.object, info)], now=now(),
                                                 include_object=include_object,
                                                 printer_columns=info.extra.get("printer_columns"))
                        yield orjson.dumps({"type": event_type, "object": table}) + b"\n"
                    elif info.extra.get("crd"):
                        yield orjson.dumps({"type": event_type, "object": self.read_view(event.object, info)}) + b"\n"
                    else:
                        yield event.json_line(event_type)
            finally:
                if watcher is not None:
                    self.cache.unwatch(watcher)

        return StreamingResponse(stream(), media_type=TABLE_CONTENT_TYPE if as_table else JSON,
                                 headers={"Cache-Control": "no-cache, private"})

    # ------------------------------------------------------------------ writes

    async def create(self, request: Request, target: Target) -> Response:
        info = target.info
        body = await self.read_body(request)
        if not isinstance(body, dict):
            raise errors.BadRequest("the body of the request must be an object")
        drop_nulls(body)
        self.check_type_meta(body, info)
        self.check_namespace(body, target)
        metadata = body["metadata"]
        if not metadata.get("name") and metadata.get("generateName"):
            from orchestrator.api.names import generate_name

            metadata["name"] = generate_name(metadata["generateName"])
        target = Target(info, target.namespace, metadata.get("name"), None)
        warnings = self.validate_types(body, info, request)
        _strip_system_fields(body)
        # FillObjectMetaSystemFields comes before PrepareForCreate: a Job's generated selector names its uid.
        metadata["uid"] = str(uuid.uuid4())
        info.strategy.prepare_for_create(body)
        info.strategy.default(body)
        self.validate_values(body, info)
        await self.run_write_checks(request, target, body, None)
        await self.ensure_namespace_accepts(target)
        metadata["creationTimestamp"] = utc_now_iso(self.clock)
        if info.kind in GENERATION_KINDS and not info.extra.get("crd"):
            metadata["generation"] = 1
        if info.kind == "Service":
            async with self.service_allocation_lock:
                body = await self.allocate_service(body)
                return await self.store_new(request, target, body, warnings)
        return await self.store_new(request, target, body, warnings)

    def field_manager(self, request: Request, operation: str = "Update", subresource: str | None = None):
        name = fieldmanager.manager_name(request.query_params, request.headers.get("user-agent", ""))
        return fieldmanager.Manager(name, operation, subresource or "")

    async def store_new(self, request: Request, target: Target, body: dict, warnings: list[str],
                        managed_fields: list[dict] | None = None) -> Response:
        info, metadata = target.info, body["metadata"]
        if managed_fields is None:
            managed_fields = fieldmanager.record_create(body, model=info.model, manager=self.field_manager(request),
                                                        now=utc_now_iso(self.clock))
        if managed_fields:
            metadata["managedFields"] = managed_fields
        if request.query_params.get("dryRun"):
            return self.respond(request, body, 201, warnings)
        try:
            created = await self.storage.create(self.key(target), body)
        except KeyExists:
            raise errors.AlreadyExists.for_object(resource=info.plural, group=info.group, name=metadata["name"]) from None
        log.debug("created %s %s/%s", info.plural, target.namespace or "", target.name)
        return self.respond(request, created, 201, warnings)

    async def update(self, request: Request, target: Target) -> Response:
        body = await self.read_body(request)
        if not isinstance(body, dict):
            raise errors.BadRequest("the body of the request must be an object")
        if target.subresource == "scale":
            self.check_type_meta(body, target.info, kind="Scale")
            wanted = body.get("spec", {}).get("replicas")
            precondition = (body.get("metadata") or {}).get("resourceVersion")

            def apply_scale(current: dict) -> dict:
                if precondition and precondition != current["metadata"]["resourceVersion"]:
                    raise errors.Conflict.stale(resource=target.info.qualified, group="", name=target.name)
                self.set_replicas(current, target.info, wanted)
                return current

            updated, _ = await self.guaranteed_update(request, target, apply_scale, subresource=None)
            return self.respond(request, self.to_scale(updated, target.info))
        self.check_type_meta(body, target.info)
        self.check_namespace(body, target)
        metadata = body["metadata"]
        if metadata.get("name") and metadata["name"] != target.name:
            raise errors.BadRequest("the name of the object ({}) does not match the name on the URL ({})".format(metadata["name"], target.name))
        metadata["name"] = target.name
        warnings = self.validate_types(body, target.info, request)
        precondition = metadata.get("resourceVersion")

        def replace(current: dict) -> dict:
            if precondition and precondition != current["metadata"]["resourceVersion"]:
                raise errors.Conflict.stale(resource=target.info.qualified, group="", name=target.name)
            return copy.deepcopy(body)

        try:
            updated, status_code = await self.guaranteed_update(request, target, replace, subresource=target.subresource)
        except errors.NotFound:
            if not target.info.create_on_update or target.subresource:
                raise
            return await self.create_from_body(request, target, body, warnings)
        return self.respond(request, updated, status_code, warnings)

    async def create_from_body(self, request: Request, target: Target, body: dict, warnings: list[str],
                               managed_fields: list[dict] | None = None) -> Response:
        info = target.info
        _strip_system_fields(body)
        body["metadata"]["uid"] = str(uuid.uuid4())
        info.strategy.prepare_for_create(body)
        info.strategy.default(body)
        self.validate_values(body, info)
        await self.run_write_checks(request, target, body, None)
        await self.ensure_namespace_accepts(target)
        body["metadata"]["creationTimestamp"] = utc_now_iso(self.clock)
        if info.kind == "Service":
            async with self.service_allocation_lock:
                body = await self.allocate_service(body)
                return await self.store_new(request, target, body, warnings, managed_fields)
        return await self.store_new(request, target, body, warnings, managed_fields)

    async def patch(self, request: Request, target: Target) -> Response:
        from orchestrator.apiserver import patch as patching

        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        patch_type = PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise errors.UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media types "
                                              f"include: {', '.join(PATCH_TYPES)}")
        patch_body = await self.read_body(request)
        info = target.info
        is_scale = target.subresource == "scale"
        warnings: list[str] = []
        applying = patch_type == "apply" and not is_scale
        applied_managed: list[dict] = []
        if applying:
            applied_body = self.applied_configuration(patch_body, target)

        def apply_patch(current: dict) -> dict:
            original = self.to_scale(current, info) if is_scale else current
            if patch_type == "json":
                if not isinstance(patch_body, list):
                    raise errors.BadRequest("json patch must be a list of operations")
                patched = patching.apply_json_patch(original, patch_body)
            elif not isinstance(patch_body, dict):
                raise errors.BadRequest("patch body must be a JSON object")
            elif patch_type == "merge":
                patched = patching.apply_merge_patch(original, patch_body)
            elif applying:
                result = fieldmanager.server_side_apply(
                    original, applied_body, model=info.model, force=request.query_params.get("force") in ("true", "1"),
                    manager=self.field_manager(request, "Apply", target.subresource), now=utc_now_iso(self.clock))
                applied_managed[:] = result.managed_fields
                patched = result.obj
            elif patch_type == "apply":
                patched = patching.apply_merge_patch(original, patch_body)
            else:
                model = None if is_scale else info.model
                patched = patching.apply_strategic_merge_patch(original, patch_body, model=model)
            precondition = (patched.get("metadata") or {}).get("resourceVersion")
            if precondition and precondition != current["metadata"]["resourceVersion"]:
                raise errors.Conflict.stale(resource=info.qualified, group="", name=target.name)
            if is_scale:
                updated = copy.deepcopy(current)
                self.set_replicas(updated, info, (patched.get("spec") or {}).get("replicas"))
                return updated
            if (patched.get("metadata") or {}).get("name") not in (None, target.name):
                raise errors.BadRequest("metadata.name cannot be changed by a patch")
            self.check_type_meta(patched, info)
            self.check_namespace(patched, target)
            patched["metadata"]["name"] = target.name
            warnings[:] = self.validate_types(patched, info, request)
            return patched

        try:
            updated, status_code = await self.guaranteed_update(
                request, target, apply_patch, subresource=None if is_scale else target.subresource,
                record=(lambda old, new: applied_managed) if applying else None)
        except errors.NotFound:
            if not applying or target.subresource:
                raise
            # Server-side apply on a missing object creates it.
            result = fieldmanager.server_side_apply(
                {}, applied_body, model=info.model, force=True, manager=self.field_manager(request, "Apply"),
                now=utc_now_iso(self.clock))
            body = result.obj
            self.check_type_meta(body, info)
            self.check_namespace(body, target)
            body["metadata"]["name"] = target.name
            return await self.create_from_body(request, target, body, self.validate_types(body, info, request),
                                               result.managed_fields)
        if is_scale:
            return self.respond(request, self.to_scale(updated, info), status_code)
        return self.respond(request, updated, status_code, warnings)

    def applied_configuration(self, patch_body, target: Target) -> dict:
        """The body of a server-side apply, checked as a whole object of the target's kind."""
        if not isinstance(patch_body, dict):
            raise errors.BadRequest("error decoding YAML: the body of an apply patch must be an object")
        body = drop_nulls(copy.deepcopy(patch_body))
        self.check_type_meta(body, target.info)
        name = (body.get("metadata") or {}).get("name")
        if name and name != target.name:
            raise errors.BadRequest(f"the name of the object ({name}) does not match the name on the URL ({target.name})")
        return body

    async def guaranteed_update(self, request: Request, target: Target, mutate: Callable[[dict], dict], *,
                                subresource: str | None,
                                record: Callable[[dict, dict], list[dict]] | None = None) -> tuple[dict, int]:
        """Read, mutate, validate and compare-and-swap, retrying when someone else wrote in between.

        A caller-supplied resourceVersion precondition is checked inside `mutate`, so a
        stale one fails with 409 instead of being retried.
        """
        info = target.info
        key = self.key(target)
        dry_run = bool(request.query_params.get("dryRun"))
        for _ in range(MAX_CONFLICT_RETRIES):
            current = await self.storage.get(key)
            if current is None:
                raise self.not_found(target)
            current = self.read_view(current, info)
            new = drop_nulls(mutate(copy.deepcopy(current)))
            self.prepare_update(new, current, info, subresource)
            managed = (record or self.update_recorder(request, target))(current, new)
            if managed:
                new["metadata"]["managedFields"] = managed
            if new == current:
                return current, 200  # a no-op write changes nothing, not even the resourceVersion
            self.validate_values(new, info, old=current, subresource=subresource)
            await self.run_write_checks(request, target, new, current)
            if info.kind == "Service" and subresource is None:
                async with self.service_allocation_lock:
                    new = await self.allocate_service(new, old=current)
                    result = await self.write_update(key, new, current, info, target, subresource, dry_run)
            else:
                result = await self.write_update(key, new, current, info, target, subresource, dry_run)
            if result is not None:
                return result
        raise errors.Conflict.stale(resource=info.qualified, group="", name=target.name)

    async def write_update(self, key: bytes, new: dict, current: dict, info: ResourceInfo, target: Target,
                           subresource: str | None, dry_run: bool) -> tuple[dict, int] | None:
        """The compare-and-swap of guaranteed_update; None when someone wrote in between (retry)."""
        if dry_run:
            return new, 200
        revision = int(current["metadata"]["resourceVersion"])
        try:
            if self.deletion_complete(new, info):
                deleted = await self.storage.delete(key, expected_revision=revision)
                log.info("deleted %s %s/%s (finalizers done)", info.plural, target.namespace or "", target.name)
                return deleted, 200
            updated = await self.storage.update(key, new, expected_revision=revision)
            log.debug("updated %s %s/%s%s", info.plural, target.namespace or "", target.name,
                      f"/{subresource}" if subresource else "")
            return updated, 200
        except (StaleRevision, KeyMissing):
            return None

    def update_recorder(self, request: Request, target: Target) -> Callable[[dict, dict], list[dict]]:
        manager = self.field_manager(request, "Update", target.subresource)
        model, now = target.info.model, utc_now_iso(self.clock)
        return lambda old, new: fieldmanager.record_update(old, new, model=model, manager=manager, now=now)

    def prepare_update(self, new: dict, old: dict, info: ResourceInfo, subresource: str | None) -> None:
        strategy = info.strategy
        new_meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        # System metadata is the server's, whatever the client sent.
        for system_field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                             "namespace", "name"):
            if system_field in old_meta:
                new_meta[system_field] = old_meta[system_field]
            else:
                new_meta.pop(system_field, None)
        new_meta["resourceVersion"] = old_meta["resourceVersion"]
        new_meta.pop("managedFields", None)
        new_meta.pop("selfLink", None)
        if subresource == "binding":
            return  # the binding handler itself only sets spec.nodeName and the PodScheduled condition
        if subresource == "status":
            strategy.prepare_for_status_update(new, old)
        elif subresource == "finalize":
            finalizers = (new.get("spec") or {}).get("finalizers") or []
            new.clear()
            new.update(copy.deepcopy(old))
            new.setdefault("spec", {})["finalizers"] = finalizers
        else:
            strategy.prepare_for_update(new, old)
            strategy.default(new)
            if info.kind in GENERATION_KINDS and not info.extra.get("crd") and new.get("spec") != old.get("spec"):
                new_meta["generation"] = int(old_meta.get("generation") or 1) + 1

    def deletion_complete(self, obj: dict, info: ResourceInfo) -> bool:
        """A terminating object whose last finalizer just went away is deleted for good."""
        metadata = obj["metadata"]
        if not metadata.get("deletionTimestamp") or metadata.get("finalizers"):
            return False
        if info.kind == "Namespace":
            return not (obj.get("spec") or {}).get("finalizers")
        if info.kind == "Pod":
            return metadata.get("deletionGracePeriodSeconds") == 0 or not (obj.get("spec") or {}).get("nodeName")
        return True

    # ------------------------------------------------------------------ delete

    async def delete_options(self, request: Request) -> dict:
        options: dict = {}
        raw = await request.body()
        if raw and request.headers.get("content-type", "").startswith("application/vnd.kubernetes.protobuf"):
            from orchestrator.apiserver.protobuf import decode_protobuf

            options = decode_protobuf(raw)
        elif raw:
            try:
                options = orjson.loads(raw) or {}
            except orjson.JSONDecodeError as error:
                raise errors.BadRequest(f"error decoding DeleteOptions: {error}") from error
        params = request.query_params
        if "gracePeriodSeconds" in params:
            options["gracePeriodSeconds"] = int(params["gracePeriodSeconds"])
        if "propagationPolicy" in params:
            options["propagationPolicy"] = params["propagationPolicy"]
        if params.get("orphanDependents") in ("true", "1"):
            options["propagationPolicy"] = "Orphan"
        if options.get("orphanDependents") is True:
            options["propagationPolicy"] = "Orphan"
        policy = options.get("propagationPolicy")
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.Invalid(kind="DeleteOptions", group="", name="", errors=[errors.not_supported(
                "propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])])
        if params.get("dryRun"):
            options["dryRun"] = ["All"]
        return options

    async def delete(self, request: Request, target: Target) -> Response:
        options = await self.delete_options(request)
        result, status_code = await self.delete_one(target, options)
        return self.respond(request, result, status_code)

    async def delete_one(self, target: Target, options: dict) -> tuple[dict, int]:
        info = target.info
        key = self.key(target)
        preconditions = options.get("preconditions") or {}
        for _ in range(MAX_CONFLICT_RETRIES):
            current = await self.storage.get(key)
            if current is None:
                raise self.not_found(target)
            meta = current["metadata"]
            if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
                raise errors.Conflict(f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                                      f"UID in object meta: {meta.get('uid')}")
            if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta["resourceVersion"]:
                raise errors.Conflict(f"Precondition failed: ResourceVersion in precondition: "
                                      f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                                      f"{meta['resourceVersion']}")
            new = self.plan_deletion(current, info, options)
            if options.get("dryRun"):
                return (new or current), 200
            revision = int(meta["resourceVersion"])
            try:
                if new is None:
                    deleted = await self.storage.delete(key, expected_revision=revision)
                    log.debug("deleted %s %s/%s", info.plural, target.namespace or "", target.name)
                    if info.return_deleted_object:
                        return deleted, 200
                    return self.success_status(info, deleted), 200
                if new == current:
                    return current, 202
                updated = await self.storage.update(key, new, expected_revision=revision)
                log.info("marked %s %s/%s for deletion", info.plural, target.namespace or "", target.name)
                return updated, 202 if updated["metadata"].get("finalizers") else 200
            except KeyMissing:
                raise self.not_found(target) from None
            except StaleRevision:
                continue
        raise errors.Conflict.stale(resource=info.qualified, group="", name=target.name)

    def plan_deletion(self, current: dict, info: ResourceInfo, options: dict) -> dict | None:
        """None: delete the key now. A dict: the object to write instead (graceful or finalized deletion)."""
        new = copy.deepcopy(current)
        meta = new["metadata"]
        now = datetime.fromtimestamp(self.clock(), UTC)
        policy = options.get("propagationPolicy")
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if policy == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        grace = 0
        if info.kind == "Pod":
            spec = new.get("spec") or {}
            grace = options.get("gracePeriodSeconds")
            if grace is None:
                grace = spec.get("terminationGracePeriodSeconds", 30)
            phase = (new.get("status") or {}).get("phase")
            if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
                grace = 0
            if meta.get("deletionGracePeriodSeconds") is not None:
                grace = min(grace, meta["deletionGracePeriodSeconds"])
        if info.kind == "Namespace":
            spec_finalizers = (new.get("spec") or {}).get("finalizers") or []
            if spec_finalizers or finalizers:
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
                    meta["deletionGracePeriodSeconds"] = 0
                new.setdefault("status", {})["phase"] = "Terminating"
                meta["finalizers"] = finalizers or meta.get("finalizers")
                if not meta["finalizers"]:
                    meta.pop("finalizers")
                return new
            return None
        if not finalizers and grace == 0:
            return None
        if finalizers:
            meta["finalizers"] = finalizers
        if not meta.get("deletionTimestamp") or (meta.get("deletionGracePeriodSeconds") or 0) > grace:
            meta["deletionTimestamp"] = (now + timedelta(seconds=grace)).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["deletionGracePeriodSeconds"] = grace
        return new

    def success_status(self, info: ResourceInfo, deleted: dict) -> dict:
        meta = deleted["metadata"]
        details = {"name": meta["name"], "kind": info.plural, "uid": meta.get("uid")}
        if info.group:
            details["group"] = info.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    async def delete_collection(self, request: Request, target: Target) -> Response:
        options = await self.delete_options(request)
        predicate = self.predicate(request, target)
        items, revision, _, _ = await self.list_from_etcd(target, predicate, limit=0, revision=0, start_key=None)
        deleted = []
        for obj in items:
            one = Target(target.info, obj["metadata"].get("namespace"), obj["metadata"]["name"], None)
            try:
                result, _ = await self.delete_one(one, options)
                deleted.append(result if result.get("kind") != "Status" else obj)
            except errors.NotFound:
                continue
        info = target.info
        return json_response({"kind": info.list_kind, "apiVersion": info.group_version,
                              "metadata": {"resourceVersion": str(revision)}, "items": deleted})

    # ------------------------------------------------------------------ subresources

    def set_replicas(self, obj: dict, info: ResourceInfo, replicas) -> None:
        if info.extra.get("scale") is not None:  # a custom resource: its CRD names the paths
            from orchestrator.apiserver import customscale

            customscale.set_replicas(obj, info.extra["scale"], replicas)
            return
        obj.setdefault("spec", {})["replicas"] = replicas

    def to_scale(self, obj: dict, info: ResourceInfo | None = None) -> dict:
        if info is not None and info.extra.get("scale") is not None:
            from orchestrator.apiserver import customscale

            return customscale.to_scale(obj, info.extra["scale"])
        meta = obj["metadata"]
        selector = selectors.selector_from_object((obj.get("spec") or {}).get("selector") or {})
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": str(selector)},
        }

    async def bind(self, request: Request, target: Target) -> Response:
        """POST pods/NAME/binding (or the bindings collection): set spec.nodeName once."""
        body = await self.read_body(request)
        if not isinstance(body, dict):
            raise errors.BadRequest("the body of the request must be an object")
        name = target.name or (body.get("metadata") or {}).get("name")
        node = (body.get("target") or {}).get("name")
        if not name:
            raise errors.Invalid(kind="Binding", group="", name="", errors=[errors.required("metadata.name")])
        if not node:
            raise errors.Invalid(kind="Binding", group="", name=name, errors=[errors.required("target.name")])
        pods = self.registry.by_plural("pods")
        pod_target = Target(pods, target.namespace, name, None)
        now = utc_now_iso(self.clock)

        def assign(current: dict) -> dict:
            spec = current.setdefault("spec", {})
            if current["metadata"].get("deletionTimestamp"):
                raise errors.Conflict(f"pod {name} is being deleted, cannot be assigned to a host")
            if spec.get("nodeName"):
                raise errors.Conflict(f'pod {name} is already assigned to node "{spec["nodeName"]}"')
            uid = (body.get("metadata") or {}).get("uid")
            if uid and uid != current["metadata"].get("uid"):
                raise errors.Conflict(f"Precondition failed: UID in precondition: {uid}")
            spec["nodeName"] = node
            status = current.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
            status["conditions"] = conditions
            return current

        await self.guaranteed_update(request, pod_target, assign, subresource="binding")
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                             201)

    async def pod_log(self, request: Request, target: Target) -> Response:
        pod = await self.get_object(target)
        if self.kubelet_proxy is None:
            raise errors.ServiceUnavailable("no kubelet connection configured")
        return await self.kubelet_proxy.logs(request, pod)

    async def pod_exec(self, request: Request, target: Target) -> Response:
        pod = await self.get_object(target)
        if self.kubelet_proxy is None:
            raise errors.ServiceUnavailable("no kubelet connection configured")
        return await self.kubelet_proxy.exec_without_upgrade(request, pod)
