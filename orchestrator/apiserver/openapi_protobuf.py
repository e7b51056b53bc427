"""The protobuf form of `/openapi/v2`, the only form kubectl reads.

kubectl's client-side validation (a `kind: List` manifest, or a kind whose group-version has no
OpenAPI v3 document) downloads `/openapi/v2` with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
and decodes it as gnostic's `openapi.v2.Document` message; a JSON answer fails with
`proto: cannot parse invalid wire-format data`. This module writes that message from the JSON
(Swagger 2.0) document `openapi.py` builds, following the field numbers of gnostic's
OpenAPIv2.proto. Vendor extensions (`x-kubernetes-group-version-kind`, patch strategies) travel
as `Any.yaml` text (JSON is YAML), as kube-openapi writes them.

Only what the Swagger documents here contain is encoded: schemas, paths with their operations and
parameters, security definitions. Unknown keys (e.g. `oneOf`, which Swagger 2.0 has not) are left out.

Used by the apiserver route `/openapi/v2` (app.py).
"""

from __future__ import annotations

import json
import struct
from typing import Any

# kubectl asks for the `...v2@v1.0+protobuf` form, but Go's mime parser refuses an `@` in a reply.
MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


# --- wire format ------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


def _string(number: int, text: str | None) -> bytes:
    return _bytes(number, text.encode()) if text else b""


def _strings(number: int, texts) -> bytes:
    return b"".join(_bytes(number, str(text).encode()) for text in texts or ())


def _bool(number: int, value: bool | None) -> bytes:
    return _tag(number, 0) + b"\x01" if value else b""


def _int(number: int, value: int | None) -> bytes:
    return _tag(number, 0) + _varint(int(value)) if value else b""


def _double(number: int, value: float | None) -> bytes:
    return _tag(number, 1) + struct.pack("<d", float(value)) if value is not None else b""


def _message(number: int, payload: bytes, *, always: bool = False) -> bytes:
    return _bytes(number, payload) if payload or always else b""


# --- messages ---------------------------------------------------------------------------------


def _any(value: Any) -> bytes:
    """gnostic `Any`: the value as YAML text (field 2)."""
    return _string(2, json.dumps(value, separators=(",", ":")))


def _vendor_extensions(number: int, node: dict) -> bytes:
    return b"".join(
        _message(number, _string(1, key) + _message(2, _any(value), always=True), always=True)
        for key, value in node.items() if key.startswith("x-")
    )


def schema(node: dict) -> bytes:
    """gnostic `Schema` from a Swagger 2.0 schema object."""
    out = [
        _string(1, node.get("$ref")),
        _string(2, node.get("format")),
        _string(3, node.get("title")),
        _string(4, node.get("description")),
    ]
    if "default" in node:
        out.append(_message(5, _any(node["default"]), always=True))
    out += [
        _double(6, node.get("multipleOf")),
        _double(7, node.get("maximum")),
        _bool(8, node.get("exclusiveMaximum")),
        _double(9, node.get("minimum")),
        _bool(10, node.get("exclusiveMinimum")),
        _int(11, node.get("maxLength")),
        _int(12, node.get("minLength")),
        _string(13, node.get("pattern")),
        _int(14, node.get("maxItems")),
        _int(15, node.get("minItems")),
        _bool(16, node.get("uniqueItems")),
        _int(17, node.get("maxProperties")),
        _int(18, node.get("minProperties")),
        _strings(19, node.get("required")),
        b"".join(_message(20, _any(value), always=True) for value in node.get("enum") or ()),
    ]
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        out.append(_message(21, _bytes(1, schema(additional)), always=True))
    elif isinstance(additional, bool):
        out.append(_message(21, _tag(2, 0) + (b"\x01" if additional else b"\x00"), always=True))
    if node.get("type"):
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        out.append(_message(22, _strings(1, types), always=True))
    items = node.get("items")
    if isinstance(items, dict):
        out.append(_message(23, _bytes(1, schema(items)), always=True))
    elif isinstance(items, list):
        out.append(_message(23, b"".join(_bytes(1, schema(item)) for item in items), always=True))
    out.append(b"".join(_bytes(24, schema(part)) for part in node.get("allOf") or ()))
    if isinstance(node.get("properties"), dict):
        properties = b"".join(
            _bytes(1, _string(1, name) + _bytes(2, schema(prop))) for name, prop in node["properties"].items())
        out.append(_message(25, properties, always=True))
    out.append(_bool(27, node.get("readOnly")))
    if "example" in node:
        out.append(_message(30, _any(node["example"]), always=True))
    out.append(_vendor_extensions(31, node))
    return b"".join(out)


def _parameter(node: dict) -> bytes:
    """gnostic `ParametersItem` (a `Parameter`, never a reference here)."""
    if "$ref" in node:
        return _bytes(2, _string(1, node["$ref"]) + _string(2, node.get("description")))
    if node.get("in") == "body":
        body = (_string(1, node.get("description")) + _string(2, node.get("name")) + _string(3, "body")
                + _bool(4, node.get("required")) + _bytes(5, schema(node.get("schema") or {}))
                + _vendor_extensions(6, node))
        return _bytes(1, _bytes(1, body))
    location = node.get("in")
    common = (_bool(1, node.get("required")) + _string(2, location) + _string(3, node.get("description"))
              + _string(4, node.get("name")))
    if location == "path":
        sub = common + _string(5, node.get("type")) + _string(6, node.get("format")) + _bool(19, node.get("uniqueItems"))
        one_of = _bytes(4, sub)
    elif location == "header":
        sub = common + _string(5, node.get("type")) + _string(6, node.get("format")) + _bool(19, node.get("uniqueItems"))
        one_of = _bytes(1, sub)
    else:  # query (formData does not occur in these documents)
        sub = common + _string(6, node.get("type")) + _string(7, node.get("format")) + _bool(20, node.get("uniqueItems"))
        one_of = _bytes(3, sub)
    return _bytes(1, _bytes(2, one_of))


def _operation(node: dict) -> bytes:
    responses = b""
    for code, response in (node.get("responses") or {}).items():
        body = _string(1, response.get("description"))
        if response.get("schema"):
            body += _bytes(2, _bytes(1, schema(response["schema"])))
        responses += _bytes(1, _string(1, code) + _bytes(2, _bytes(1, body)))
    return b"".join([
        _strings(1, node.get("tags")),
        _string(2, node.get("summary")),
        _string(3, node.get("description")),
        _string(5, node.get("operationId")),
        _strings(6, node.get("produces")),
        _strings(7, node.get("consumes")),
        b"".join(_bytes(8, _parameter(parameter)) for parameter in node.get("parameters") or ()),
        _message(9, responses, always=True),
        _strings(10, node.get("schemes")),
        _bool(11, node.get("deprecated")),
        _vendor_extensions(13, node),
    ])


_PATH_ITEM_OPERATIONS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(node: dict) -> bytes:
    out = [_bytes(number, _operation(node[method])) for method, number in _PATH_ITEM_OPERATIONS.items() if method in node]
    out.append(b"".join(_bytes(9, _parameter(parameter)) for parameter in node.get("parameters") or ()))
    out.append(_vendor_extensions(10, node))
    return b"".join(out)


def _security_definition(node: dict) -> bytes:
    if node.get("type") == "apiKey":
        key = (_string(1, "apiKey") + _string(2, node.get("name")) + _string(3, node.get("in"))
               + _string(4, node.get("description")))
        return _bytes(2, key)
    if node.get("type") == "basic":
        return _bytes(1, _string(1, "basic") + _string(2, node.get("description")))
    return b""


def encode_document(document: dict) -> bytes:
    """The Swagger 2.0 `document` as a serialized gnostic `openapi.v2.Document`."""
    info = document.get("info") or {}
    paths = b"".join(_bytes(2, _string(1, path) + _bytes(2, _path_item(item)))
                     for path, item in (document.get("paths") or {}).items())
    definitions = b"".join(_bytes(1, _string(1, name) + _bytes(2, schema(node)))
                           for name, node in (document.get("definitions") or {}).items())
    security = b"".join(
        _bytes(12, b"".join(_bytes(1, _string(1, name) + _bytes(2, _strings(1, scopes)))
                            for name, scopes in requirement.items()))
        for requirement in document.get("security") or ())
    security_definitions = b"".join(
        _bytes(1, _string(1, name) + _bytes(2, _security_definition(node)))
        for name, node in (document.get("securityDefinitions") or {}).items())
    return b"".join([
        _string(1, document.get("swagger", "2.0")),
        _message(2, _string(1, info.get("title")) + _string(2, info.get("version")), always=True),
        _string(3, document.get("host")),
        _string(4, document.get("basePath")),
        _strings(5, document.get("schemes")),
        _strings(6, document.get("consumes")),
        _strings(7, document.get("produces")),
        _message(8, paths, always=True),
        _message(9, definitions, always=True),
        security,
        _message(13, security_definitions),
        _vendor_extensions(16, document),
    ])
