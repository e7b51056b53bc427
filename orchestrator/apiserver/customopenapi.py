"""OpenAPI schemas of custom resources, from their CRD version's structural schema (for openapi.py).

As kube-apiserver's apiextensions builder: the schema of `Widget` in `example.com/v1` is named
`com.example.v1.Widget` (the group reversed), holds the CRD's `openAPIV3Schema` with
`apiVersion` and `kind` strings and `metadata` referencing ObjectMeta, and carries the
`x-kubernetes-group-version-kind`; the list is `com.example.v1.WidgetList`. So `kubectl explain
widgets.spec` reads the CRD's descriptions, and kubectl's client-side validation knows the fields.
Swagger 2.0 has no `nullable`, `oneOf`, `anyOf`, `allOf` or `not` in these schemas: the v2 form
drops them, as Kubernetes does.

Used by openapi.py (component schemas and paths) and app.py (which resources get documents).
"""

from __future__ import annotations

import copy
import json
from typing import Any

_API_VERSION_DOC = ("APIVersion defines the versioned schema of this representation of an object. Servers should "
                    "convert recognized schemas to the latest internal value, and may reject unrecognized values. More "
                    "info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources")
_KIND_DOC = ("Kind is a string value representing the REST resource this object represents. Servers may infer this "
             "from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
             "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds")
_V2_UNSUPPORTED = ("nullable", "oneOf", "anyOf", "allOf", "not")


def schema_name(group: str, version: str, kind: str) -> str:
    """`example.com`, `v1`, `Widget` -> `com.example.v1.Widget`."""
    return ".".join([*reversed(group.split(".")), version, kind])


def schema_text(info) -> str:
    """The openAPIV3Schema of a custom resource's registry row as JSON text ("" for built-in kinds)."""
    strategy = info.extra.get("strategy") if info.extra.get("crd") else None
    if strategy is None:
        return ""
    return json.dumps(getattr(strategy, "schema", None) or {"type": "object"}, sort_keys=True)


def object_schema(text: str, *, object_meta_ref: str) -> dict:
    """The component schema of the object (references in openapi.py's neutral form)."""
    schema = copy.deepcopy(json.loads(text or "{}")) or {"type": "object"}
    schema.setdefault("type", "object")
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "description": _API_VERSION_DOC}
    properties["kind"] = {"type": "string", "description": _KIND_DOC}
    properties["metadata"] = {"$ref": object_meta_ref}
    return schema


def list_schema(kind: str, *, item_ref: str, list_meta_ref: str) -> dict:
    return {
        "description": f"{kind}List is a list of {kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": _API_VERSION_DOC},
            "items": {"type": "array", "description": f"List of {kind.lower()}s. More info: "
                      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                      "items": {"$ref": item_ref}},
            "kind": {"type": "string", "description": _KIND_DOC},
            "metadata": {"$ref": list_meta_ref},
        },
    }


def v2_form(schema: Any) -> Any:
    """Drops what Swagger 2.0 cannot say."""
    if isinstance(schema, list):
        return [v2_form(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: v2_form(value) if key not in ("properties", "enum", "default", "example") else
            ({name: v2_form(member) for name, member in value.items()} if key == "properties" else value)
            for key, value in schema.items() if key not in _V2_UNSUPPORTED}
