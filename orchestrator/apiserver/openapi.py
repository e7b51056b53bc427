"""The OpenAPI documents kubectl downloads: `/openapi/v3` (index and one document per group-version) and `/openapi/v2`.

kubectl 1.32 reads them for four things, and the documents carry exactly what each needs:

- Server-side field validation. Before a create/apply kubectl checks that the server
  understands `?fieldValidation=`: in the v3 document of the kind's group-version it looks
  for a path whose PATCH operation has `x-kubernetes-group-version-kind` equal to the kind
  and a `fieldValidation` query parameter *on the operation* (k8s.io/cli-runtime
  query_param_verifier_v3.go). Without it kubectl falls back to client-side validation,
  which needs the protobuf v2 document.
- Strategic merge patches (`kubectl apply` of an existing object, patcher.go): the PATCH
  operation must accept `application/strategic-merge-patch+json`; the component schema whose
  `x-kubernetes-group-version-kind` lists the kind is walked property by property
  (`allOf[0]` and `$ref` are followed) and the `x-kubernetes-patch-merge-key` /
  `x-kubernetes-patch-strategy` extensions are read on the properties themselves.
- `kubectl explain`: the component schema with the kind's GVK, its `description`s and
  `properties`, with types guessed from `type`, `items`, `additionalProperties` and `$ref`.
- Client-side validation (only if the v3 check fails): `/openapi/v2`, which kubectl asks
  for as protobuf; the JSON form built here serves other clients.

Schemas come from the pydantic models (`model_json_schema` with a generator that drops
the `null` branch of optional fields) and are renamed to Kubernetes' names
(`io.k8s.api.core.v1.Pod`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`) from the
`OPENAPI_PACKAGE` of each model module. Documents are large: each is built once per set
of resources and cached; callers must treat the returned dicts as read-only.

Used by: the apiserver routes `/openapi/v2`, `/openapi/v3`, `/openapi/v3/{path}`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from orchestrator.api.autoscaling_v1 import Scale
from orchestrator.api.base import K8sModel
from orchestrator.api.core_v1 import Binding
from orchestrator.api.errors import NotFound
from orchestrator.api.meta import NAMED_SCHEMA_MARKER, DeleteOptions, ListMeta, ObjectMeta, Status
from orchestrator.apiserver import customopenapi

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# What a PATCH accepts; kubectl apply needs strategic-merge-patch listed to send one.
PATCH_CONTENT_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

GVK_EXTENSION = "x-kubernetes-group-version-kind"
ACTION_EXTENSION = "x-kubernetes-action"

META_PACKAGE = "io.k8s.apimachinery.pkg.apis.meta.v1"
PATCH_SCHEMA = f"{META_PACKAGE}.Patch"

_PLACEHOLDER_REF = "#/$orc/"
_V3_REF = "#/components/schemas/"
_V2_REF = "#/definitions/"


@dataclass(frozen=True)
class ResourceDoc:
    """One served resource as the OpenAPI documents describe it (a registry entry, reduced)."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    model: type[K8sModel] | None
    # Known subresources get operations: "status" (the kind itself), "scale" (autoscaling/v1 Scale),
    # "binding" (core/v1 Binding, POST only). Connect-style ones (log, exec, ...) are left out.
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # A custom resource: its CRD version's openAPIV3Schema as JSON text (customopenapi.py); model is None.
    custom_schema: str = ""

    def __post_init__(self) -> None:
        # Callers may pass lists; tuples keep the dataclass hashable, which the caches need.
        object.__setattr__(self, "subresources", tuple(self.subresources))
        object.__setattr__(self, "verbs", tuple(self.verbs))

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class _OperationKind:
    """One kind of operation: its HTTP method, `x-kubernetes-action`, operationId verb and enabling verb."""

    method: str
    action: str
    id_verb: str  # listCoreV1NamespacedPod, createCoreV1NamespacedPod, readCoreV1NamespacedPod, ...
    discovery_verb: str  # the ResourceDoc verb that enables it
    description: str  # formatted with what it acts on: "Pod", "Pod status"


LIST = _OperationKind("get", "list", "list", "list", "list or watch objects of kind {}")
CREATE = _OperationKind("post", "post", "create", "create", "create a {}")
DELETE_COLLECTION = _OperationKind(
    "delete", "deletecollection", "delete", "deletecollection", "delete collection of {}"
)
READ = _OperationKind("get", "get", "read", "get", "read the specified {}")
REPLACE = _OperationKind("put", "put", "replace", "update", "replace the specified {}")
PATCH = _OperationKind("patch", "patch", "patch", "patch", "partially update the specified {}")
DELETE = _OperationKind("delete", "delete", "delete", "delete", "delete a {}")

_COLLECTION_OPERATIONS = (LIST, CREATE, DELETE_COLLECTION)
_ITEM_OPERATIONS = (READ, REPLACE, PATCH, DELETE)


@dataclass(frozen=True)
class _Subresource:
    model: type[K8sModel] | None  # None: the parent resource's own model and kind
    gvk: tuple[str, str, str] | None  # (group, version, kind); None: the parent's
    operations: tuple[_OperationKind, ...]


_SUBRESOURCES = {
    "status": _Subresource(None, None, (READ, REPLACE, PATCH)),
    "scale": _Subresource(Scale, ("autoscaling", "v1", "Scale"), (READ, REPLACE, PATCH)),
    # POSTed by the scheduler whatever the pod's own verbs.
    "binding": _Subresource(Binding, ("", "v1", "Binding"), (CREATE,)),
}

# Query parameters: name -> (JSON type, description). kubectl looks for `fieldValidation` by name.
_QUERY_PARAMETERS = {
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. Valid value: All."),
    "fieldManager": ("string", "A name associated with the actor or entity that is making these changes."),
    "fieldValidation": (
        "string",
        "How the server handles unknown or duplicate fields in the object: Ignore, Warn or Strict.",
    ),
    "force": ("boolean", 'Force is going to "force" Apply requests.'),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
    "propagationPolicy": ("string", "Whether and how garbage collection is performed: Orphan, Background, Foreground."),
    "allowWatchBookmarks": ("boolean", "Requests watch events with type BOOKMARK."),
    "continue": ("string", "The continue token of the previous page of a paged list."),
    "fieldSelector": ("string", "A selector on fields of the objects."),
    "labelSelector": ("string", "A selector on labels of the objects."),
    "limit": ("integer", "The maximum number of objects to return in one page."),
    "resourceVersion": ("string", "Which version of the objects to return (or to watch from)."),
    "resourceVersionMatch": ("string", "How resourceVersion is applied to list calls."),
    "sendInitialEvents": ("boolean", "With watch, starts with synthetic ADDED events of the current state."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream."),
}
_LIST_PARAMETERS = (
    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
    "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch",
)  # fmt: skip
_WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_PARAMETERS = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")
_QUERY_PARAMETERS_OF_ACTION = {
    "list": _LIST_PARAMETERS,
    "post": _WRITE_PARAMETERS,
    "get": (),
    "put": _WRITE_PARAMETERS,
    "patch": (*_WRITE_PARAMETERS, "force"),
    "delete": _DELETE_PARAMETERS,
    "deletecollection": tuple(
        sorted(set(_LIST_PARAMETERS) - {"watch", "allowWatchBookmarks"} | set(_DELETE_PARAMETERS))
    ),
}

# Named scalar schemas (meta.py marks the fields that use them), in each document's form.
_NAMED_SCALARS_V3 = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "An int32 or a string: a port number or name, a count or a percentage.",
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "A fixed-point number with an optional suffix: 100m, 1.5, 128Mi, 1G.",
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
    f"{META_PACKAGE}.Time": {
        "description": "An RFC 3339 date and time with second precision.",
        "type": "string",
        "format": "date-time",
    },
    f"{META_PACKAGE}.MicroTime": {
        "description": "An RFC 3339 date and time with microsecond precision.",
        "type": "string",
        "format": "date-time",
    },
}
# Swagger 2.0 has no oneOf: Kubernetes' v2 document calls both of these strings.
_NAMED_SCALARS_V2 = {
    **_NAMED_SCALARS_V3,
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": _NAMED_SCALARS_V3["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["description"],
        "type": "string",
        "format": "int-or-string",
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": _NAMED_SCALARS_V3["io.k8s.apimachinery.pkg.api.resource.Quantity"]["description"],
        "type": "string",
    },
}

_SECURITY_DESCRIPTION = "Bearer Token authentication"


# --- public API -------------------------------------------------------------------------------


def openapi_v3_path(group_version: str) -> str:
    """`v1` -> `api/v1`, `apps/v1` -> `apis/apps/v1` (paths in either form are returned as they are)."""
    if group_version.startswith(("api/", "apis/")):
        return group_version
    return f"apis/{group_version}" if "/" in group_version else f"api/{group_version}"


def openapi_v3_index(group_versions: Iterable[str], *, resources: Sequence[ResourceDoc] = ()) -> dict:
    """The `/openapi/v3` discovery document: one `serverRelativeURL` per group-version.

    With `resources`, each URL carries `?hash=` of its document (as kube-apiserver does), so
    clients may cache it for good and notice a change; without, the URL has no hash.
    """
    paths = {}
    for group_version in group_versions:
        path = openapi_v3_path(group_version)
        url = f"/openapi/v3/{path}"
        if resources:
            url += f"?hash={openapi_v3_document_hash(path, resources)}"
        paths[path] = {"serverRelativeURL": url}
    return {"paths": paths}


def openapi_v3_document(group_version: str, resources: Sequence[ResourceDoc]) -> dict:
    """The OpenAPI 3.0 document of one group-version (`v1`, `apps/v1`, or `api/v1`, `apis/apps/v1`).

    Raises NotFound when no resource of `resources` belongs to it. Cached: do not mutate.
    """
    return _v3_document(openapi_v3_path(group_version), tuple(resources))


def openapi_v3_document_json(group_version: str, resources: Sequence[ResourceDoc]) -> bytes:
    """`openapi_v3_document` serialized, cached (what the route sends)."""
    return _v3_document_json(openapi_v3_path(group_version), tuple(resources))


def openapi_v3_document_hash(group_version: str, resources: Sequence[ResourceDoc]) -> str:
    """The hash kube-apiserver puts in the index URL and the ETag: SHA-512 of the document, upper-case hex."""
    return _v3_document_hash(openapi_v3_path(group_version), tuple(resources))


def openapi_v2_document(resources: Sequence[ResourceDoc]) -> dict:
    """The Swagger 2.0 document of every resource (JSON form of `/openapi/v2`). Cached: do not mutate."""
    return _v2_document(tuple(resources))


def openapi_v2_document_json(resources: Sequence[ResourceDoc]) -> bytes:
    """`openapi_v2_document` serialized, cached."""
    return _v2_document_json(tuple(resources))


def openapi_v2_document_protobuf(resources: Sequence[ResourceDoc]) -> bytes:
    """`openapi_v2_document` as gnostic protobuf (what kubectl asks for), cached."""
    return _v2_document_protobuf(tuple(resources))


# --- caches -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _v3_document(path: str, resources: tuple[ResourceDoc, ...]) -> dict:
    served = [resource for resource in resources if openapi_v3_path(resource.group_version) == path]
    if not served:
        raise NotFound(f'the OpenAPI v3 document "{path}" does not exist')
    group_version = served[0].group_version
    schemas = _component_schemas(served, [group_version])
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": {path: _path_item_v3(spec) for path, spec in _path_specs(served).items()},
        "components": {
            "schemas": {name: _NAMED_SCALARS_V3.get(name) or _schema_v3(schema) for name, schema in schemas.items()},
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "name": "authorization",
                    "in": "header",
                    "description": _SECURITY_DESCRIPTION,
                }
            },
        },
        "security": [{"BearerToken": []}],
    }


@functools.lru_cache(maxsize=64)
def _v3_document_json(path: str, resources: tuple[ResourceDoc, ...]) -> bytes:
    return json.dumps(_v3_document(path, resources), separators=(",", ":")).encode()


@functools.lru_cache(maxsize=64)
def _v3_document_hash(path: str, resources: tuple[ResourceDoc, ...]) -> str:
    return hashlib.sha512(_v3_document_json(path, resources)).hexdigest().upper()


@functools.lru_cache(maxsize=8)
def _v2_document(resources: tuple[ResourceDoc, ...]) -> dict:
    schemas = _merged_component_schemas(resources)
    custom = {_object_schema_name(resource) for resource in resources if resource.model is None}
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": {path: _path_item_v2(spec) for path, spec in _path_specs(resources).items()},
        "definitions": {name: _NAMED_SCALARS_V2.get(name)
                        or (customopenapi.v2_form(_schema_v2(schema)) if name in custom else _schema_v2(schema))
                        for name, schema in schemas.items()},
        "securityDefinitions": {
            "BearerToken": {
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
                "description": _SECURITY_DESCRIPTION,
            }
        },
        "security": [{"BearerToken": []}],
    }


@functools.lru_cache(maxsize=8)
def _v2_document_protobuf(resources: tuple[ResourceDoc, ...]) -> bytes:
    from orchestrator.apiserver.openapi_protobuf import encode_document

    return encode_document(_v2_document(resources))


@functools.lru_cache(maxsize=8)
def _v2_document_json(resources: tuple[ResourceDoc, ...]) -> bytes:
    return json.dumps(_v2_document(resources), separators=(",", ":")).encode()


# --- schemas ----------------------------------------------------------------------------------


class _KubernetesSchemaGenerator(GenerateJsonSchema):
    """JSON schema the way Kubernetes writes it: optional fields are plain types, no `null`, no defaults, no titles."""

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_name(model: type[BaseModel]) -> str:
    """Kubernetes' OpenAPI name of a model: `io.k8s.api.core.v1.Pod`."""
    package = getattr(sys.modules[model.__module__], "OPENAPI_PACKAGE", None)
    if package is None:
        raise ValueError(f"{model.__module__} defines no OPENAPI_PACKAGE, so {model.__name__} has no OpenAPI name")
    return f"{package}.{model.__name__}"


def _object_schema_name(resource: ResourceDoc) -> str:
    if resource.model is None:
        return customopenapi.schema_name(resource.group, resource.version, resource.kind)
    return schema_name(resource.model)


def _list_schema_name(resource: ResourceDoc) -> str:
    return f"{_object_schema_name(resource).rsplit('.', 1)[0]}.{resource.kind}List"


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def _models_of(model: type[BaseModel], found: dict[str, type[BaseModel]]) -> None:
    """Every model reachable from `model`, keyed by class name (which must be unique)."""
    if found.get(model.__name__) is model:
        return
    if model.__name__ in found:
        raise ValueError(f"two models are named {model.__name__}: OpenAPI names would collide")
    found[model.__name__] = model
    for model_field in model.model_fields.values():
        for nested in _nested_models(model_field.annotation):
            _models_of(nested, found)


def _nested_models(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in getattr(annotation, "__args__", ()) or ():
        yield from _nested_models(argument)
    # Annotated[...] keeps its type in __origin__.
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and isinstance(origin, type) and issubclass(origin, BaseModel):
        yield origin


def _component_schemas(resources: Sequence[ResourceDoc], group_versions: Sequence[str]) -> dict[str, dict]:
    """Every schema the documents of `resources` reference, in a neutral form (`$ref` to `_V3_REF`)."""
    gvks: dict[type[K8sModel], list[dict[str, str]]] = {}

    def add_gvk(model: type[K8sModel], gvk: dict[str, str]) -> None:
        if gvk not in gvks.setdefault(model, []):
            gvks[model].append(gvk)

    for resource in resources:
        if resource.model is not None:
            add_gvk(resource.model, _gvk(resource.group, resource.version, resource.kind))
        for name in resource.subresources:
            subresource = _SUBRESOURCES.get(name)
            if subresource is not None and subresource.model is not None:
                add_gvk(subresource.model, _gvk(*subresource.gvk))
    add_gvk(Status, _gvk("", "v1", "Status"))
    for group_version in group_versions:
        group, _, version = group_version.rpartition("/")
        add_gvk(DeleteOptions, _gvk(group, version, "DeleteOptions"))

    custom = [resource for resource in resources if resource.model is None]
    models = list(gvks) + [ListMeta] + ([ObjectMeta] if custom else [])
    reachable: dict[str, type[BaseModel]] = {}
    for model in models:
        _models_of(model, reachable)
    _, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template=_PLACEHOLDER_REF + "{model}",
        schema_generator=_KubernetesSchemaGenerator,
        by_alias=True,
    )
    renames = {class_name: schema_name(model) for class_name, model in reachable.items()}
    scalars_used: set[str] = set()
    schemas: dict[str, dict] = {}
    for definition_name, definition in top.get("$defs", {}).items():
        if definition_name not in renames:
            raise ValueError(f"pydantic named a schema {definition_name!r}, which is no model class name")
        schemas[renames[definition_name]] = _neutral(definition, renames, scalars_used)
    for scalar in scalars_used:
        schemas[scalar] = {}  # a placeholder: each document style has its own form
    for model, model_gvks in gvks.items():
        schemas[schema_name(model)][GVK_EXTENSION] = model_gvks
    for resource in custom:
        schemas[_object_schema_name(resource)] = {
            **customopenapi.object_schema(resource.custom_schema, object_meta_ref=_V3_REF + schema_name(ObjectMeta)),
            GVK_EXTENSION: [_gvk(resource.group, resource.version, resource.kind)]}
    schemas[PATCH_SCHEMA] = {
        "description": "The body of a PATCH request: a JSON patch, a merge patch or a strategic merge patch.",
        "type": "object",
    }
    for resource in resources:
        if "list" not in resource.verbs:
            continue
        schemas[_list_schema_name(resource)] = {
            "description": f"A list of {resource.kind} objects.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": _V3_REF + _object_schema_name(resource)}},
                "kind": {"type": "string"},
                "metadata": {"$ref": _V3_REF + schema_name(ListMeta)},
            },
            GVK_EXTENSION: [_gvk(resource.group, resource.version, f"{resource.kind}List")],
        }
    return dict(sorted(schemas.items()))


def _merged_component_schemas(resources: Sequence[ResourceDoc]) -> dict[str, dict]:
    """The schemas of every group-version in one namespace (the v2 document's `definitions`).

    Python class names repeat across group-versions (core/v1 and discovery/v1 both have an
    `EndpointPort`), so each group-version is generated on its own, where class names are unique,
    and the results are merged by their Kubernetes names, which are unique everywhere. Shared
    schemas (DeleteOptions, Status) collect the group-version-kinds of every group-version.
    """
    by_group_version: dict[str, list[ResourceDoc]] = {}
    for resource in resources:
        by_group_version.setdefault(resource.group_version, []).append(resource)
    merged: dict[str, dict] = {}
    for group_version, served in sorted(by_group_version.items()):
        for name, schema in _component_schemas(served, [group_version]).items():
            existing = merged.get(name)
            if existing is None:
                merged[name] = schema
                continue
            gvks = [*existing.get(GVK_EXTENSION, [])]
            for gvk in schema.get(GVK_EXTENSION, []):
                if gvk not in gvks:
                    gvks.append(gvk)
            if gvks:
                merged[name] = {**existing, GVK_EXTENSION: gvks}
    return dict(sorted(merged.items()))


def _neutral(node: Any, renames: dict[str, str], scalars_used: set[str]) -> Any:
    """Pydantic's schema, cleaned: Kubernetes names, named scalars, no titles/defaults/closed objects."""
    if isinstance(node, list):
        return [_neutral(item, renames, scalars_used) for item in node]
    if not isinstance(node, dict):
        return node
    if NAMED_SCHEMA_MARKER in node:
        scalars_used.add(node[NAMED_SCHEMA_MARKER])
        rest = {key: value for key, value in node.items() if key != NAMED_SCHEMA_MARKER}
        return {"$ref": _V3_REF + node[NAMED_SCHEMA_MARKER], **_neutral(rest, renames, scalars_used)}
    # A lone reference pydantic wrapped in allOf to give it siblings: unwrap, the renderers re-wrap.
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and set(all_of[0]) == {"$ref"}:
        node = {**{key: value for key, value in node.items() if key != "allOf"}, "$ref": all_of[0]["$ref"]}
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "default"):
            continue
        if key == "additionalProperties" and isinstance(value, bool):
            # `false` is extra="forbid" (Kubernetes schemas never say it); `true` is an open
            # object, which `kubectl explain` cannot render, and plain `type: object` means the same.
            continue
        if key == "$ref":
            cleaned[key] = _V3_REF + renames[value.removeprefix(_PLACEHOLDER_REF)]
        elif key == "properties":
            cleaned[key] = {prop: _neutral(schema, renames, scalars_used) for prop, schema in value.items()}
        else:
            cleaned[key] = _neutral(value, renames, scalars_used)
    return cleaned


def _schema_v3(schema: dict) -> dict:
    """Neutral -> OpenAPI 3: a referencing property becomes `allOf: [{$ref}]`, as Kubernetes writes it."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {name: _wrap_reference(prop) for name, prop in out["properties"].items()}
    return out


def _wrap_reference(prop: dict) -> dict:
    if "$ref" not in prop:
        return prop
    siblings = {key: value for key, value in prop.items() if key != "$ref"}
    return {"allOf": [{"$ref": prop["$ref"]}], **siblings}


def _schema_v2(schema: dict) -> dict:
    """Neutral -> Swagger 2.0: references point into `#/definitions/`."""
    return json.loads(json.dumps(schema).replace(f'"{_V3_REF}', f'"{_V2_REF}'))


# --- paths and operations ---------------------------------------------------------------------


@dataclass
class _Operation:
    """One operation, independent of the document style."""

    method: str  # get, put, post, patch, delete
    action: str  # x-kubernetes-action
    operation_id: str
    description: str
    tag: str
    gvk: dict[str, str]
    query: tuple[str, ...]
    body: str | None  # schema name of the request body; PATCH_SCHEMA means a patch
    responses: dict[str, str]  # status code -> schema name


@dataclass
class _PathItem:
    path_parameters: tuple[str, ...]
    operations: list[_Operation] = field(default_factory=list)


def _camel(text: str) -> str:
    """`coordination.k8s.io` -> `Coordination`, `rbac.authorization.k8s.io` -> `RbacAuthorization`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.\-]", text.removesuffix(".k8s.io")) if part)


def _path_specs(resources: Sequence[ResourceDoc]) -> dict[str, _PathItem]:
    paths: dict[str, _PathItem] = {}
    for resource in resources:
        _add_resource_paths(resource, paths)
    return dict(sorted(paths.items()))


def _add_resource_paths(resource: ResourceDoc, paths: dict[str, _PathItem]) -> None:
    prefix = f"/apis/{resource.group}/{resource.version}" if resource.group else f"/api/{resource.version}"
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    collection = f"{prefix}{scope}/{resource.plural}"
    item = collection + "/{name}"
    scope_parameters = ("namespace",) if resource.namespaced else ()
    namespaced = "Namespaced" if resource.namespaced else ""
    gvk = _gvk(resource.group, resource.version, resource.kind)
    object_schema = _object_schema_name(resource)
    verbs = set(resource.verbs)

    group_version_word = f"{_camel(resource.group or 'core')}{_camel(resource.version)}"

    def operation(
        kind: _OperationKind, noun: str, *, target: str = resource.kind, body_schema: str = object_schema, body_gvk=gvk
    ) -> _Operation:
        body, responses = _body_and_responses(kind.action, object_schema=body_schema, resource=resource)
        collection_word = "Collection" if kind is DELETE_COLLECTION else ""
        return _Operation(
            method=kind.method,
            action=kind.action,
            operation_id=f"{kind.id_verb}{group_version_word}{collection_word}{noun}",
            description=kind.description.format(target),
            tag=f"{(resource.group or 'core').removesuffix('.k8s.io').replace('.', '_')}_{resource.version}",
            gvk=body_gvk,
            query=_QUERY_PARAMETERS_OF_ACTION[kind.action],
            body=body,
            responses=responses,
        )

    def add(path: str, path_parameters: tuple[str, ...], operations: list[_Operation]) -> None:
        if operations:
            paths.setdefault(path, _PathItem(path_parameters)).operations.extend(operations)

    noun = f"{namespaced}{resource.kind}"
    add(collection, scope_parameters, [operation(k, noun) for k in _COLLECTION_OPERATIONS if k.discovery_verb in verbs])
    add(item, (*scope_parameters, "name"), [operation(k, noun) for k in _ITEM_OPERATIONS if k.discovery_verb in verbs])
    for name in resource.subresources:
        subresource = _SUBRESOURCES.get(name)
        if subresource is None:
            continue  # connect-style subresources (log, exec, ...) have no object body to describe
        body_schema = schema_name(subresource.model) if subresource.model else object_schema
        body_gvk = _gvk(*subresource.gvk) if subresource.gvk else gvk
        sub_noun = f"{noun}{name[:1].upper()}{name[1:]}"
        operations = [
            operation(kind, sub_noun, target=f"{resource.kind} {name}", body_schema=body_schema, body_gvk=body_gvk)
            for kind in subresource.operations
            if kind.discovery_verb in verbs or name == "binding"
        ]
        add(f"{item}/{name}", (*scope_parameters, "name"), operations)
    if resource.namespaced and "list" in verbs:
        add(f"{prefix}/{resource.plural}", (), [operation(LIST, f"{resource.kind}ForAllNamespaces")])


def _body_and_responses(action: str, *, object_schema: str, resource: ResourceDoc) -> tuple[str | None, dict[str, str]]:
    """The request body schema and the response schema per status code, as kube-apiserver documents them."""
    if action == "list":
        return None, {"200": _list_schema_name(resource)}
    if action == "get":
        return None, {"200": object_schema}
    if action == "post":
        return object_schema, {"200": object_schema, "201": object_schema, "202": object_schema}
    if action == "put":
        return object_schema, {"200": object_schema, "201": object_schema}
    if action == "patch":
        return PATCH_SCHEMA, {"200": object_schema, "201": object_schema}
    if action == "delete":
        return schema_name(DeleteOptions), {"200": object_schema, "202": object_schema}
    return schema_name(DeleteOptions), {"200": schema_name(Status)}  # deletecollection


def _path_parameter_description(name: str) -> str:
    return "object name and auth scope, such as for teams and projects" if name == "namespace" else "name of the object"


def _path_item_v3(item: _PathItem) -> dict:
    parameters = [
        {
            "name": name,
            "in": "path",
            "description": _path_parameter_description(name),
            "required": True,
            "schema": {"type": "string", "uniqueItems": True},
        }
        for name in item.path_parameters
    ]
    parameters.append(_query_parameter_v3("pretty"))
    out: dict[str, Any] = {}
    for operation in item.operations:
        out[operation.method] = _operation_v3(operation)
    out["parameters"] = parameters
    return out


def _query_parameter_v3(name: str) -> dict:
    json_type, description = _QUERY_PARAMETERS[name]
    return {"name": name, "in": "query", "description": description, "schema": {"type": json_type, "uniqueItems": True}}


def _operation_v3(operation: _Operation) -> dict:
    out: dict[str, Any] = {
        "tags": [operation.tag],
        "description": operation.description,
        "operationId": operation.operation_id,
        # kubectl reads query parameters on the operation itself, never on the path item.
        "parameters": [_query_parameter_v3(name) for name in operation.query],
    }
    if operation.body is not None:
        content_types = PATCH_CONTENT_TYPES if operation.body == PATCH_SCHEMA else ("application/json",)
        out["requestBody"] = {
            "content": {content_type: {"schema": {"$ref": _V3_REF + operation.body}} for content_type in content_types},
            "required": operation.method != "delete",
        }
    out["responses"] = {
        code: {
            "description": _RESPONSE_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": _V3_REF + schema}}},
        }
        for code, schema in operation.responses.items()
    }
    out["responses"]["401"] = {"description": _RESPONSE_DESCRIPTIONS["401"]}
    out[ACTION_EXTENSION] = operation.action
    out[GVK_EXTENSION] = operation.gvk
    return out


def _path_item_v2(item: _PathItem) -> dict:
    parameters = [
        {
            "name": name,
            "in": "path",
            "description": _path_parameter_description(name),
            "required": True,
            "type": "string",
            "uniqueItems": True,
        }
        for name in item.path_parameters
    ]
    parameters.append(_query_parameter_v2("pretty"))
    out: dict[str, Any] = {operation.method: _operation_v2(operation) for operation in item.operations}
    out["parameters"] = parameters
    return out


def _query_parameter_v2(name: str) -> dict:
    json_type, description = _QUERY_PARAMETERS[name]
    return {"name": name, "in": "query", "description": description, "type": json_type, "uniqueItems": True}


def _operation_v2(operation: _Operation) -> dict:
    parameters = [_query_parameter_v2(name) for name in operation.query]
    if operation.body is not None:
        parameters.insert(
            0,
            {
                "name": "body",
                "in": "body",
                "required": operation.method != "delete",
                "schema": {"$ref": _V2_REF + operation.body},
            },
        )
    out: dict[str, Any] = {
        "tags": [operation.tag],
        "description": operation.description,
        "operationId": operation.operation_id,
        "consumes": list(PATCH_CONTENT_TYPES) if operation.body == PATCH_SCHEMA else ["*/*"],
        "produces": ["application/json"],
        "schemes": ["https"],
        "parameters": parameters,
        "responses": {
            **{
                code: {"description": _RESPONSE_DESCRIPTIONS[code], "schema": {"$ref": _V2_REF + schema}}
                for code, schema in operation.responses.items()
            },
            "401": {"description": _RESPONSE_DESCRIPTIONS["401"]},
        },
        ACTION_EXTENSION: operation.action,
        GVK_EXTENSION: operation.gvk,
    }
    return out


_RESPONSE_DESCRIPTIONS = {"200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"}
