"""Strategy for apiextensions.k8s.io/v1 CustomResourceDefinition: defaulting and validation of the CRD itself.

Mirrors k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation (v1.32), the parts
a user meets: the name is `<plural>.<group>`, the group a domain with a dot, names that are
DNS labels, a known scope, versions with unique DNS-1035 names and exactly one storage
version, a structural schema per version (root of type object, every specified property
typed), printer columns with a name, a known type and a JSONPath, scale paths under
`.spec` / `.status`; group, scope and the plural... as Kubernetes, group and scope are immutable.
Defaults: singular and listKind from kind, conversion strategy None.

Used through STRATEGIES (strategies/__init__.py) by the generic REST handler.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.api.errors import FieldError, duplicate, invalid, not_supported, required
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import FIELD_IMMUTABLE, go_string_slice, validate_kube_finalizer_names

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL_MESSAGE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
                          "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
                          "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_DNS1035_LABEL_MESSAGE = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                          "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                          "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
SCOPES = ["Cluster", "Namespaced"]
COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"]
SCHEMA_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
_SIMPLE_JSON_PATH = re.compile(r"^(\.[A-Za-z0-9_-]+|\[\d+\]|\[\?\(.*\)\]|\['[^']*'\])+$")


def without_kube_finalizer_rule(errors: list[FieldError], obj: dict) -> list[FieldError]:
    """apiextensions (CRDs and custom resources) validates metadata with apimachinery's ValidateObjectMeta, which
    does not have core's rule that an unqualified finalizer be a standard one: drop what that rule found."""
    kube_only = validate_kube_finalizer_names((obj.get("metadata") or {}).get("finalizers"), "metadata.finalizers")
    return [error for error in errors if error not in kube_only]


def _label_errors(value: Any, field: str, *, dns1035: bool = False) -> list[FieldError]:
    if not value:
        return [required(field)]
    pattern, message = (_DNS1035_LABEL, _DNS1035_LABEL_MESSAGE) if dns1035 else (_DNS1123_LABEL, _DNS1123_LABEL_MESSAGE)
    return [] if isinstance(value, str) and pattern.match(value) else [invalid(field, value, message)]


def _kind_errors(value: Any, field: str) -> list[FieldError]:
    if not value:
        return [required(field)]
    if not isinstance(value, str) or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", value):
        return [invalid(field, value, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?")]
    return []


def validate_structural(schema: Any, field: str, *, root: bool = False) -> list[FieldError]:
    """The structural-schema rules a user meets: typed nodes, the root an object, known types."""
    if not isinstance(schema, dict):
        return [invalid(field, schema, "must be an object")]
    errors: list[FieldError] = []
    schema_type = schema.get("type")
    preserves = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string")
    if root and schema_type != "object" and not preserves:
        errors.append(not_supported(f"{field}.type", schema_type or "", ["object"]) if schema_type
                      else required(f"{field}.type", "must not be empty at the root"))
    elif schema_type is None and not preserves and not root:
        errors.append(required(f"{field}.type", "must not be empty for specified object fields"
                               if "properties" in schema else "must not be empty for specified array items"
                               if "items" in schema else "must not be empty for specified fields"))
    elif schema_type is not None and schema_type not in SCHEMA_TYPES:
        errors.append(not_supported(f"{field}.type", schema_type, SCHEMA_TYPES))
    if isinstance(schema.get("pattern"), str):
        try:
            re.compile(schema["pattern"])
        except re.error as error:
            errors.append(invalid(f"{field}.pattern", schema["pattern"],
                                  f"must be a valid regular expression, but isn't: {error}"))
    if schema_type == "array" and "items" not in schema:
        errors.append(required(f"{field}.items", "must be specified"))
    for name, member in (schema.get("properties") or {}).items():
        errors += validate_structural(member, f"{field}.properties[{name}]")
    if isinstance(schema.get("items"), dict):
        errors += validate_structural(schema["items"], f"{field}.items")
    if isinstance(schema.get("additionalProperties"), dict):
        errors += validate_structural(schema["additionalProperties"], f"{field}.additionalProperties")
    if schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        errors.append(forbidden_both(field))
    return errors


def forbidden_both(field: str) -> FieldError:
    return FieldError(f"{field}.additionalProperties", "Forbidden", detail="additionalProperties and properties are "
                      "mutual exclusive")


def _version_errors(version: dict, field: str, *, has_schema_required: bool = True) -> list[FieldError]:
    errors = _label_errors(version.get("name"), f"{field}.name", dns1035=True)
    schema = (version.get("schema") or {}).get("openAPIV3Schema")
    if schema is None:
        if has_schema_required:
            errors.append(required(f"{field}.schema.openAPIV3Schema", "schemas are required"))
    else:
        errors += validate_structural(schema, f"{field}.schema.openAPIV3Schema", root=True)
    for index, column in enumerate(version.get("additionalPrinterColumns") or ()):
        column_field = f"{field}.additionalPrinterColumns[{index}]"
        if not column.get("name"):
            errors.append(required(f"{column_field}.name"))
        if column.get("type") not in COLUMN_TYPES:
            errors.append(not_supported(f"{column_field}.type", column.get("type") or "", COLUMN_TYPES)
                          if column.get("type") else required(f"{column_field}.type"))
        if not column.get("jsonPath"):
            errors.append(required(f"{column_field}.jsonPath"))
        elif not _SIMPLE_JSON_PATH.match(column["jsonPath"]):
            errors.append(invalid(f"{column_field}.jsonPath", column["jsonPath"], "must be a simple json path"))
    selectable = version.get("selectableFields") or []
    if len(selectable) > 8:
        errors.append(invalid(f"{field}.selectableFields", len(selectable), "must have at most 8 items"))
    for index, selectable_field in enumerate(selectable):
        if not selectable_field.get("jsonPath"):
            errors.append(required(f"{field}.selectableFields[{index}].jsonPath"))
    scale = (version.get("subresources") or {}).get("scale")
    if scale is not None:
        scale_field = f"{field}.subresources.scale"
        for key, prefix in (("specReplicasPath", ".spec."), ("statusReplicasPath", ".status.")):
            path = scale.get(key)
            if not path:
                errors.append(required(f"{scale_field}.{key}"))
            elif not path.startswith(prefix):
                errors.append(invalid(f"{scale_field}.{key}", path, f"should be a json path under {prefix.rstrip('.')}"))
        selector = scale.get("labelSelectorPath")
        if selector and not selector.startswith((".spec.", ".status.")):
            errors.append(invalid(f"{scale_field}.labelSelectorPath", selector,
                                  "should be a json path under either .spec or .status"))
    return errors


class CustomResourceDefinitionStrategy(Strategy):
    kind = "CustomResourceDefinition"
    namespaced = False
    has_status = True

    def default(self, crd: dict) -> None:
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            return
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", f"{names['kind']}List")
        spec.setdefault("conversion", {"strategy": "None"})

    def validate(self, crd: dict) -> list[FieldError]:
        errors = without_kube_finalizer_rule(self.validate_metadata(crd), crd)
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group")
        name = (crd.get("metadata") or {}).get("name")
        if name and names.get("plural") and group and name != f"{names['plural']}.{group}":
            errors.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
        if not group:
            errors.append(required("spec.group"))
        elif not _DNS1123_SUBDOMAIN.match(group) or "." not in group:
            errors.append(invalid("spec.group", group, "should be a domain with at least one dot"))
        scope = spec.get("scope")
        if not scope:
            errors.append(required("spec.scope"))
        elif scope not in SCOPES:
            errors.append(not_supported("spec.scope", scope, SCOPES))
        errors += _label_errors(names.get("plural"), "spec.names.plural")
        if names.get("singular"):
            errors += _label_errors(names["singular"], "spec.names.singular")
        errors += _kind_errors(names.get("kind"), "spec.names.kind")
        if names.get("listKind"):
            errors += _kind_errors(names["listKind"], "spec.names.listKind")
            if names["listKind"] == names.get("kind"):
                errors.append(invalid("spec.names.listKind", names["listKind"], "kind and listKind may not be the same"))
        for index, short_name in enumerate(names.get("shortNames") or ()):
            errors += _label_errors(short_name, f"spec.names.shortNames[{index}]")
        versions = spec.get("versions") or []
        if not versions:
            errors.append(required("spec.versions", "must have exactly one version marked as storage version"))
        else:
            seen: set[str] = set()
            for index, version in enumerate(versions):
                errors += _version_errors(version, f"spec.versions[{index}]")
                if version.get("name") in seen:
                    errors.append(duplicate(f"spec.versions[{index}].name", version.get("name")))
                seen.add(version.get("name"))
            storage = [v for v in versions if v.get("storage")]
            if len(storage) != 1:
                errors.append(invalid("spec.versions", go_string_slice([v.get("name") for v in versions]),
                                      "must have exactly one version marked as storage version"))
            if not any(v.get("served") for v in versions):
                errors.append(invalid("spec.versions", go_string_slice([v.get("name") for v in versions]),
                                      "must have at least one served version"))
        conversion = spec.get("conversion") or {}
        if conversion.get("strategy") not in (None, "None", "Webhook"):
            errors.append(not_supported("spec.conversion.strategy", conversion.get("strategy"), ["None", "Webhook"]))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate(new) + [error for error in without_kube_finalizer_rule(
            self.validate_metadata_update(new, old), new) if error not in self.validate_metadata(new)]
        new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        for key in ("group", "scope"):
            if new_spec.get(key) != old_spec.get(key):
                errors.append(invalid(f"spec.{key}", new_spec.get(key), FIELD_IMMUTABLE))
        return errors
