"""Defaulting and validation of a PodSpec, shared by Pods and by pod templates.

Mirrors pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec, _Container, _Probe, ...) and
the PodSpec half of pkg/apis/core/validation/validation.go (ValidatePodSpec,
ValidatePodTemplateSpec), with Kubernetes' field paths and messages. The Pod strategy
adds what applies only to real pods (SetDefaults_Pod, ValidatePodUpdate); the
Deployment and ReplicaSet strategies validate `spec.template` through
`validate_pod_template_spec`.

Everything works on wire-form dicts (camelCase keys), mutating in place for defaults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orchestrator.api.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from orchestrator.api.names import (
    inclusive_range_error,
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_http_header_name,
    is_qualified_name,
    is_relaxed_env_var_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns_subdomain,
)
from orchestrator.api.quantity import canonical_quantity, parse_quantity
from orchestrator.apiserver.strategies.meta import (
    IS_NEGATIVE,
    GoValue,
    go_string_map,
    go_string_slice,
    validate_annotations,
    validate_labels,
    validate_nonnegative,
    validate_qualified_name,
)

MAX_INT32 = 2**31 - 1
DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH_DEFAULT = "/dev/termination-log"
VOLUME_SOURCE_DEFAULT_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]  # sorted, as sets.List prints them
TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"]
HTTP_SCHEMES = ["HTTP", "HTTPS"]
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"]
PREEMPTION_POLICIES = ["PreemptLowerPriority", "Never"]
SECCOMP_PROFILE_TYPES = ["Localhost", "RuntimeDefault", "Unconfined"]

# Every VolumeSource member, in the order Kubernetes checks them ("may not specify more than 1 volume type").
VOLUME_SOURCE_TYPES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte", "downwardAPI", "fc",
    "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk",
    "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)
# Kubernetes names a few of them differently in the "more than 1" error than on the wire.
_VOLUME_TYPE_ERROR_NAMES = {"cephfs": "cephFS", "downwardAPI": "downwarAPI"}

ENV_FIELD_PATHS = sorted([
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
])
CONTAINER_RESOURCE_FIELD_PATHS = sorted([
    "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    "requests.cpu", "requests.memory", "requests.ephemeral-storage",
])
_SUBSCRIPTED_FIELD_PATH = re.compile(r"^(metadata\.(?:labels|annotations))\['(.*)'\]$")

STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
# pkg/apis/core/helper: standardResources (what may appear unqualified anywhere).
STANDARD_RESOURCES = {
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services", "replicationcontrollers",
    "resourcequotas", "secrets", "persistentvolumeclaims", "configmaps", "requests.storage",
    "services.nodeports", "services.loadbalancers", "storage",
}

UPDATABLE_POD_SPEC_FIELDS = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
]


def _is_unset(value: Any) -> bool:
    return value is None or value == ""


def _set_default(obj: dict, key: str, value: Any) -> None:
    """Fill a Go string or pointer field that the client left empty."""
    if _is_unset(obj.get(key)):
        obj[key] = value


def _set_default_nonzero(obj: dict, key: str, value: Any) -> None:
    """Fill a Go integer field that is zero (Kubernetes cannot tell zero from unset there)."""
    if not obj.get(key):
        obj[key] = value


def all_containers(spec: Mapping[str, Any]) -> list[dict]:
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


# ================================================================ defaulting


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and everything nested in it (containers, probes, volumes)."""
    _set_default(spec, "dnsPolicy", "ClusterFirst")
    _set_default(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    _set_default(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    mirror_service_account(spec)
    for container in spec.get("containers") or []:
        default_container(container)
    for container in spec.get("initContainers") or []:
        default_container(container)
    for container in spec.get("ephemeralContainers") or []:
        default_container(container)
    for volume in spec.get("volumes") or []:
        default_volume(volume)


def default_template(spec: dict) -> None:
    """The pod defaults inside a workload's `spec.template` (the template and its pod spec are structs in
    Go: they are defaulted even when absent)."""
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    pod_spec = template.get("spec")
    if pod_spec is None:
        pod_spec = template["spec"] = {}
    default_pod_spec(pod_spec)


def mirror_service_account(spec: dict) -> None:
    """v1 conversion: the deprecated `serviceAccount` stands in for an empty `serviceAccountName`, and echoes it."""
    name = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if name:
        spec["serviceAccountName"] = spec["serviceAccount"] = name


def default_container(container: dict) -> None:
    if _is_unset(container.get("imagePullPolicy")):
        container["imagePullPolicy"] = "Always" if image_tag(container.get("image") or "") == "latest" else "IfNotPresent"
    _set_default(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH_DEFAULT)
    _set_default(container, "terminationMessagePolicy", "File")
    # Resources is a struct, not a pointer, in Go: Kubernetes always returns `resources: {}`.
    if container.get("resources") is None:
        container["resources"] = {}
    for list_name in ("requests", "limits"):
        canonicalize_resource_list(container["resources"].get(list_name))
    for port in container.get("ports") or []:
        _set_default(port, "protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        if container.get(probe_name) is not None:
            default_probe(container[probe_name])
    lifecycle = container.get("lifecycle") or {}
    for hook_name in ("postStart", "preStop"):
        http_get = (lifecycle.get(hook_name) or {}).get("httpGet")
        if http_get is not None:
            default_http_get(http_get)
    for env_var in container.get("env") or []:
        field_ref = (env_var.get("valueFrom") or {}).get("fieldRef")
        if field_ref is not None:
            _set_default(field_ref, "apiVersion", "v1")


def canonicalize_resource_list(resources: dict | None) -> None:
    """SetDefaults_ResourceList: round up to millis, and store Kubernetes' spelling ("0.5" -> "500m")."""
    for name, value in list((resources or {}).items()):
        try:
            resources[name] = canonical_quantity(value, round_up_to_milli=True)
        except ValueError:
            pass  # left as sent: validation reports it with the field path


def default_probe(probe: dict) -> None:
    _set_default_nonzero(probe, "timeoutSeconds", 1)
    _set_default_nonzero(probe, "periodSeconds", 10)
    _set_default_nonzero(probe, "successThreshold", 1)
    _set_default_nonzero(probe, "failureThreshold", 3)
    if probe.get("httpGet") is not None:
        default_http_get(probe["httpGet"])


def default_http_get(action: dict) -> None:
    _set_default(action, "path", "/")
    _set_default(action, "scheme", "HTTP")


def default_volume(volume: dict) -> None:
    if not any(volume.get(source) is not None for source in VOLUME_SOURCE_TYPES):
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if volume.get(source) is not None and volume[source].get("defaultMode") is None:
            volume[source]["defaultMode"] = VOLUME_SOURCE_DEFAULT_MODE
    if volume.get("hostPath") is not None and volume["hostPath"].get("type") is None:
        volume["hostPath"]["type"] = ""
    for projection in (volume.get("projected") or {}).get("sources") or []:
        token = projection.get("serviceAccountToken")
        if token is not None and token.get("expirationSeconds") is None:
            token["expirationSeconds"] = 3600
        downward = projection.get("downwardAPI") or {}
        for item in downward.get("items") or []:
            if item.get("fieldRef") is not None:
                _set_default(item["fieldRef"], "apiVersion", "v1")
    for item in (volume.get("downwardAPI") or {}).get("items") or []:
        if item.get("fieldRef") is not None:
            _set_default(item["fieldRef"], "apiVersion", "v1")


def default_pod_only_fields(pod: dict) -> None:
    """SetDefaults_Pod: what a Pod gets and a pod template does not."""
    spec = pod.setdefault("spec", {})
    for container in all_containers(spec):
        resources = container.setdefault("resources", {})
        limits = resources.get("limits")
        if limits is not None:
            requests = resources.setdefault("requests", {})
            if requests is None:
                requests = resources["requests"] = {}
            for name, value in limits.items():
                requests.setdefault(name, value)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for container in all_containers(spec):
            for port in container.get("ports") or []:
                if not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")


# docker/distribution's reference grammar, used by Kubernetes' parsers.ParseImageName.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


def image_tag(image: str) -> str:
    """The image's tag: "latest" when it has neither tag nor digest, "" when it does not parse."""
    match = _IMAGE_REFERENCE.fullmatch(image)
    if match is None or len(match.group("name")) > 255:
        return ""
    if match.group("tag"):
        return match.group("tag")
    return "" if match.group("digest") else "latest"


# ================================================================ QoS


def compute_pod_qos(spec: Mapping[str, Any]) -> str:
    """qos.ComputePodQOS over containers and init containers, requests defaulted from limits."""
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for container in all_containers(spec):
        resources = container.get("resources") or {}
        container_limits = resources.get("limits") or {}
        container_requests = {**container_limits, **(resources.get("requests") or {})}
        for name, value in container_requests.items():
            amount = _positive_amount(name, value)
            if amount is not None:
                requests[name] = requests.get(name, Decimal(0)) + amount
        limits_found = set()
        for name, value in container_limits.items():
            amount = _positive_amount(name, value)
            if amount is not None:
                limits_found.add(name)
                limits[name] = limits.get(name, Decimal(0)) + amount
        if not {"cpu", "memory"} <= limits_found:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(name in limits and limits[name] == amount for name, amount in requests.items()):
        if len(requests) == len(limits):
            return "Guaranteed"
    return "Burstable"


def _positive_amount(name: str, value: Any) -> Decimal | None:
    if name not in ("cpu", "memory"):
        return None
    try:
        amount = parse_quantity(value)
    except ValueError:
        return None
    return amount if amount > 0 else None


# ================================================================ validation


def validate_pod_template_spec(template: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    """ValidatePodTemplateSpec: the template's labels and annotations, then its pod spec."""
    template = template or {}
    metadata = template.get("metadata") or {}
    spec = template.get("spec") or {}
    errors = validate_labels(metadata.get("labels"), f"{path}.labels")
    errors += validate_annotations(metadata.get("annotations"), f"{path}.annotations")
    errors += validate_pod_spec(spec, f"{path}.spec", is_pod=False)
    if spec.get("ephemeralContainers"):
        errors.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return errors


def validate_pod_spec(spec: Mapping[str, Any], path: str, *, is_pod: bool) -> list[FieldError]:
    """ValidatePodSpec. `is_pod` is Kubernetes' opts.ResourceIsPod (stricter host ports)."""
    errors: list[FieldError] = []
    grace_period = spec.get("terminationGracePeriodSeconds")
    if grace_period is None:
        errors.append(required(f"{path}.terminationGracePeriodSeconds"))
    volume_names, volume_errors = validate_volumes(spec.get("volumes") or [], f"{path}.volumes")
    errors += volume_errors
    restart_policy = spec.get("restartPolicy") or ""
    errors += validate_containers(spec.get("containers") or [], volume_names, f"{path}.containers", grace_period=grace_period)
    errors += validate_init_containers(spec, volume_names, f"{path}.initContainers", grace_period=grace_period)
    errors += _validate_host_network_ports(spec, path, is_pod=is_pod)
    errors += _validate_choice(restart_policy, RESTART_POLICIES, f"{path}.restartPolicy")
    errors += _validate_choice(spec.get("dnsPolicy") or "", DNS_POLICIES, f"{path}.dnsPolicy")
    errors += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    errors += validate_pod_security_context(spec.get("securityContext"), f"{path}.securityContext")
    errors += _validate_image_pull_secrets(spec.get("imagePullSecrets") or [], f"{path}.imagePullSecrets")
    errors += _validate_dns_config(spec, f"{path}.dnsConfig")
    for index, gate in enumerate(spec.get("readinessGates") or []):
        errors += validate_qualified_name(gate.get("conditionType") or "", f"{path}.readinessGates[{index}].conditionType")
    errors += _validate_scheduling_gates(spec.get("schedulingGates") or [], f"{path}.schedulingGates")
    for key in ("serviceAccountName", "nodeName", "priorityClassName"):
        value = spec.get(key)
        if value:
            errors += [invalid(f"{path}.{key}", value, message) for message in name_is_dns_subdomain(value, False)]
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errors.append(invalid(f"{path}.activeDeadlineSeconds", deadline, inclusive_range_error(1, MAX_INT32)))
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errors += [invalid(f"{path}.{key}", spec[key], message) for message in is_dns1123_label(spec[key])]
    errors += validate_tolerations(spec.get("tolerations") or [], f"{path}.tolerations")
    for index, alias in enumerate(spec.get("hostAliases") or []):
        alias_path = f"{path}.hostAliases[{index}]"
        errors += [invalid(f"{alias_path}.ip", alias.get("ip") or "", message) for message in is_valid_ip(alias.get("ip") or "")]
        for host_index, hostname in enumerate(alias.get("hostnames") or []):
            errors += [invalid(f"{alias_path}.hostnames[{host_index}]", hostname, message)
                       for message in is_dns1123_subdomain(hostname)]
    if spec.get("runtimeClassName") is not None:
        name = spec["runtimeClassName"]
        errors += [invalid(f"{path}.runtimeClassName", name, message) for message in name_is_dns_subdomain(name, False)]
    if spec.get("preemptionPolicy") is not None:
        errors += _validate_choice(spec["preemptionPolicy"], PREEMPTION_POLICIES, f"{path}.preemptionPolicy")
    if spec.get("overhead") is not None:
        errors += validate_resource_requirements({"limits": spec["overhead"]}, f"{path}.overhead")
    os_spec = spec.get("os")
    if os_spec is not None:
        if not os_spec.get("name"):
            errors.append(required(f"{path}.os.name", "cannot be empty"))
        elif os_spec["name"] not in ("linux", "windows"):
            errors.append(not_supported(f"{path}.os", os_spec["name"], ["linux", "windows"]))
    return errors


def _validate_choice(value: str, supported: list[str], path: str) -> list[FieldError]:
    if value == "":
        return [required(path)]
    if value not in supported:
        return [not_supported(path, value, supported)]
    return []


# ---------------------------------------------------------------- volumes


def validate_volumes(volumes: list[dict], path: str) -> tuple[set[str], list[FieldError]]:
    """ValidateVolumes: the names the containers may mount, and the errors."""
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, volume in enumerate(volumes):
        volume_path = f"{path}[{index}]"
        name = volume.get("name") or ""
        volume_errors = _validate_volume_source(volume, volume_path)
        if not name:
            volume_errors.append(required(f"{volume_path}.name"))
        else:
            volume_errors += [invalid(f"{volume_path}.name", name, message) for message in is_dns1123_label(name)]
        if name in names:
            volume_errors.append(duplicate(f"{volume_path}.name", name))
        if volume_errors:
            errors += volume_errors
        else:
            names.add(name)
    return names, errors


def _validate_volume_source(volume: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    count = 0
    for source in VOLUME_SOURCE_TYPES:
        if volume.get(source) is None:
            continue
        if count:
            errors.append(forbidden(f"{path}.{_VOLUME_TYPE_ERROR_NAMES.get(source, source)}", "may not specify more than 1 volume type"))
            continue
        count += 1
        errors += _validate_one_volume_source(source, volume[source], f"{path}.{source}")
    if count == 0:
        errors.append(required(path, "must specify a volume type"))
    return errors


def _validate_one_volume_source(source: str, value: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if source == "emptyDir":
        size_limit = value.get("sizeLimit")
        if size_limit is not None and _quantity_or_none(size_limit) is not None and parse_quantity(size_limit) < 0:
            errors.append(forbidden(f"{path}.sizeLimit", "SizeLimit field must be a valid resource quantity"))
    elif source == "hostPath":
        host_path = value.get("path") or ""
        if not host_path:
            return [required(f"{path}.path")]
        errors += _validate_no_backsteps(host_path, f"{path}.path")
        host_path_type = value.get("type")
        if host_path_type is not None and host_path_type not in HOST_PATH_TYPES:
            errors.append(not_supported(f"{path}.type", host_path_type, HOST_PATH_TYPES))
    elif source in ("secret", "configMap"):
        name_key = "secretName" if source == "secret" else "name"
        if not value.get(name_key):
            errors.append(required(f"{path}.{name_key}"))
        errors += _validate_file_mode(value.get("defaultMode"), f"{path}.defaultMode")
        for index, item in enumerate(value.get("items") or []):
            errors += _validate_key_to_path(item, f"{path}.items[{index}]")
    elif source == "persistentVolumeClaim":
        if not value.get("claimName"):
            errors.append(required(f"{path}.claimName"))
    elif source in ("downwardAPI", "projected"):
        errors += _validate_file_mode(value.get("defaultMode"), f"{path}.defaultMode")
    return errors


_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"


def _validate_file_mode(mode: Any, path: str) -> list[FieldError]:
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path, mode, _FILE_MODE_ERROR)]
    return []


def _validate_key_to_path(item: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not item.get("key"):
        errors.append(required(f"{path}.key"))
    target = item.get("path") or ""
    if not target:
        errors.append(required(f"{path}.path"))
    errors += _validate_local_non_reserved_path(target, f"{path}.path")
    errors += _validate_file_mode(item.get("mode"), f"{path}.mode")
    return errors


def _validate_no_backsteps(target: str, path: str) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def _validate_local_descending_path(target: str, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if target.startswith("/"):
        errors.append(invalid(path, target, "must be a relative path"))
    return errors + _validate_no_backsteps(target, path)


def _validate_local_non_reserved_path(target: str, path: str) -> list[FieldError]:
    errors = _validate_local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errors.append(invalid(path, target, "must not start with '..'"))
    return errors


# ---------------------------------------------------------------- containers


def validate_containers(containers: list[dict], volume_names: set[str], path: str, *, grace_period: Any) -> list[FieldError]:
    """validateContainers: the regular containers, at least one, uniquely named."""
    if not containers:
        return [required(path)]
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, container in enumerate(containers):
        container_path = f"{path}[{index}]"
        errors += validate_container_common(container, volume_names, container_path)
        name = container.get("name") or ""
        if name in names:
            errors.append(duplicate(f"{container_path}.name", name))
        else:
            names.add(name)
        if container.get("lifecycle") is not None:
            errors += _validate_lifecycle(container["lifecycle"], f"{container_path}.lifecycle", grace_period=grace_period)
        errors += _validate_probe(container.get("livenessProbe"), f"{container_path}.livenessProbe", kind="liveness")
        errors += _validate_probe(container.get("readinessProbe"), f"{container_path}.readinessProbe", kind="readiness")
        errors += _validate_probe(container.get("startupProbe"), f"{container_path}.startupProbe", kind="startup")
        if container.get("restartPolicy") is not None:
            errors.append(forbidden(f"{container_path}.restartPolicy", "may not be set for non-init containers"))
    return errors + _validate_host_port_conflicts(containers, path)


def validate_init_containers(spec: Mapping[str, Any], volume_names: set[str], path: str, *, grace_period: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    names = {container.get("name") or "" for container in spec.get("containers") or []}
    for index, container in enumerate(spec.get("initContainers") or []):
        container_path = f"{path}[{index}]"
        errors += validate_container_common(container, volume_names, container_path)
        restart_always = False
        if container.get("restartPolicy") is not None:
            if container["restartPolicy"] != "Always":
                errors.append(not_supported(f"{container_path}.restartPolicy", container["restartPolicy"], ["Always"]))
            restart_always = container["restartPolicy"] == "Always"
        name = container.get("name") or ""
        if name in names:
            errors.append(duplicate(f"{container_path}.name", name))
        elif name:
            names.add(name)
        errors += _validate_host_port_conflicts([container], path)
        if restart_always:
            if container.get("lifecycle") is not None:
                errors += _validate_lifecycle(container["lifecycle"], f"{container_path}.lifecycle", grace_period=grace_period)
            errors += _validate_probe(container.get("livenessProbe"), f"{container_path}.livenessProbe", kind="liveness")
            errors += _validate_probe(container.get("readinessProbe"), f"{container_path}.readinessProbe", kind="readiness")
            errors += _validate_probe(container.get("startupProbe"), f"{container_path}.startupProbe", kind="startup")
        else:
            for field_name in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(field_name) is not None:
                    errors.append(forbidden(f"{container_path}.{field_name}",
                                            "may not be set for init containers without restartPolicy=Always"))
    return errors


def validate_container_common(container: Mapping[str, Any], volume_names: set[str], path: str) -> list[FieldError]:
    """validateContainerCommon: what every kind of container must satisfy."""
    errors: list[FieldError] = []
    name = container.get("name") or ""
    if not name:
        errors.append(required(f"{path}.name"))
    else:
        errors += [invalid(f"{path}.name", name, message) for message in is_dns1123_label(name)]
    if not container.get("image"):
        errors.append(required(f"{path}.image"))
    errors += _validate_choice(container.get("terminationMessagePolicy") or "", TERMINATION_MESSAGE_POLICIES,
                               f"{path}.terminationMessagePolicy")
    errors += validate_container_ports(container.get("ports") or [], f"{path}.ports")
    errors += validate_env(container.get("env") or [], f"{path}.env")
    errors += validate_env_from(container.get("envFrom") or [], f"{path}.envFrom")
    errors += validate_volume_mounts(container.get("volumeMounts") or [], volume_names, f"{path}.volumeMounts")
    errors += _validate_choice(container.get("imagePullPolicy") or "", PULL_POLICIES, f"{path}.imagePullPolicy")
    errors += validate_resource_requirements(container.get("resources") or {}, f"{path}.resources", for_container=True)
    errors += validate_security_context(container.get("securityContext"), f"{path}.securityContext")
    return errors


def validate_containers_only_for_pod(containers: list[dict], path: str) -> list[FieldError]:
    """validateContainersOnlyForPod: a real pod's image may not carry surrounding spaces."""
    errors: list[FieldError] = []
    for index, container in enumerate(containers):
        image = container.get("image") or ""
        if image != image.strip():
            errors.append(invalid(f"{path}[{index}].image", image, "must not have leading or trailing whitespace"))
    return errors


def validate_container_ports(ports: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, port in enumerate(ports):
        port_path = f"{path}[{index}]"
        name = port.get("name") or ""
        if name:
            messages = is_valid_port_name(name)
            if messages:
                errors += [invalid(f"{port_path}.name", name, message) for message in messages]
            elif name in names:
                errors.append(duplicate(f"{port_path}.name", name))
            else:
                names.add(name)
        container_port = port.get("containerPort") or 0
        if container_port == 0:
            errors.append(required(f"{port_path}.containerPort"))
        else:
            errors += [invalid(f"{port_path}.containerPort", container_port, message)
                       for message in is_valid_port_num(container_port)]
        host_port = port.get("hostPort") or 0
        if host_port:
            errors += [invalid(f"{port_path}.hostPort", host_port, message) for message in is_valid_port_num(host_port)]
        protocol = port.get("protocol") or ""
        if not protocol:
            errors.append(required(f"{port_path}.protocol"))
        elif protocol not in PORT_PROTOCOLS:
            errors.append(not_supported(f"{port_path}.protocol", protocol, PORT_PROTOCOLS))
    return errors


def _validate_host_port_conflicts(containers: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for container_index, container in enumerate(containers):
        for port_index, port in enumerate(container.get("ports") or []):
            if not port.get("hostPort"):
                continue
            key = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{port['hostPort']}"
            if key in seen:
                errors.append(duplicate(f"{path}[{container_index}].ports[{port_index}].hostPort", key))
            seen.add(key)
    return errors


def _validate_host_network_ports(spec: Mapping[str, Any], path: str, *, is_pod: bool) -> list[FieldError]:
    """With hostNetwork a hostPort must equal its containerPort (a template may leave it 0)."""
    if not spec.get("hostNetwork"):
        return []
    errors: list[FieldError] = []
    for container_index, container in enumerate(spec.get("containers") or []):
        for port_index, port in enumerate(container.get("ports") or []):
            host_port, container_port = port.get("hostPort") or 0, port.get("containerPort") or 0
            if (is_pod or host_port != 0) and host_port != container_port:
                errors.append(invalid(f"{path}.containers[{container_index}].ports[{port_index}].hostPort", host_port,
                                      "must match `containerPort` when `hostNetwork` is true"))
    return errors


# ---------------------------------------------------------------- env


def validate_env(env: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, env_var in enumerate(env):
        env_path = f"{path}[{index}]"
        name = env_var.get("name") or ""
        if not name:
            errors.append(required(f"{env_path}.name"))
        else:
            errors += [invalid(f"{env_path}.name", name, message) for message in is_relaxed_env_var_name(name)]
        errors += _validate_env_value_from(env_var, f"{env_path}.valueFrom")
    return errors


def _validate_env_value_from(env_var: Mapping[str, Any], path: str) -> list[FieldError]:
    value_from = env_var.get("valueFrom")
    if value_from is None:
        return []
    errors: list[FieldError] = []
    sources = 0
    if value_from.get("fieldRef") is not None:
        sources += 1
        errors += _validate_field_selector(value_from["fieldRef"], f"{path}.fieldRef")
    if value_from.get("resourceFieldRef") is not None:
        sources += 1
        resource = value_from["resourceFieldRef"].get("resource") or ""
        if not resource:
            errors.append(required(f"{path}.resourceFieldRef.resource"))
        elif resource not in CONTAINER_RESOURCE_FIELD_PATHS and not resource.startswith(("requests.hugepages-", "limits.hugepages-")):
            errors.append(not_supported(f"{path}.resourceFieldRef.resource", resource, CONTAINER_RESOURCE_FIELD_PATHS))
    for source in ("configMapKeyRef", "secretKeyRef"):
        if value_from.get(source) is not None:
            sources += 1
            errors += _validate_key_selector(value_from[source], f"{path}.{source}")
    if sources == 0:
        errors.append(invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
    elif env_var.get("value"):
        errors.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif sources > 1:
        errors.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errors


def _validate_field_selector(selector: Mapping[str, Any], path: str) -> list[FieldError]:
    api_version = selector.get("apiVersion") or ""
    if not api_version:
        return [required(f"{path}.apiVersion")]
    field_path = selector.get("fieldPath") or ""
    if not field_path:
        return [required(f"{path}.fieldPath")]
    if api_version != "v1":
        return [invalid(f"{path}.fieldPath", field_path, f"error converting fieldPath: unsupported pod version: {api_version}")]
    subscripted = _SUBSCRIPTED_FIELD_PATH.match(field_path)
    if subscripted:
        target, key = subscripted.groups()
        return validate_qualified_name(key.lower() if target.endswith("annotations") else key, path)
    if field_path not in ENV_FIELD_PATHS:
        return [not_supported(f"{path}.fieldPath", field_path, ENV_FIELD_PATHS)]
    return []


def _validate_key_selector(selector: Mapping[str, Any], path: str) -> list[FieldError]:
    name = selector.get("name") or ""
    errors = [invalid(f"{path}.name", name, message) for message in name_is_dns_subdomain(name, False)]
    key = selector.get("key") or ""
    if not key:
        errors.append(required(f"{path}.key"))
    else:
        errors += [invalid(f"{path}.key", key, message) for message in is_config_map_key(key)]
    return errors


def validate_env_from(sources: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, source in enumerate(sources):
        source_path = f"{path}[{index}]"
        prefix = source.get("prefix") or ""
        if prefix:
            errors += [invalid(f"{source_path}.prefix", prefix, message) for message in is_relaxed_env_var_name(prefix)]
        count = 0
        for reference in ("configMapRef", "secretRef"):
            if source.get(reference) is None:
                continue
            count += 1
            name = source[reference].get("name") or ""
            if not name:
                errors.append(required(f"{source_path}.{reference}.name"))
            else:
                errors += [invalid(f"{source_path}.{reference}.name", name, message)
                           for message in name_is_dns_subdomain(name, True)]
        if count == 0:
            errors.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errors.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errors


# ---------------------------------------------------------------- mounts


def validate_volume_mounts(mounts: list[dict], volume_names: set[str], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    mount_points: set[str] = set()
    for index, mount in enumerate(mounts):
        mount_path = f"{path}[{index}]"
        name = mount.get("name") or ""
        if not name:
            errors.append(required(f"{mount_path}.name"))
        if name not in volume_names:
            errors.append(FieldError(f"{mount_path}.name", "NotFound", name))
        target = mount.get("mountPath") or ""
        if not target:
            errors.append(required(f"{mount_path}.mountPath"))
        if target in mount_points:
            errors.append(invalid(f"{mount_path}.mountPath", target, "must be unique"))
        mount_points.add(target)
        sub_path = mount.get("subPath") or ""
        if sub_path:
            errors += _validate_local_descending_path(sub_path, f"{path}.subPath")
        sub_path_expr = mount.get("subPathExpr") or ""
        if sub_path_expr:
            if sub_path:
                errors.append(invalid(f"{mount_path}.subPathExpr", sub_path_expr, "subPathExpr and subPath are mutually exclusive"))
            errors += _validate_local_descending_path(sub_path_expr, f"{path}.subPathExpr")
        propagation = mount.get("mountPropagation")
        if propagation is not None:
            supported = ["Bidirectional", "HostToContainer", "None"]
            if propagation not in supported:
                errors.append(not_supported(f"{path}.mountPropagation", propagation, supported))
    return errors


# ---------------------------------------------------------------- resources


def validate_resource_requirements(resources: Mapping[str, Any], path: str, *, for_container: bool = False) -> list[FieldError]:
    """validateResourceRequirements: names, quantities, and requests <= limits."""
    errors: list[FieldError] = []
    limits_path, requests_path = f"{path}.limits", f"{path}.requests"
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    parsed_limits: dict[str, Decimal] = {}
    for name in sorted(limits):
        key_path = f"{limits_path}[{name}]"
        errors += _validate_resource_name(name, key_path, for_container=for_container)
        amount, quantity_errors = _validate_quantity(name, limits[name], key_path)
        errors += quantity_errors
        if amount is not None:
            parsed_limits[name] = amount
    for name in sorted(requests):
        key_path = f"{requests_path}[{name}]"
        errors += _validate_resource_name(name, key_path, for_container=for_container)
        amount, quantity_errors = _validate_quantity(name, requests[name], key_path)
        errors += quantity_errors
        if amount is None:
            continue
        if name in parsed_limits:
            limit = parsed_limits[name]
            shown, limit_shown = canonical_quantity(requests[name]), canonical_quantity(limits[name])
            if amount != limit and not is_overcommit_allowed(name):
                errors.append(invalid(requests_path, shown, f"must be equal to {name} limit of {limit_shown}"))
            elif amount > limit:
                errors.append(invalid(requests_path, shown, f"must be less than or equal to {name} limit of {limit_shown}"))
        elif name not in limits and not is_overcommit_allowed(name):
            errors.append(required(limits_path, "Limit must be set for non overcommitable resources"))
    return errors


def _validate_quantity(name: str, value: Any, path: str) -> tuple[Decimal | None, list[FieldError]]:
    try:
        amount = parse_quantity(value)
    except ValueError as error:
        return None, [invalid(path, value, str(error))]
    errors: list[FieldError] = []
    if amount < 0:
        errors.append(invalid(path, canonical_quantity(value), IS_NEGATIVE))
    if _is_integer_resource(name) and (amount * 1000) % 1000 != 0:
        errors.append(invalid(path, GoValue(canonical_quantity(value)), "must be an integer"))
    return amount, errors


def _validate_resource_name(name: str, path: str, *, for_container: bool) -> list[FieldError]:
    errors = [invalid(path, name, message) for message in is_qualified_name(name)]
    if errors:
        return errors
    if "/" not in name:
        if name not in STANDARD_RESOURCES and not name.startswith(("hugepages-", "requests.hugepages-")):
            errors.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if for_container and name not in STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errors.append(invalid(path, name, "must be a standard resource for containers"))
    elif for_container and not _is_native_resource(name) and not _is_extended_resource_name(name):
        errors.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errors


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended_resource_name(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _is_integer_resource(name: str) -> bool:
    return _is_extended_resource_name(name)


def is_overcommit_allowed(name: str) -> bool:
    """Native resources other than huge pages may be requested below their limit."""
    return _is_native_resource(name) and not name.startswith("hugepages-")


def _quantity_or_none(value: Any) -> Decimal | None:
    try:
        return parse_quantity(value)
    except ValueError:
        return None


# ---------------------------------------------------------------- probes and handlers


def _validate_probe(probe: Mapping[str, Any] | None, path: str, *, kind: str) -> list[FieldError]:
    if probe is None:
        return []
    errors = _validate_handler(probe, path, allow_sleep=False, grace_period=None)
    for field_name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        errors += validate_nonnegative(probe.get(field_name) or 0, f"{path}.{field_name}")
    probe_grace = probe.get("terminationGracePeriodSeconds")
    if probe_grace is not None and probe_grace <= 0:
        errors.append(invalid(f"{path}.terminationGracePeriodSeconds", probe_grace, "must be greater than 0"))
    if kind in ("liveness", "startup") and (probe.get("successThreshold") or 0) != 1:
        errors.append(invalid(f"{path}.successThreshold", probe.get("successThreshold") or 0, "must be 1"))
    if kind == "readiness" and probe_grace is not None:
        errors.append(invalid(f"{path}.terminationGracePeriodSeconds", probe_grace, "must not be set for readinessProbes"))
    return errors


def _validate_lifecycle(lifecycle: Mapping[str, Any], path: str, *, grace_period: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for hook in ("postStart", "preStop"):
        if lifecycle.get(hook) is not None:
            errors += _validate_handler(lifecycle[hook], f"{path}.{hook}", allow_sleep=True, grace_period=grace_period)
    return errors


def _validate_handler(handler: Mapping[str, Any], path: str, *, allow_sleep: bool, grace_period: Any) -> list[FieldError]:
    """Exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep (lifecycle hooks)."""
    kinds = ("exec", "httpGet", "tcpSocket", "sleep") if allow_sleep else ("exec", "httpGet", "tcpSocket", "grpc")
    errors: list[FieldError] = []
    count = 0
    for kind in kinds:
        if handler.get(kind) is None:
            continue
        if count:
            errors.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        count += 1
        action, action_path = handler[kind], f"{path}.{kind}"
        if kind == "exec" and not action.get("command"):
            errors.append(required(f"{action_path}.command"))
        elif kind == "httpGet":
            if not action.get("path"):
                errors.append(required(f"{action_path}.path"))
            errors += validate_port_num_or_name(action.get("port"), f"{action_path}.port")
            scheme = action.get("scheme") or ""
            if scheme not in HTTP_SCHEMES:
                errors.append(not_supported(f"{action_path}.scheme", scheme, HTTP_SCHEMES))
            for header in action.get("httpHeaders") or []:
                header_name = header.get("name") or ""
                errors += [invalid(f"{action_path}.httpHeaders", header_name, message) for message in is_http_header_name(header_name)]
        elif kind in ("tcpSocket", "grpc"):
            errors += validate_port_num_or_name(action.get("port"), f"{action_path}.port")
        elif kind == "sleep" and grace_period is not None:
            seconds = action.get("seconds") or 0
            if seconds <= 0 or seconds > grace_period:
                errors.append(invalid(
                    action_path, seconds,
                    f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace_period}). "
                    "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
                ))
    if count == 0:
        errors.append(required(path, "must specify a handler type"))
    return errors


def validate_port_num_or_name(port: Any, path: str) -> list[FieldError]:
    if isinstance(port, str):
        return [invalid(path, port, message) for message in is_valid_port_name(port)]
    number = port or 0
    return [invalid(path, number, message) for message in is_valid_port_num(number)]


# ---------------------------------------------------------------- security


def _validate_id(value: Any, path: str) -> list[FieldError]:
    if value is not None and not 0 <= value <= MAX_INT32:
        return [invalid(path, value, inclusive_range_error(0, MAX_INT32))]
    return []


def _validate_seccomp_profile(profile: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    if profile is None:
        return []
    errors: list[FieldError] = []
    profile_type = profile.get("type") or ""
    if not profile_type:
        errors.append(required(f"{path}.type"))
    elif profile_type not in SECCOMP_PROFILE_TYPES:
        errors.append(not_supported(f"{path}.type", profile_type, SECCOMP_PROFILE_TYPES))
    localhost = profile.get("localhostProfile")
    if profile_type == "Localhost":
        if localhost is None:
            errors.append(required(f"{path}.localhostProfile", "must be set when seccomp type is Localhost"))
        else:
            errors += _validate_local_descending_path(localhost, f"{path}.localhostProfile")
    elif localhost is not None:
        errors.append(invalid(f"{path}.localhostProfile", GoValue(str(profile)), "can only be set when seccomp type is Localhost"))
    return errors


def validate_pod_security_context(context: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    if context is None:
        return []
    errors = _validate_id(context.get("fsGroup"), f"{path}.fsGroup")
    errors += _validate_id(context.get("runAsUser"), f"{path}.runAsUser")
    errors += _validate_id(context.get("runAsGroup"), f"{path}.runAsGroup")
    for index, group in enumerate(context.get("supplementalGroups") or []):
        errors += _validate_id(group, f"{path}.supplementalGroups[{index}]")
    policy = context.get("fsGroupChangePolicy")
    if policy is not None and policy not in ("Always", "OnRootMismatch"):
        errors.append(not_supported(f"{path}.fsGroupChangePolicy", policy, ["Always", "OnRootMismatch"]))
    errors += _validate_seccomp_profile(context.get("seccompProfile"), f"{path}.seccompProfile")
    return errors


def validate_security_context(context: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    if context is None:
        return []
    errors = _validate_id(context.get("runAsUser"), f"{path}.runAsUser")
    errors += _validate_id(context.get("runAsGroup"), f"{path}.runAsGroup")
    errors += _validate_seccomp_profile(context.get("seccompProfile"), f"{path}.seccompProfile")
    if context.get("allowPrivilegeEscalation") is False:
        if context.get("privileged"):
            errors.append(invalid(path, GoValue(str(context)), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        if "CAP_SYS_ADMIN" in ((context.get("capabilities") or {}).get("add") or []):
            errors.append(invalid(path, GoValue(str(context)),
                                  "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
    return errors


# ---------------------------------------------------------------- scheduling


def validate_tolerations(tolerations: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, toleration in enumerate(tolerations):
        toleration_path = f"{path}[{index}]"
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or ""
        effect = toleration.get("effect") or ""
        value = toleration.get("value") or ""
        if key:
            errors += validate_qualified_name(key, f"{toleration_path}.key")
        if not key and operator != "Exists":
            errors.append(invalid(f"{toleration_path}.operator", operator,
                                  'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errors.append(invalid(f"{toleration_path}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            messages = is_valid_label_value(value)
            if messages:
                errors.append(invalid(f"{toleration_path}.operator", value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                errors.append(invalid(f"{toleration_path}.operator", value, "value must be empty when `operator` is 'Exists'"))
        else:
            errors.append(not_supported(f"{toleration_path}.operator", operator, TOLERATION_OPERATORS))
        if effect and effect not in TAINT_EFFECTS:
            errors.append(not_supported(f"{toleration_path}.effect", effect, TAINT_EFFECTS))
    return errors


def _validate_scheduling_gates(gates: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, gate in enumerate(gates):
        name = gate.get("name") or ""
        errors += validate_qualified_name(name, f"{path}[{index}]")
        if name in seen:
            errors.append(duplicate(f"{path}[{index}]", name))
        seen.add(name)
    return errors


def _validate_image_pull_secrets(secrets: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, secret in enumerate(secrets):
        if set(secret) - {"name"}:
            errors.append(invalid(f"{path}[{index}]", GoValue(str(secret)), "only name may be set"))
    return errors


def _validate_dns_config(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    config = spec.get("dnsConfig")
    if spec.get("dnsPolicy") == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not config.get("nameservers"):
            return [required(f"{path}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None")]
    if config is None:
        return []
    errors: list[FieldError] = []
    nameservers = config.get("nameservers") or []
    if len(nameservers) > 3:
        errors.append(invalid(f"{path}.nameservers", go_string_slice(nameservers), "must not have more than 3 nameservers"))
    for index, nameserver in enumerate(nameservers):
        errors += [invalid(f"{path}.nameservers[{index}]", nameserver, message) for message in is_valid_ip(nameserver)]
    searches = config.get("searches") or []
    if len(searches) > 32:
        errors.append(invalid(f"{path}.searches", go_string_slice(searches), "must not have more than 32 search paths"))
    for index, search in enumerate(searches):
        trimmed = search.removesuffix(".")
        errors += [invalid(f"{path}.searches[{index}]", trimmed, message) for message in is_dns1123_subdomain(trimmed)]
    for index, option in enumerate(config.get("options") or []):
        if not option.get("name"):
            errors.append(required(f"{path}.options[{index}]", "must not be empty"))
    return errors


# ---------------------------------------------------------------- pod updates


def validate_pod_spec_update(new_spec: Mapping[str, Any], old_spec: Mapping[str, Any]) -> list[FieldError]:
    """ValidatePodUpdate's spec half: only images, activeDeadlineSeconds and added tolerations may change."""
    errors: list[FieldError] = []
    for list_name in ("containers", "initContainers"):
        new_containers = new_spec.get(list_name) or []
        old_containers = old_spec.get(list_name) or []
        list_path = f"spec.{list_name}"
        if len(new_containers) != len(old_containers):
            return errors + [forbidden(list_path, "pod updates may not add or remove containers")]
        for index, container in enumerate(new_containers):
            image = container.get("image") or ""
            if not image:
                errors.append(required(f"{list_path}[{index}].image"))
            if image != image.strip():
                errors.append(invalid(f"{list_path}[{index}].image", image, "must not have leading or trailing whitespace"))
    new_deadline, old_deadline = new_spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not 0 <= new_deadline <= MAX_INT32:
            return errors + [invalid("spec.activeDeadlineSeconds", new_deadline, inclusive_range_error(0, MAX_INT32))]
        if old_deadline is not None and old_deadline < new_deadline:
            return errors + [invalid("spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value")]
    elif old_deadline is not None:
        errors.append(invalid("spec.activeDeadlineSeconds", GoValue("null"), "must not update from a positive integer to nil value"))
    errors += _validate_only_added_tolerations(new_spec.get("tolerations") or [], old_spec.get("tolerations") or [])
    errors += _validate_only_deleted_scheduling_gates(new_spec.get("schedulingGates") or [], old_spec.get("schedulingGates") or [])
    if new_spec == old_spec:
        return errors
    munged = _munge_updatable_fields(new_spec, old_spec)
    if munged != old_spec:
        detail = "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_SPEC_FIELDS) + "\n"
        errors.append(forbidden("spec", detail + spec_diff(old_spec, munged)))
    return errors


def _munge_updatable_fields(new_spec: Mapping[str, Any], old_spec: Mapping[str, Any]) -> dict:
    """The new spec with every field a user may change put back to its old value."""
    munged = {key: value for key, value in new_spec.items()}
    for list_name in ("containers", "initContainers"):
        if list_name in munged:
            old_containers = old_spec.get(list_name) or []
            munged[list_name] = [
                {**container, "image": old_containers[index].get("image")} if "image" in old_containers[index] else
                {key: value for key, value in container.items() if key != "image"}
                for index, container in enumerate(munged[list_name])
            ]
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        if key in old_spec:
            munged[key] = old_spec[key]
        else:
            munged.pop(key, None)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _validate_only_added_tolerations(new: list[dict], old: list[dict]) -> list[FieldError]:
    for old_toleration in old:
        # tolerationSeconds of an existing toleration may change; nothing else may.
        comparable = {key: value for key, value in old_toleration.items() if key != "tolerationSeconds"}
        if not any({key: value for key, value in candidate.items() if key != "tolerationSeconds"} == comparable
                   for candidate in new):
            return [forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")]
    return validate_tolerations(new, "spec.tolerations")


def _validate_only_deleted_scheduling_gates(new: list[dict], old: list[dict]) -> list[FieldError]:
    old_names = {gate.get("name") for gate in old}
    return [
        forbidden(f"spec.schedulingGates[{index}].name",
                  f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'")
        for index, gate in enumerate(new) if gate.get("name") not in old_names
    ]


def spec_diff(old: Any, new: Any, *, path: str = "") -> str:
    """A short listing of what differs, standing in for the cmp.Diff text Kubernetes appends."""
    lines: list[str] = []
    _collect_diff(old, new, path, lines)
    return "\n".join(lines)


def _collect_diff(old: Any, new: Any, path: str, lines: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _collect_diff(old.get(key), new.get(key), f"{path}.{key}" if path else key, lines)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            _collect_diff(old_item, new_item, f"{path}[{index}]", lines)
    elif old != new:
        lines.append(f"- {path}: {_json(old)}")
        lines.append(f"+ {path}: {_json(new)}")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def template_labels_value(template: Mapping[str, Any]) -> GoValue:
    return go_string_map((template.get("metadata") or {}).get("labels"))
