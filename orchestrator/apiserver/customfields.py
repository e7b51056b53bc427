"""Field selectors of custom resources: metadata.name, metadata.namespace and the CRD version's `selectableFields`.

As kube-apiserver (CustomResourceFieldSelectors, on by default since 1.32): a CRD version may name up to
eight `selectableFields` (`jsonPath: .spec.color`), each a string, integer or boolean field; a field
selector on any other label is refused with `field label not supported: LABEL`. Values compare as text
(booleans `true`/`false`), a missing field as "".

Used by rest.py's list/watch predicate.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.errors import BadRequest
from orchestrator.apiserver.customscale import read_path

_OBJECT_META_FIELDS = ("metadata.name", "metadata.namespace")


def selectable_fields(version: dict) -> tuple[str, ...]:
    """`[{jsonPath: .spec.color}]` -> ("spec.color",)."""
    return tuple(str(field.get("jsonPath") or "").lstrip(".") for field in version.get("selectableFields") or ()
                 if field.get("jsonPath"))


def check_field_selector(fields: tuple[str, ...], selector) -> None:
    for requirement in selector.requirements:
        if requirement.field not in _OBJECT_META_FIELDS and requirement.field not in fields:
            raise BadRequest(f"field label not supported: {requirement.field}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_set(fields: tuple[str, ...], obj: dict) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    selected = {"metadata.name": _text(metadata.get("name")), "metadata.namespace": _text(metadata.get("namespace"))}
    for field in fields:
        selected[field] = _text(read_path(obj, field))
    return selected
