"""Structural-schema checks of custom resources: validation, defaulting and pruning, as Kubernetes does.

Pure functions over a CRD version's `openAPIV3Schema` and a wire-form object; messages are
kube-apiserver's (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type
integer: "string"`). Used by customresources.py (the custom resources' strategy).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from orchestrator.api.errors import FieldError

# metadata, apiVersion and kind are the apiserver's: never pruned, validated elsewhere.
_ROOT_SYSTEM_FIELDS = ("apiVersion", "kind", "metadata")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_matches(expected: str, value: Any) -> bool:
    actual = type_name(value)
    return actual == expected or (expected == "number" and actual == "integer")


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:  # refused when the CRD is written; one stored before that must not fail every write
        return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(schema: dict, value: Any, path: str = "") -> list[FieldError]:
    """Every FieldError of `value` against `schema` (the root skips apiVersion/kind/metadata)."""
    errors: list[FieldError] = []
    if value is None:
        if not schema.get("nullable") and path:
            errors.append(FieldError(path, "Invalid", "null", f'{path} in body must be of type {schema.get("type")}: "null"'))
        return errors
    if schema.get("x-kubernetes-int-or-string"):
        if type_name(value) not in ("integer", "string"):
            errors.append(FieldError(path, "Invalid", type_name(value),
                                     f'{path} in body must be of type integer,string: "{type_name(value)}"'))
        return errors
    expected = schema.get("type")
    if expected and not _type_matches(expected, value):
        return [FieldError(path, "Invalid", type_name(value),
                           f'{path} in body must be of type {expected}: "{type_name(value)}"')]
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in schema["enum"])
        errors.append(FieldError(path, "NotSupported", value, f"supported values: {supported}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema:
            if schema.get("exclusiveMinimum") and value <= schema["minimum"]:
                errors.append(FieldError(path, "Invalid", value, f"{path} in body should be greater than {schema['minimum']}"))
            elif value < schema["minimum"]:
                errors.append(FieldError(path, "Invalid", value,
                                         f"{path} in body should be greater than or equal to {schema['minimum']}"))
        if "maximum" in schema:
            if schema.get("exclusiveMaximum") and value >= schema["maximum"]:
                errors.append(FieldError(path, "Invalid", value, f"{path} in body should be less than {schema['maximum']}"))
            elif value > schema["maximum"]:
                errors.append(FieldError(path, "Invalid", value,
                                         f"{path} in body should be less than or equal to {schema['maximum']}"))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(FieldError(path, "Invalid", value,
                                     f"{path} in body should be at least {schema['minLength']} chars long"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(FieldError(path, "TooLong", value, f"may not be more than {schema['maxLength']} bytes"))
        if "pattern" in schema and not _matches(schema["pattern"], value):
            errors.append(FieldError(path, "Invalid", value, f"{path} in body should match '{schema['pattern']}'"))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(FieldError(path, "Invalid", len(value), f"{path} in body should have at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(FieldError(path, "Invalid", len(value), f"{path} in body should have at most {schema['maxItems']} items"))
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                errors += validate(items, item, f"{path}[{index}]")
    if isinstance(value, dict):
        for required in schema.get("required") or ():
            if required not in value:
                errors.append(FieldError(_join(path, required), "Required"))
        properties = schema.get("properties") or {}
        for key, member in value.items():
            if not path and key in _ROOT_SYSTEM_FIELDS:
                continue
            if key in properties:
                errors += validate(properties[key], member, _join(path, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(schema["additionalProperties"], member, _join(path, key))
    return errors


def prune(schema: dict, value: Any, *, root: bool = True) -> None:
    """Drop, in place, the fields the schema does not name (unless x-kubernetes-preserve-unknown-fields)."""
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
            return
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key in list(value):
            if root and key in _ROOT_SYSTEM_FIELDS:
                continue
            if key in properties:
                prune(properties[key], value[key], root=False)
            elif isinstance(additional, dict):
                prune(additional, value[key], root=False)
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and not additional:
                del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            prune(schema["items"], item, root=False)


def apply_defaults(schema: dict, value: Any) -> None:
    """Fill, in place, the `default`s of missing properties (objects that are present only)."""
    if isinstance(value, dict):
        for key, member in (schema.get("properties") or {}).items():
            if key not in value and "default" in member:
                value[key] = copy.deepcopy(member["default"])
            if key in value:
                apply_defaults(member, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(schema["items"], item)


def unknown_fields(schema: dict, value: Any, path: str = "") -> list[str]:
    """The paths `prune` would drop (`spec.bogus`), for fieldValidation Strict/Warn."""
    found: list[str] = []
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
            return found
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, member in value.items():
            if not path and key in _ROOT_SYSTEM_FIELDS:
                continue
            if key in properties:
                found += unknown_fields(properties[key], member, _join(path, key))
            elif isinstance(additional, dict):
                found += unknown_fields(additional, member, _join(path, key))
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and not additional:
                found.append(_join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += unknown_fields(schema["items"], item, f"{path}[{index}]")
    return found
