"""A container's environment, as the kubelet's makeEnvironmentVariables builds it.

The Service variables (`<SVC>_SERVICE_HOST`...) come first, then `envFrom`
sources (in order, each key with its `prefix`), then `env` entries, each
overriding what came before. Values come from literals (with `$(VAR)` expanded
against the variables defined before), ConfigMap and Secret keys, the downward API
(`fieldRef`: metadata.name/namespace/uid/labels/annotations, spec.nodeName,
spec.serviceAccountName, status.podIP(s)/hostIP(s)) and `resourceFieldRef`.
`command` and `args` are expanded the same way. A reference that cannot be
resolved raises `EnvError` with Kubernetes' message, which the kubelet reports as
`CreateContainerConfigError`.

Pure: the caller fetches the ConfigMaps and Secrets named by `referenced_objects`
and passes them in (None for a missing one). Used by the pod workers
(podworker.py) and the downward-API volumes (volumes.py).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from orchestrator.api.quantity import parse_quantity

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SUBSCRIPTED_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class EnvError(Exception):
    """A variable cannot be resolved; the message is the one Kubernetes shows in the container's waiting state."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReferencedObjects:
    """The ConfigMaps and Secrets a container's environment needs (names in the pod's namespace)."""

    config_maps: frozenset[str] = field(default_factory=frozenset)
    secrets: frozenset[str] = field(default_factory=frozenset)


def referenced_objects(container: Mapping[str, Any]) -> ReferencedObjects:
    """Which ConfigMaps and Secrets `env`/`envFrom` of `container` read."""
    config_maps: set[str] = set()
    secrets: set[str] = set()
    for source in container.get("envFrom") or []:
        if source.get("configMapRef"):
            config_maps.add(source["configMapRef"].get("name") or "")
        if source.get("secretRef"):
            secrets.add(source["secretRef"].get("name") or "")
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") or {}
        if value_from.get("configMapKeyRef"):
            config_maps.add(value_from["configMapKeyRef"].get("name") or "")
        if value_from.get("secretKeyRef"):
            secrets.add(value_from["secretKeyRef"].get("name") or "")
    return ReferencedObjects(config_maps=frozenset(config_maps), secrets=frozenset(secrets))


def config_map_data(config_map: Mapping[str, Any]) -> dict[str, bytes]:
    """A ConfigMap's keys with their bytes: `data` as UTF-8, `binaryData` base64-decoded."""
    data = {key: str(value).encode() for key, value in (config_map.get("data") or {}).items()}
    for key, value in (config_map.get("binaryData") or {}).items():
        data[key] = base64.b64decode(value)
    return data


def secret_data(secret: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret's keys with their bytes (`data` is base64 on the wire; `stringData` is folded in by the apiserver)."""
    data = {key: base64.b64decode(value or "") for key, value in (secret.get("data") or {}).items()}
    for key, value in (secret.get("stringData") or {}).items():
        data[key] = str(value).encode()
    return data


def resolve_env(
    *,
    container: Mapping[str, Any],
    pod: Mapping[str, Any],
    config_maps: Mapping[str, Mapping[str, Any] | None],
    secrets: Mapping[str, Mapping[str, Any] | None],
    pod_ip: str | None,
    host_ip: str | None,
    node_allocatable: Mapping[str, str] | None = None,
    service_environment: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The container's environment; raises EnvError for an unresolvable reference.

    `service_environment` (the `<SVC>_SERVICE_HOST` variables) comes first, so the
    container's own variables override it and `$(VAR)` can refer to it.
    """
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    environment: dict[str, str] = dict(service_environment or {})
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        if source.get("configMapRef") is not None:
            reference = source["configMapRef"]
            config_map = config_maps.get(reference.get("name") or "")
            if config_map is None:
                if reference.get("optional"):
                    continue
                raise EnvError(f'configmap "{reference.get("name")}" not found')
            values = {key: value.decode(errors="replace") for key, value in config_map_data(config_map).items()}
        elif source.get("secretRef") is not None:
            reference = source["secretRef"]
            secret = secrets.get(reference.get("name") or "")
            if secret is None:
                if reference.get("optional"):
                    continue
                raise EnvError(f'secret "{reference.get("name")}" not found')
            values = {key: value.decode(errors="replace") for key, value in secret_data(secret).items()}
        else:
            continue
        for key, value in values.items():
            name = prefix + key
            # Kubernetes skips invalid names (with an event) rather than failing the container.
            if _ENV_NAME.match(name):
                environment[name] = value

    for variable in container.get("env") or []:
        name = variable.get("name") or ""
        value_from = variable.get("valueFrom")
        if value_from is None:
            environment[name] = expand(variable.get("value") or "", environment)
            continue
        value = _value_from(
            value_from,
            container=container,
            pod=pod,
            namespace=namespace,
            config_maps=config_maps,
            secrets=secrets,
            pod_ip=pod_ip,
            host_ip=host_ip,
            node_allocatable=node_allocatable or {},
        )
        if value is not None:
            environment[name] = value
    return environment


def _value_from(
    value_from: Mapping[str, Any],
    *,
    container: Mapping[str, Any],
    pod: Mapping[str, Any],
    namespace: str,
    config_maps: Mapping[str, Mapping[str, Any] | None],
    secrets: Mapping[str, Mapping[str, Any] | None],
    pod_ip: str | None,
    host_ip: str | None,
    node_allocatable: Mapping[str, str],
) -> str | None:
    """One `valueFrom`; None when an optional reference is missing (the variable is then left out)."""
    if value_from.get("configMapKeyRef") is not None:
        reference = value_from["configMapKeyRef"]
        name, key, optional = reference.get("name") or "", reference.get("key") or "", bool(reference.get("optional"))
        config_map = config_maps.get(name)
        if config_map is None:
            if optional:
                return None
            raise EnvError(f'configmap "{name}" not found')
        data = config_map_data(config_map)
        if key not in data:
            if optional:
                return None
            raise EnvError(f"couldn't find key {key} in ConfigMap {namespace}/{name}")
        return data[key].decode(errors="replace")
    if value_from.get("secretKeyRef") is not None:
        reference = value_from["secretKeyRef"]
        name, key, optional = reference.get("name") or "", reference.get("key") or "", bool(reference.get("optional"))
        secret = secrets.get(name)
        if secret is None:
            if optional:
                return None
            raise EnvError(f'secret "{name}" not found')
        data = secret_data(secret)
        if key not in data:
            if optional:
                return None
            raise EnvError(f"couldn't find key {key} in Secret {namespace}/{name}")
        return data[key].decode(errors="replace")
    if value_from.get("fieldRef") is not None:
        return field_ref_value(pod, value_from["fieldRef"].get("fieldPath") or "", pod_ip=pod_ip, host_ip=host_ip)
    if value_from.get("resourceFieldRef") is not None:
        return resource_field_value(container, value_from["resourceFieldRef"], node_allocatable=node_allocatable)
    return ""


def field_ref_value(pod: Mapping[str, Any], field_path: str, *, pod_ip: str | None, host_ip: str | None) -> str:
    """The downward API's value of `field_path` for `pod` (podutil's ExtractFieldPathAsString plus status fields)."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    subscripted = _SUBSCRIPTED_FIELD.match(field_path)
    if subscripted:
        kind, key = subscripted.groups()
        return str((metadata.get(kind) or {}).get(key, ""))
    simple_fields = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if field_path in simple_fields:
        return str(simple_fields[field_path] or "")
    if field_path in ("metadata.labels", "metadata.annotations"):
        return format_map(metadata.get(field_path.split(".")[1]) or {})
    raise EnvError(f"unsupported fieldPath: {field_path}")


def format_map(values: Mapping[str, str]) -> str:
    """fieldpath.FormatMap: sorted `key="value"` lines (labels and annotations in downward-API files)."""
    return "\n".join(f'{key}="{_go_quote_inner(str(values[key]))}"' for key in sorted(values))


def _go_quote_inner(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def resource_field_value(
    container: Mapping[str, Any], reference: Mapping[str, Any], *, node_allocatable: Mapping[str, str]
) -> str:
    """resource.ExtractContainerResourceValue: a limit or request divided by the divisor, rounded up.

    A limit the container does not set is the node's allocatable amount, as in Kubernetes.
    """
    resource = reference.get("resource") or ""
    resources = container.get("resources") or {}
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise EnvError(f"unsupported container resource : {resource}")
    amount_text = (resources.get(kind) or {}).get(name)
    if amount_text is None and kind == "requests":
        amount_text = (resources.get("limits") or {}).get(name)
    if amount_text is None:
        amount_text = node_allocatable.get(name, "0")
    divisor_text = reference.get("divisor") or "1"
    amount = parse_quantity(amount_text)
    divisor = parse_quantity(divisor_text)
    if divisor == 0:
        divisor = Decimal(1)
    return str(math.ceil(amount / divisor))


def expand(text: str, environment: Mapping[str, str]) -> str:
    """Kubernetes' expansion.Expand: `$(NAME)` becomes its value when defined, `$$` is a literal `$`.

    An undefined reference stays as written, exactly like the kubelet leaves it.
    """
    if "$" not in text:
        return text
    output: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            output.append(text[checkpoint:cursor])
            read, is_variable, advance = _read_variable_name(text[cursor + 1 :])
            if is_variable:
                output.append(environment[read] if read in environment else f"$({read})")
            else:
                output.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(output) + text[checkpoint:]


def _read_variable_name(rest: str) -> tuple[str, bool, int]:
    if rest[0] == "$":
        return "$", False, 1
    if rest[0] == "(":
        closing = rest.find(")", 1)
        if closing >= 0:
            return rest[1:closing], True, closing + 1
        return "$(", False, 1
    return "$" + rest[0], False, 1


def expand_command(
    container: Mapping[str, Any], environment: Mapping[str, str]
) -> tuple[list[str] | None, list[str] | None]:
    """`command` and `args` with `$(VAR)` references expanded (None when the spec leaves them unset)."""
    command = container.get("command")
    args = container.get("args")
    return (
        [expand(part, environment) for part in command] if command else None,
        [expand(part, environment) for part in args] if args else None,
    )
