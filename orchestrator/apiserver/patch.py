"""PATCH semantics of the Kubernetes API: JSON merge patch, JSON patch and strategic merge patch.

The apiserver's generic PATCH handler picks one of the `apply_*` functions by Content-Type:

    application/merge-patch+json           apply_merge_patch            (RFC 7386)
    application/json-patch+json            apply_json_patch             (RFC 6902)
    application/strategic-merge-patch+json apply_strategic_merge_patch  (needs the kind's model)

`orc apply` calls `create_three_way_merge_patch` (or `create_three_way_json_merge_patch` for kinds
without a model) to compute what `kubectl apply` sends. Everything here is a pure function on plain
JSON dicts in wire form; inputs are never mutated (each entry point works on deep copies).

Kubernetes is the spec: evanphx/json-patch v4 as vendored by the apiserver for the JSON patches
(a `replace` of a missing object member adds it, negative array indices count from the end), and
k8s.io/apimachinery/pkg/util/strategicpatch for the strategic ones, with the same HTTP errors
(handlers/patch.go): 400 for a malformed patch, 422 for a patch that cannot be applied, 500 for what
Kubernetes leaves unclassified (a list element without its merge key). Patch metadata (strategy,
merge key) comes from the pydantic models, see orchestrator/api/base.py. Deliberate differences:
`$patch: merge` is accepted as "merge as usual" (Kubernetes refuses it), a `$deleteFromPrimitiveList`
for an absent list does nothing, and new subtrees lose their nulls and directives on the way in.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import types
import typing
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from orchestrator.api import errors
from orchestrator.api.base import PATCH_MERGE_KEY, PATCH_STRATEGY

MAX_JSON_PATCH_OPERATIONS = 10000  # handlers/patch.go maxJSONPatchOperations

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

_MISSING = object()


class UnprocessablePatch(errors.APIError):
    """422: a well-formed patch that cannot be applied (a JSON patch `test` fails, a path is missing).

    Kubernetes answers these with a fixed message and no causes (errors.NewGenericServerResponse);
    the actual reason is kept in `patch_error` for logs.
    """

    code, reason = 422, "Invalid"

    def __init__(self, patch_error: str):
        super().__init__("the server rejected our request due to an error in our request")
        self.patch_error = patch_error


def _render(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _json_equal(left: Any, right: Any) -> bool:
    """Equality of decoded JSON, where 1, 1.0 and true are three different values (as in Go)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right


def _contains(values: list, wanted: Any) -> bool:
    return any(_json_equal(value, wanted) for value in values)


def _kind(value: Any) -> str:
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _without_nulls(value: Any) -> Any:
    """A copy of a new value with null members dropped, as a merge patch stores new subtrees."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


# --- JSON merge patch (RFC 7386) -------------------------------------------------------------


def apply_merge_patch(original: dict, patch: dict) -> dict:
    """`original` with the merge patch applied: objects merge recursively, null deletes, the rest replaces."""
    if not isinstance(patch, dict):
        raise errors.BadRequest("Invalid JSON Patch")  # jsonpatch.ErrBadJSONPatch
    return _merge_patch_into(copy.deepcopy(original), patch)


def _merge_patch_into(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch; `target` is ours to change, `patch` is only read."""
    if not isinstance(patch, dict):
        return _without_nulls(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_patch_into(target.get(key), value)
    return target


# --- JSON patch (RFC 6902) -------------------------------------------------------------------


class _NotApplicable(Exception):
    """One JSON patch operation does not apply to the document; becomes UnprocessablePatch."""


def apply_json_patch(original: dict, operations: list) -> dict:
    """`original` with the RFC 6902 operations applied in order, all or nothing."""
    if operations is None:  # Go decodes a `null` body to an empty patch
        operations = []
    if not isinstance(operations, list):
        raise errors.BadRequest(
            f"json: cannot unmarshal {_go_json_type(operations)} into Go value of type jsonpatch.Patch"
        )
    for operation in operations:
        if not isinstance(operation, dict):
            raise errors.BadRequest(
                f"json: cannot unmarshal {_go_json_type(operation)} into Go value of type jsonpatch.Operation"
            )
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise errors.RequestEntityTooLarge(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}"
        )
    document: Any = copy.deepcopy(original)
    try:
        for operation in operations:
            document = _apply_operation(document, operation)
    except _NotApplicable as failure:
        raise UnprocessablePatch(str(failure)) from None
    if not isinstance(document, dict):
        raise UnprocessablePatch("the patched document is not a JSON object")
    return document


def _go_json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def _apply_operation(document: Any, operation: dict) -> Any:
    kind = operation.get("op")
    handler = _OPERATIONS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise _NotApplicable(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
    return handler(document, operation)


def _pointer(operation: dict, member: str) -> str:
    pointer = operation.get(member)
    if not isinstance(pointer, str):
        raise _NotApplicable(f"operation missing {member} field: missing value")
    return pointer


def _tokens(pointer: str) -> list[str] | None:
    """RFC 6901 reference tokens; [] is the whole document, None a pointer that cannot match."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        return None
    unescape = {"~1": "/", "~0": "~"}
    return [re.sub(r"~[01]", lambda match: unescape[match.group()], token) for token in pointer[1:].split("/")]


def _array_index(token: str, length: int, *, inserting: bool) -> int:
    if not re.fullmatch(r"-?[0-9]+", token):
        raise _NotApplicable(f"value was not a proper array index: '{token}'")
    index = int(token)
    size = length + 1 if inserting else length
    if not -size <= index < size:
        raise _NotApplicable(f"Unable to access invalid index: {index}")
    return index + size if index < 0 else index


def _get(container: dict | list, token: str) -> Any:
    if isinstance(container, dict):
        return container.get(token)  # v4: a missing member reads as null
    return container[_array_index(token, len(container), inserting=False)]


def _parent(document: Any, tokens: list[str] | None) -> dict | list | None:
    """The container holding the last token, or None when the path does not exist."""
    if not tokens:
        return None
    container = document
    try:
        for token in tokens[:-1]:
            container = _get(container, token) if isinstance(container, (dict, list)) else None
    except _NotApplicable:
        return None
    return container if isinstance(container, (dict, list)) else None


def _located(document: Any, operation: dict, member: str, verb: str) -> tuple[dict | list, str]:
    pointer = _pointer(operation, member)
    tokens = _tokens(pointer)
    container = _parent(document, tokens)
    if container is None:
        raise _NotApplicable(f'{verb} operation does not apply: doc is missing path: "{pointer}": missing value')
    return container, tokens[-1]


def _insert(container: dict | list, token: str, value: Any) -> None:
    if isinstance(container, dict):
        container[token] = value
    elif token == "-":
        container.append(value)
    else:
        container.insert(_array_index(token, len(container), inserting=True), value)


def _remove(container: dict | list, token: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise _NotApplicable(f"Unable to remove nonexistent key: {token}: missing value")
        return container.pop(token)
    return container.pop(_array_index(token, len(container), inserting=False))


def _op_add(document: Any, operation: dict) -> Any:
    container, token = _located(document, operation, "path", "add")
    _insert(container, token, copy.deepcopy(operation.get("value")))
    return document


def _op_remove(document: Any, operation: dict) -> Any:
    container, token = _located(document, operation, "path", "remove")
    _remove(container, token)
    return document


def _op_replace(document: Any, operation: dict) -> Any:
    if _pointer(operation, "path") == "":
        return copy.deepcopy(operation.get("value"))
    container, token = _located(document, operation, "path", "replace")
    if isinstance(container, list):
        container[_array_index(token, len(container), inserting=False)] = copy.deepcopy(operation.get("value"))
    else:
        container[token] = copy.deepcopy(operation.get("value"))
    return document


def _op_move(document: Any, operation: dict) -> Any:
    source, source_token = _located(document, operation, "from", "move")
    value = _remove(source, source_token)
    container, token = _located(document, operation, "path", "move")
    _insert(container, token, value)
    return document


def _op_copy(document: Any, operation: dict) -> Any:
    source, source_token = _located(document, operation, "from", "copy")
    if isinstance(source, dict) and source_token not in source:
        raise _NotApplicable(f"copy operation does not apply: doc is missing from path: {operation['from']}")
    value = copy.deepcopy(_get(source, source_token))
    container, token = _located(document, operation, "path", "copy")
    _insert(container, token, value)
    return document


def _op_test(document: Any, operation: dict) -> Any:
    pointer = _pointer(operation, "path")
    if pointer == "":
        actual = document
    else:
        container, token = _located(document, operation, "path", "test")
        actual = _get(container, token)
    if not _json_equal(actual, operation.get("value")):
        raise _NotApplicable(f"testing value {pointer} failed: test failed")
    return document


_OPERATIONS = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}


# --- Patch metadata from the models ----------------------------------------------------------


@dataclass(frozen=True)
class _ListOf:
    items: Any  # schema of the elements


@dataclass(frozen=True)
class _MapOf:
    values: Any  # schema of the values


@dataclass(frozen=True)
class _FieldMeta:
    """What strategicpatch's LookupPatchMetadata returns for one field: its schema and patch tags."""

    schema: Any = None  # a model class, _ListOf, _MapOf, or None when unknown
    strategy: str = ""  # "merge", "replace" or "" (maps merge, lists are replaced)
    retain_keys: bool = False
    merge_key: str = ""

    @property
    def element_schema(self) -> Any:
        return self.schema.items if isinstance(self.schema, _ListOf) else None


_UNKNOWN_FIELD = _FieldMeta()


def _schema_of(annotation: Any) -> Any:
    """The schema of an annotation: Optional/Annotated unwrapped, lists and dicts remembered."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _schema_of(arguments[0])
    if origin in (typing.Union, types.UnionType):
        choices = [choice for choice in arguments if choice is not type(None)]
        return _schema_of(choices[0]) if len(choices) == 1 else None
    if origin is list:
        return _ListOf(_schema_of(arguments[0]) if arguments else None)
    if origin is dict:
        return _MapOf(_schema_of(arguments[1]) if len(arguments) == 2 else None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


@functools.cache
def _attribute_by_wire_name(model: type[BaseModel]) -> dict[str, str]:
    return {field.alias or name: name for name, field in model.model_fields.items()}


def _field_meta(schema: Any, key: str) -> _FieldMeta:
    if isinstance(schema, _MapOf):
        return _FieldMeta(schema=schema.values)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return _UNKNOWN_FIELD
    attribute = _attribute_by_wire_name(schema).get(key)
    if attribute is None:
        return _UNKNOWN_FIELD
    field = schema.model_fields[attribute]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    strategies = [part.strip() for part in str(extra.get(PATCH_STRATEGY, "")).split(",") if part.strip()]
    return _FieldMeta(
        schema=_schema_of(field.annotation),
        strategy=next((part for part in strategies if part != "retainKeys"), ""),
        retain_keys="retainKeys" in strategies,
        merge_key=str(extra.get(PATCH_MERGE_KEY, "")),
    )


# --- Strategic merge patch: applying ---------------------------------------------------------


def apply_strategic_merge_patch(original: dict, patch: dict, *, model: type[BaseModel] | None) -> dict:
    """`original` with a Kubernetes strategic merge patch applied, list strategies read from `model`."""
    if not isinstance(patch, dict):
        raise errors.BadRequest(
            f"json: cannot unmarshal {_go_json_type(patch)} into Go value of type map[string]interface {{}}"
        )
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), model, applying=True)


# `applying` is True on the server (strategicpatch MergeParallelList + IgnoreUnmatchedNulls): the
# directives take effect. It is False when a three-way patch merges its deletions and its changes into
# one patch: directives and nulls are carried along. Both maps are ours to change.
def _merge_map(original: dict, patch: dict, schema: Any, *, applying: bool) -> dict:
    directive = patch.pop(DIRECTIVE, None)
    if directive == "replace":
        return _merge_map({}, patch, schema, applying=True) if applying else patch
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise errors.InternalError(f"unknown patch type: {directive} in map: {_render(patch)}")

    _apply_retain_keys(original, patch, applying=applying)
    _merge_ordered_lists(original, patch, schema, applying=applying)
    for key, patch_value in patch.items():
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if is_delete_list:
            if not applying:
                original[key] = patch_value
                continue
            key = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST)
            if not isinstance(patch_value, list):
                raise errors.BadRequest("invalid patch format of primitive list")
            if key not in original:
                continue
        if patch_value is None:
            original.pop(key, None)
            if applying:
                continue
        current = original.get(key, _MISSING)
        if current is _MISSING and not applying:
            original[key] = patch_value
            continue
        meta = _field_meta(schema, key)
        original[key] = _merge_value(current, patch_value, meta, is_delete_list=is_delete_list, applying=applying)
    return original


def _merge_value(current: Any, patch_value: Any, meta: _FieldMeta, *, is_delete_list: bool, applying: bool) -> Any:
    if current is _MISSING or _kind(current) != _kind(patch_value):
        if not applying:
            return patch_value
        # A new subtree: merging it into an empty value applies its directives and drops its nulls.
        current = {} if isinstance(patch_value, dict) else [] if isinstance(patch_value, list) else None
    if isinstance(patch_value, dict):
        if meta.strategy == "replace":
            return patch_value
        return _merge_map(current, patch_value, meta.schema, applying=applying)
    if isinstance(patch_value, list):
        return _merge_list_field(current, patch_value, meta, is_delete_list=is_delete_list, applying=applying)
    return patch_value


def _merge_list_field(
    current: list, patch_list: list, meta: _FieldMeta, *, is_delete_list: bool, applying: bool
) -> list:
    if meta.strategy != "merge" and not is_delete_list:
        return patch_list
    if not current and not patch_list:
        return current
    is_map = _elements_are_maps(current, patch_list)
    if not is_map:
        if applying and is_delete_list:
            return [value for value in current if not _contains(patch_list, value)]
        merged = []
        for value in current + patch_list:
            if not _contains(merged, value):
                merged.append(value)
        merge_key = ""
    else:
        merge_key = meta.merge_key
        if not merge_key:
            raise errors.InternalError("cannot merge lists without merge key for type map")
        current, patch_list = _apply_list_directives(current, patch_list, merge_key)
        merged = list(current)
        for element in patch_list:
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            position = _index_of(merged, element, merge_key)
            if position < 0:
                merged.append(_merge_map({}, element, meta.element_schema, applying=True) if applying else element)
            else:
                merged[position] = _merge_map(merged[position], element, meta.element_schema, applying=applying)
    patch_items, server_only = _partition(merged, patch_list, merge_key)
    return _normalize_element_order(
        patch_items, server_only, patch_order=patch_list, server_order=current, merge_key=merge_key
    )


def _apply_list_directives(current: list, patch_list: list, merge_key: str) -> tuple[list, list]:
    """Handle `$patch` elements: delete drops matching elements, replace makes the patch the list."""
    plain_elements, replace_list = [], False
    for element in patch_list:
        directive = element.get(DIRECTIVE)
        if directive is None:
            plain_elements.append(element)
        elif directive == "delete":
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            current = [item for item in current if not _json_equal(item.get(merge_key), element[merge_key])]
        elif directive == "replace":
            replace_list = True
        elif directive == "merge":
            plain_elements.append({key: value for key, value in element.items() if key != DIRECTIVE})
        else:
            raise errors.InternalError(f"unknown patch type: {directive} in map: {_render(element)}")
    return (plain_elements, []) if replace_list else (current, plain_elements)


def _apply_retain_keys(original: dict, patch: dict, *, applying: bool) -> None:
    """`$retainKeys`: clear every key of `original` not listed (retainKeys strategy)."""
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not applying:
        if RETAIN_KEYS in original and not _json_equal(original[RETAIN_KEYS], retained):
            raise errors.InternalError(f"{original[RETAIN_KEYS]} and {retained} are not deep equal")
        original[RETAIN_KEYS] = retained
        return
    if not isinstance(retained, list):
        raise errors.BadRequest("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is not None and not key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            if not _contains(retained, key):
                raise errors.BadRequest("invalid patch format of retainKeys")
    for key in [key for key in original if not _contains(retained, key)]:
        del original[key]


def _merge_ordered_lists(original: dict, patch: dict, schema: Any, *, applying: bool) -> None:
    """Merge each list named by a `$setElementOrder/<field>` and put it in that order (mergePatchIntoOriginal)."""
    for directive_key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive_key)
        if not applying:
            if directive_key in original and not _json_equal(original[directive_key], order):
                raise errors.BadRequest("invalid patch format of setElementOrder list")
            original[directive_key] = order
        if not isinstance(order, list):
            raise errors.BadRequest("invalid patch format of setElementOrder list")
        key = _directive_target(directive_key, SET_ELEMENT_ORDER)
        current, patch_list = original.get(key), patch.get(key)
        for value in (current, patch_list):
            if value is not None and not isinstance(value, list):
                raise errors.InternalError(f"expected a list, but received {_render(value)}")
        meta = _field_meta(schema, key)
        _check_order_matches_patch(patch_list or [], order, meta.merge_key)
        if current is None and patch_list is None:
            continue
        if patch_list is None:
            merged = current
        elif current is None and not applying:
            merged = patch_list
        else:
            merged = _merge_list_field(current or [], patch_list, meta, is_delete_list=False, applying=applying)
        if merged:
            merge_key = meta.merge_key if _elements_are_maps(merged) else ""
            patch_items, server_only = _partition(merged, order, merge_key)
            merged = _normalize_element_order(
                patch_items, server_only, patch_order=order, server_order=current or [], merge_key=merge_key
            )
        original[key] = merged
        if patch_list is not None:  # a null is left for the main loop to delete the list
            del patch[key]


def _check_order_matches_patch(patch_list: list, order: list, merge_key: str) -> None:
    """The patch list must follow `$setElementOrder` (validatePatchWithSetOrderList)."""
    elements = [
        item for item in patch_list if not (merge_key and isinstance(item, dict) and item.get(DIRECTIVE) == "delete")
    ]
    patch_index = order_index = 0
    while patch_index < len(elements) and order_index < len(order):
        element = elements[patch_index]
        if isinstance(element, dict) and DIRECTIVE in element:
            patch_index += 1
            continue
        if merge_key:
            _require_merge_key(merge_key, [element, order[order_index]])
            same = _json_equal(element[merge_key], order[order_index][merge_key])
        else:
            same = _json_equal(element, order[order_index])
        patch_index += same
        order_index += 1
    if order and patch_index < len(elements):
        raise errors.InternalError(
            f"The order in patch list:\n{_render(patch_list)}\n doesn't match {SET_ELEMENT_ORDER} list:\n{_render(order)}\n"
        )


def _directive_target(key: str, prefix: str) -> str:
    head, slash, target = key.partition("/")
    if head != prefix or not slash:
        if prefix == DELETE_FROM_PRIMITIVE_LIST:
            raise errors.BadRequest("invalid patch format of primitive list")
        raise errors.BadRequest("invalid patch format of setElementOrder list")
    return target


def _elements_are_maps(*lists: list) -> bool:
    kinds = {_kind(value) for values in lists for value in values}
    if "list" in kinds:
        raise UnprocessablePatch("lists of lists are not supported")
    if "map" in kinds and len(kinds) > 1:
        raise errors.InternalError(f"list element types are not identical: {_render(list(lists))}")
    return kinds == {"map"}


def _no_merge_key(element: Any, merge_key: str) -> errors.APIError:
    return errors.InternalError(f"map: {_render(element)} does not contain declared merge key: {merge_key}")


def _require_merge_key(merge_key: str, *lists: list) -> None:
    for values in lists:
        for value in values:
            if not isinstance(value, dict) or merge_key not in value:
                raise _no_merge_key(value, merge_key)


def _index_of(values: list, probe: Any, merge_key: str) -> int:
    """Position of `probe` in `values`, matching maps by their merge key and scalars by value."""
    wanted = probe.get(merge_key) if merge_key else probe
    for position, value in enumerate(values):
        candidate = value.get(merge_key) if merge_key and isinstance(value, dict) else value
        if _json_equal(candidate, wanted):
            return position
    return -1


def _partition(merged: list, present_in: list, merge_key: str) -> tuple[list, list]:
    """Split `merged` into the items found in `present_in` and the others (server-only items)."""
    found, others = [], []
    for item in merged:
        (found if _index_of(present_in, item, merge_key) >= 0 else others).append(item)
    return found, others


def _sorted_by(items: list, order: list, merge_key: str) -> list:
    """`items` in the order of `order` (unknown ones last), `$patch: delete` elements at the end."""
    deletions = []
    if merge_key:
        _require_merge_key(merge_key, items, order)
        deletions = [item for item in items if item.get(DIRECTIVE) == "delete"]
        items = [item for item in items if item.get(DIRECTIVE) != "delete"]

    def position(item: Any) -> int:
        index = _index_of(order, item, merge_key)
        return index if index >= 0 else len(order)

    return sorted(items, key=position) + deletions


def _normalize_element_order(
    patch_items: list, server_only: list, *, patch_order: list, server_order: list, merge_key: str
) -> list:
    """Interleave patch items and server-only items, each keeping its own relative order.

    As in Kubernetes, a server-only item goes before a patch item only when the live list had it
    first; so without `$setElementOrder`, items new to the list come before the server's.
    """
    patch_items = _sorted_by(patch_items, patch_order, merge_key)
    server_only = _sorted_by(server_only, server_order, merge_key)
    result: list = []
    left = right = 0
    while left < len(server_only) or right < len(patch_items):
        if right >= len(patch_items):
            take_left = True
        elif left >= len(server_only):
            take_left = False
        else:
            left_index = _index_of(server_order, server_only[left], merge_key)
            right_index = _index_of(server_order, patch_items[right], merge_key)
            take_left = 0 <= left_index < right_index
        if take_left:
            result.append(server_only[left])
            left += 1
        else:
            result.append(patch_items[right])
            right += 1
    return result


# --- Strategic merge patch: computing (kubectl apply) ----------------------------------------


@dataclass(frozen=True)
class _DiffOptions:
    set_element_order: bool = True
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    build_retain_keys_directive: bool = False


def create_three_way_merge_patch(
    original: dict | None, modified: dict, current: dict, *, model: type[BaseModel] | None
) -> dict:
    """The strategic merge patch `kubectl apply` sends (strategicpatch.CreateThreeWayMergePatch).

    `original` is the last-applied configuration, `modified` the new file, `current` the live object.
    Changes and additions come from `current` -> `modified`, deletions from `original` -> `modified`;
    what only the live object has (defaults, status, other writers' fields) is left alone.
    """
    original, modified, current = (copy.deepcopy(document) for document in (original or {}, modified, current))
    changes = _diff_maps(current, modified, model, _DiffOptions(ignore_deletions=True))
    deletions = _diff_maps(original, modified, model, _DiffOptions(ignore_changes_and_additions=True))
    return _merge_map(deletions, changes, model, applying=False)


def _diff_maps(original: dict, modified: dict, schema: Any, options: _DiffOptions) -> dict:
    """A strategic merge patch that turns `original` into `modified`, within `options` (diffMaps)."""
    patch: dict = {}
    retained = []
    for key, modified_value in modified.items():
        if options.build_retain_keys_directive and modified_value is not None:
            retained.append(key)
        original_value = original.get(key, _MISSING)
        if isinstance(original_value, dict) and isinstance(modified_value, dict):
            _diff_map_field(key, original_value, modified_value, patch, schema, options)
        elif isinstance(original_value, list) and isinstance(modified_value, list):
            _diff_list_field(key, original_value, modified_value, patch, schema, options)
        elif not options.ignore_changes_and_additions and not _json_equal(original_value, modified_value):
            patch[key] = modified_value
    if not options.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    has_cleared_keys = any(value is not None and key not in modified for key, value in original.items())
    if retained and (patch or has_cleared_keys):
        patch[RETAIN_KEYS] = sorted(retained)
    return patch


def _diff_map_field(key: str, original: dict, modified: dict, patch: dict, schema: Any, options: _DiffOptions) -> None:
    meta = _field_meta(schema, key)
    if meta.strategy == "replace":
        if not options.ignore_changes_and_additions:
            patch[key] = modified
        return
    nested = _diff_maps(original, modified, meta.schema, replace(options, build_retain_keys_directive=meta.retain_keys))
    if nested:
        patch[key] = nested


def _diff_list_field(key: str, original: list, modified: list, patch: dict, schema: Any, options: _DiffOptions) -> None:
    meta = _field_meta(schema, key)
    if meta.strategy != "merge":
        if not options.ignore_changes_and_additions and not _json_equal(original, modified):
            patch[key] = modified
        return
    element_options = replace(options, build_retain_keys_directive=meta.retain_keys)
    changes, deletions, order = _diff_lists(original, modified, meta.element_schema, meta.merge_key, element_options)
    if changes:
        patch[key] = changes
    if deletions:
        patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deletions
    if order:
        patch[f"{SET_ELEMENT_ORDER}/{key}"] = order


def _diff_lists(
    original: list, modified: list, schema: Any, merge_key: str, options: _DiffOptions
) -> tuple[list, list, list]:
    """(patch list, `$deleteFromPrimitiveList` list, `$setElementOrder` list) for a merged list."""
    ignore_changes, ignore_deletions = options.ignore_changes_and_additions, options.ignore_deletions
    if not original:
        return ([], [], []) if not modified or ignore_changes else (modified, [], [])
    if _elements_are_maps(original, modified):
        if not merge_key:
            raise errors.InternalError("cannot merge lists without merge key for type map")
        _require_merge_key(merge_key, original, modified)
        changes = []
        for item in modified:
            position = _index_of(original, item, merge_key)
            if position < 0:
                if not ignore_changes:
                    changes.append(item)
                continue
            nested = _diff_maps(original[position], item, schema, options)
            if nested:
                nested[merge_key] = item[merge_key]
                changes.append(nested)
        changes = _sorted_by(changes, modified, merge_key)
        if not ignore_deletions:
            changes += [
                {DIRECTIVE: "delete", merge_key: item[merge_key]}
                for item in original
                if _index_of(modified, item, merge_key) < 0
            ]
        same_order = [item[merge_key] for item in original] == [item[merge_key] for item in modified]
        wants_order = (not ignore_changes and (changes or not same_order)) or (not ignore_deletions and changes)
        order = [{merge_key: item[merge_key]} for item in modified] if options.set_element_order and wants_order else []
        return changes, [], order
    additions = [] if ignore_changes else _unique([value for value in modified if not _contains(original, value)])
    deletions = [] if ignore_deletions else _unique([value for value in original if not _contains(modified, value)])
    wants_order = (not ignore_deletions and deletions) or (not ignore_changes and not _json_equal(original, modified))
    order = list(modified) if options.set_element_order and wants_order else []
    return _sorted_by(additions, modified, ""), deletions, order


def _unique(values: list) -> list:
    unique: list = []
    for value in values:
        if not _contains(unique, value):
            unique.append(value)
    return unique


# --- JSON merge patch, three-way (kubectl apply for kinds without a schema) -----------------


def create_three_way_json_merge_patch(original: dict | None, modified: dict, current: dict) -> dict:
    """The JSON merge patch `kubectl apply` sends for kinds it has no schema for (jsonmergepatch)."""
    changes = _keep_or_drop_nulls(_create_merge_patch(current, modified), keep_nulls=False)
    deletions = _keep_or_drop_nulls(_create_merge_patch(original or {}, modified), keep_nulls=True)
    return _merge_patch_into(deletions, changes)


def _create_merge_patch(original: dict, modified: dict) -> dict:
    """A JSON merge patch turning `original` into `modified` (jsonpatch.CreateMergePatch)."""
    patch: dict = {}
    for key, modified_value in modified.items():
        original_value = original.get(key, _MISSING)
        if isinstance(original_value, dict) and isinstance(modified_value, dict):
            nested = _create_merge_patch(original_value, modified_value)
            if nested:
                patch[key] = nested
        elif not _json_equal(original_value, modified_value):
            patch[key] = copy.deepcopy(modified_value)
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch


def _keep_or_drop_nulls(patch: dict, *, keep_nulls: bool) -> dict:
    """Only the deletions (nulls) of a merge patch, or only its changes (keepOrDeleteNullInObj)."""
    filtered: dict = {}
    for key, value in patch.items():
        if value is None:
            if keep_nulls:
                filtered[key] = None
        elif isinstance(value, dict) and value:
            nested = _keep_or_drop_nulls(value, keep_nulls=keep_nulls)
            if nested:
                filtered[key] = nested
        elif not keep_nulls:  # lists, scalars and explicitly empty maps are values, not patches
            filtered[key] = value
    return filtered
