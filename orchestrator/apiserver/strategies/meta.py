"""Validation shared by every kind: object metadata, labels, annotations, label selectors.

Mirrors k8s.io/apimachinery/pkg/api/validation (ValidateObjectMeta, ValidateObjectMetaUpdate)
and pkg/apis/meta/v1/validation (ValidateLabels, ValidateLabelSelector), with the same field
paths and messages. Also holds `GoValue`: Kubernetes prints some invalid values with Go's
`%#v` (`map[string]string{"app":"web"}`), and kubectl users see exactly that text.

Used by the strategy modules of this package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.api.errors import FieldError, forbidden, invalid, required
from orchestrator.api.names import is_qualified_name, is_valid_label_value, name_is_dns_label, name_is_dns_subdomain

NameValidator = Callable[[str, bool], list[str]]

FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}
BANNED_OWNER_KINDS = {("v1", "Event")}


# ---------------------------------------------------------------- Go-rendered values


class GoValue:
    """An invalid value as Kubernetes prints it (`%#v`): FieldError renders it with str()."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"GoValue({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def go_string_map_text(mapping: Mapping[str, str] | None) -> str:
    # Go prints maps with sorted keys; a missing map is a nil map.
    if mapping is None:
        return "map[string]string(nil)"
    entries = ", ".join(f"{go_quote(key)}:{go_quote(str(mapping[key]))}" for key in sorted(mapping))
    return "map[string]string{" + entries + "}"


def go_string_map(mapping: Mapping[str, str] | None) -> GoValue:
    return GoValue(go_string_map_text(mapping))


def go_string_slice(values: list[str] | None) -> GoValue:
    if values is None:
        return GoValue("[]string(nil)")
    return GoValue("[]string{" + ", ".join(go_quote(str(value)) for value in values) + "}")


def go_label_selector(selector: Mapping[str, Any] | None) -> GoValue:
    selector = selector or {}
    expressions = selector.get("matchExpressions")
    if expressions is None:
        expressions_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        rendered = []
        for expression in expressions:
            values = expression.get("values")
            values_text = "[]string(nil)" if values is None else str(go_string_slice(values))
            rendered.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(expression.get('key', ''))}, "
                f"Operator:{go_quote(expression.get('operator', ''))}, Values:{values_text}}}"
            )
        expressions_text = "[]v1.LabelSelectorRequirement{" + ", ".join(rendered) + "}"
    labels_text = go_string_map_text(selector.get("matchLabels"))
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{expressions_text}}}")


def go_int_or_string(value: int | str | None) -> GoValue:
    """intstr.IntOrString as %#v (its String() has a pointer receiver, so Go never uses it here)."""
    if isinstance(value, str):
        return GoValue(f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}')
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{int(value or 0)}, StrVal:""}}')


# ---------------------------------------------------------------- small shared checks


def validate_nonnegative(value: Any, field: str) -> list[FieldError]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return [invalid(field, value, IS_NEGATIVE)]
    return []


def validate_immutable(new_value: Any, old_value: Any, field: str, *, shown: Any = None) -> list[FieldError]:
    if new_value != old_value:
        return [invalid(field, new_value if shown is None else shown, FIELD_IMMUTABLE)]
    return []


def validate_qualified_name(value: str, field: str) -> list[FieldError]:
    return [invalid(field, value, message) for message in is_qualified_name(value)]


def validate_labels(labels: Mapping[str, Any] | None, field: str) -> list[FieldError]:
    """Keys and values; Kubernetes reports both at the map's path, not at the key."""
    errors: list[FieldError] = []
    for key in sorted(labels or {}):
        errors.extend(validate_qualified_name(key, field))
        value = labels[key]
        if isinstance(value, str):
            errors.extend(invalid(field, value, message) for message in is_valid_label_value(value))
    return errors


def validate_annotations(annotations: Mapping[str, Any] | None, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    total_size = 0
    for key in sorted(annotations or {}):
        # Annotation keys are qualified names whose case does not matter.
        errors.extend(invalid(field, key, message) for message in is_qualified_name(key.lower()))
        total_size += len(key.encode()) + len(str(annotations[key]).encode())
    if total_size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errors


def too_long(field: str, max_bytes: int) -> FieldError:
    unit = "byte" if max_bytes == 1 else "bytes"
    return FieldError(field, "TooLong", detail=f"may not be more than {max_bytes} {unit}")


def validate_finalizers(finalizers: list[Any] | None, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    finalizers = finalizers or []
    for finalizer in finalizers:
        errors.extend(validate_qualified_name(finalizer, field))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errors.append(invalid(field, go_string_slice(finalizers), "finalizer orphan and foregroundDeletion cannot be both set"))
    return errors


def validate_kube_finalizer_names(finalizers: list[Any] | None, field: str) -> list[FieldError]:
    """pkg/apis/core/validation adds: an unqualified finalizer must be one Kubernetes knows."""
    errors: list[FieldError] = []
    for index, finalizer in enumerate(finalizers or []):
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errors.append(invalid(f"{field}[{index}]", finalizer, "name is neither a standard finalizer name nor is it fully qualified"))
    return errors


def validate_owner_references(references: list[dict] | None, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    first_controller = ""
    for reference in references or []:
        api_version = reference.get("apiVersion") or ""
        version = api_version.rpartition("/")[2]
        if not version:
            errors.append(invalid(f"{field}.apiVersion", api_version, "version must not be empty"))
        if not reference.get("kind"):
            errors.append(invalid(f"{field}.kind", reference.get("kind") or "", "must not be empty"))
        if not reference.get("name"):
            errors.append(invalid(f"{field}.name", reference.get("name") or "", "must not be empty"))
        if not reference.get("uid"):
            errors.append(invalid(f"{field}.uid", reference.get("uid") or "", "must not be empty"))
        group = api_version.rpartition("/")[0]
        if (api_version, reference.get("kind")) in BANNED_OWNER_KINDS:
            gvk = f"{group}/{version}, Kind={reference.get('kind')}"
            errors.append(invalid(field, GoValue(json.dumps(reference, separators=(",", ":"))), f"{gvk} is disallowed from being an owner"))
        if reference.get("controller"):
            current = f"{reference.get('kind')}/{reference.get('name')}"
            if first_controller:
                errors.append(invalid(
                    field, GoValue(json.dumps(references, separators=(",", ":"))),
                    f'Only one reference can have Controller set to true. Found "true" in references for '
                    f"{first_controller} and {current}",
                ))
            else:
                first_controller = current
    return errors


# ---------------------------------------------------------------- object metadata


def validate_object_meta(
    meta: Mapping[str, Any] | None,
    *,
    namespaced: bool,
    validate_name: NameValidator = name_is_dns_subdomain,
    field: str = "metadata",
) -> list[FieldError]:
    """ValidateObjectMeta on create: name (or generateName), namespace, labels, annotations, owners."""
    meta = meta or {}
    errors: list[FieldError] = []
    generate_name = meta.get("generateName") or ""
    name = meta.get("name") or ""
    if generate_name:
        errors.extend(invalid(f"{field}.generateName", generate_name, message) for message in validate_name(generate_name, True))
    if not name:
        # The REST layer generates the name before validating; an unnamed object here had neither.
        if not generate_name:
            errors.append(required(f"{field}.name", "name or generateName is required"))
    else:
        errors.extend(invalid(f"{field}.name", name, message) for message in validate_name(name, False))
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errors.append(required(f"{field}.namespace"))
        else:
            errors.extend(invalid(f"{field}.namespace", namespace, message) for message in name_is_dns_label(namespace, False))
    elif namespace:
        errors.append(forbidden(f"{field}.namespace", "not allowed on this type"))
    errors.extend(validate_nonnegative(meta.get("generation"), f"{field}.generation"))
    errors.extend(validate_labels(meta.get("labels"), f"{field}.labels"))
    errors.extend(validate_annotations(meta.get("annotations"), f"{field}.annotations"))
    errors.extend(validate_owner_references(meta.get("ownerReferences"), f"{field}.ownerReferences"))
    errors.extend(validate_finalizers(meta.get("finalizers"), f"{field}.finalizers"))
    errors.extend(validate_kube_finalizer_names(meta.get("finalizers"), f"{field}.finalizers"))
    return errors


def validate_object_meta_update(
    new: Mapping[str, Any] | None, old: Mapping[str, Any] | None, *, field: str = "metadata"
) -> list[FieldError]:
    """ValidateObjectMetaUpdate: identity fields are immutable, and metadata stays well-formed.

    Takes the two objects' `metadata` maps. The resourceVersion requirement is left to
    the REST layer, which fills it from storage for unconditional updates (as Kubernetes' store does).
    """
    new, old = new or {}, old or {}
    errors: list[FieldError] = []
    if old.get("deletionTimestamp"):
        added = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if added:
            rendered = "[]string{" + ", ".join(go_quote(name) for name in added) + "}"
            errors.append(forbidden(
                f"{field}.finalizers",
                f"no new finalizers can be added if the object is being deleted, found new finalizers {rendered}",
            ))
    if (new.get("generation") or 0) < (old.get("generation") or 0):
        errors.append(invalid(f"{field}.generation", new.get("generation") or 0, "must not be decremented"))
    for name in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        shown = new.get(name)
        if name in ("name", "namespace", "uid"):
            shown = shown or ""
        errors.extend(validate_immutable(new.get(name) or None, old.get(name) or None, f"{field}.{name}", shown=_shown(shown)))
    errors.extend(validate_labels(new.get("labels"), f"{field}.labels"))
    errors.extend(validate_annotations(new.get("annotations"), f"{field}.annotations"))
    errors.extend(validate_owner_references(new.get("ownerReferences"), f"{field}.ownerReferences"))
    errors.extend(validate_finalizers(new.get("finalizers"), f"{field}.finalizers"))
    errors.extend(validate_kube_finalizer_names(new.get("finalizers"), f"{field}.finalizers"))
    return errors


def _shown(value: Any) -> Any:
    # An absent timestamp is Go's nil pointer: kubectl shows `null`.
    return GoValue("null") if value is None else value


# ---------------------------------------------------------------- label selectors

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(selector: Mapping[str, Any] | None, field: str) -> list[FieldError]:
    """metav1 ValidateLabelSelector (strict label values, as Deployments and ReplicaSets use it)."""
    if selector is None:
        return []
    errors = validate_labels(selector.get("matchLabels"), f"{field}.matchLabels")
    for index, requirement in enumerate(selector.get("matchExpressions") or []):
        path = f"{field}.matchExpressions[{index}]"
        operator = requirement.get("operator") or ""
        values = requirement.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                errors.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.append(forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errors.append(invalid(f"{path}.operator", operator, "not a valid selector operator"))
        errors.extend(validate_qualified_name(requirement.get("key") or "", f"{path}.key"))
        for value_index, value in enumerate(values):
            errors.extend(invalid(f"{path}.values[{value_index}]", value, message) for message in is_valid_label_value(value))
    return errors


def selector_is_usable(selector: Mapping[str, Any] | None) -> bool:
    """Whether metav1.LabelSelectorAsSelector would succeed (it rejects what validation rejects)."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if is_qualified_name(key) or not isinstance(value, str) or is_valid_label_value(value):
            return False
    for requirement in selector.get("matchExpressions") or []:
        operator = requirement.get("operator")
        values = requirement.get("values") or []
        if operator not in _SELECTOR_OPERATORS or is_qualified_name(requirement.get("key") or ""):
            return False
        if operator in ("In", "NotIn") and not values or operator in ("Exists", "DoesNotExist") and values:
            return False
        if any(is_valid_label_value(value) for value in values):
            return False
    return True


def selector_is_empty(selector: Mapping[str, Any] | None) -> bool:
    selector = selector or {}
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """LabelSelectorAsSelector(selector).Matches(labels); a nil selector matches nothing, an empty one everything."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator, values = requirement.get("key"), requirement.get("operator"), requirement.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
