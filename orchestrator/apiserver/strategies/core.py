"""Strategies for the core/v1 kinds: Pod, Service, Namespace, Node, ConfigMap, Secret, Endpoints, Event, Binding.

Each class mirrors the kind's pkg/registry/core/<kind>/strategy.go (what create and
update reset), pkg/apis/core/v1/defaults.go (defaults) and pkg/apis/core/validation
(field paths and messages), trimmed to the fields this orchestrator serves.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Mapping
from typing import Any

from orchestrator.api.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from orchestrator.api.names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_valid_cidr,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_num,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
    parse_ip_sloppy,
)
from orchestrator.api.quantity import canonical_quantity, parse_quantity
from orchestrator.apiserver.strategies.base import Strategy, _copy_field
from orchestrator.apiserver.strategies.meta import (
    FIELD_IMMUTABLE,
    IS_NEGATIVE,
    STANDARD_FINALIZERS,
    GoValue,
    go_quote,
    go_string_slice,
    too_long,
    validate_immutable,
    validate_labels,
    validate_qualified_name,
)
from orchestrator.apiserver.strategies.podspec import (
    PORT_PROTOCOLS,
    canonicalize_resource_list,
    compute_pod_qos,
    default_pod_only_fields,
    default_pod_spec,
    mirror_service_account,
    validate_containers_only_for_pod,
    validate_pod_spec,
    validate_pod_spec_update,
    validate_port_num_or_name,
)

MAX_SECRET_SIZE = 1024 * 1024
DEFAULT_NODE_PORT_RANGE = (30000, 32767)
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800
MAX_CLIENT_IP_AFFINITY_SECONDS = 86400
SYSTEM_POD_CONDITIONS = {"PodScheduled", "Ready", "Initialized"}
DEFAULT_SERVICE_ACCOUNT = "default"


# ================================================================ Pod


class PodStrategy(Strategy):
    kind = "Pod"
    has_status = True

    def default(self, pod: dict) -> None:
        default_pod_spec(pod.setdefault("spec", {}))
        default_pod_only_fields(pod)

    def validate(self, pod: dict) -> list[FieldError]:
        """ValidatePodCreate."""
        spec = pod.get("spec") or {}
        errors = self._validate_metadata_and_spec(pod)
        if spec.get("ephemeralContainers"):
            errors.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if spec.get("nodeName") and spec.get("schedulingGates"):
            errors.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
        return errors

    def _validate_metadata_and_spec(self, pod: dict) -> list[FieldError]:
        spec = pod.get("spec") or {}
        errors = self.validate_metadata(pod)
        errors += validate_pod_spec(spec, "spec", is_pod=True)
        if not spec.get("serviceAccountName"):
            for volume_index, volume in enumerate(spec.get("volumes") or []):
                for source_index, source in enumerate((volume.get("projected") or {}).get("sources") or []):
                    if source.get("serviceAccountToken") is not None:
                        errors.append(forbidden(
                            f"spec.volumes[{volume_index}].projected.sources[{source_index}].serviceAccountToken",
                            "must not be specified when serviceAccountName is not set",
                        ))
        errors += validate_containers_only_for_pod(spec.get("containers") or [], "spec.containers")
        errors += validate_containers_only_for_pod(spec.get("initContainers") or [], "spec.initContainers")
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidatePodUpdate: a running pod's spec is all but frozen."""
        old_spec = old.get("spec") or {}
        if old_spec.get("serviceAccountName") and not old_spec.get("serviceAccount"):
            # Stored before `serviceAccount` was echoed: read it as Kubernetes' conversion would.
            old = {**old, "spec": copy.deepcopy(old_spec)}
            mirror_service_account(old["spec"])
        errors = self.validate_metadata_update(new, old)
        errors += self._validate_metadata_and_spec(new)
        return errors + validate_pod_spec_update(new.get("spec") or {}, old.get("spec") or {})

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidatePodStatusUpdate."""
        errors = self.validate_metadata_update(new, old)
        status, old_status = new.get("status") or {}, old.get("status") or {}
        for index, condition in enumerate(status.get("conditions") or []):
            if condition.get("type") not in SYSTEM_POD_CONDITIONS:
                # Kubernetes reports these under metadata (sic).
                errors += validate_qualified_name(condition.get("type") or "", f"metadata.conditions[{index}].Type")
        if (new.get("spec") or {}).get("nodeName") != (old.get("spec") or {}).get("nodeName"):
            errors.append(forbidden("status.nodeName", "may not be changed directly"))
        nominated = status.get("nominatedNodeName") or ""
        if nominated and nominated != old_status.get("nominatedNodeName"):
            errors += [invalid("status.nominatedNodeName", nominated, message) for message in name_is_dns_subdomain(nominated, False)]
        errors += validate_immutable(status.get("qosClass") or "", old_status.get("qosClass") or "", "status.qosClass")
        for index, pod_ip in enumerate(status.get("podIPs") or []):
            address = pod_ip.get("ip") or ""
            errors += [invalid(f"status.podIPs[{index}]", address, message) for message in is_valid_ip(address)]
        host_ips = status.get("hostIPs") or []
        if host_ips:
            if status.get("hostIP") != host_ips[0].get("ip"):
                errors.append(invalid("status.hostIPs[0].ip", host_ips[0].get("ip") or "", "must be equal to `hostIP`"))
            for index, host_ip in enumerate(host_ips):
                address = host_ip.get("ip") or ""
                errors += [invalid(f"status.hostIPs[{index}]", address, message) for message in is_valid_ip(address)]
        return errors

    def prepare_for_create(self, pod: dict) -> None:
        spec = pod.setdefault("spec", {})
        # The ServiceAccount admission plugin: a pod runs as its namespace's `default` unless told otherwise.
        # (It also refuses pods whose account does not exist and mounts a token; neither is done here.)
        if not spec.get("serviceAccountName") and not spec.get("serviceAccount"):
            spec["serviceAccountName"] = DEFAULT_SERVICE_ACCOUNT
        pod["status"] = {"phase": "Pending", "qosClass": compute_pod_qos(spec)}
        if spec.get("schedulingGates"):
            pod["status"]["conditions"] = [{
                "type": "PodScheduled",
                "status": "False",
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates",
            }]

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        _copy_field(new, old, "spec")
        # Old kubelets corrupted owner references through /status; Kubernetes ignores them there.
        new_meta, old_meta = new.setdefault("metadata", {}), old.get("metadata") or {}
        _copy_field(new_meta, old_meta, "ownerReferences")
        status = new.setdefault("status", {})
        if not status.get("qosClass") and (old.get("status") or {}).get("qosClass"):
            status["qosClass"] = old["status"]["qosClass"]


# ================================================================ Service


def externally_accessible(spec: Mapping[str, Any]) -> bool:
    service_type = spec.get("type")
    return service_type in ("LoadBalancer", "NodePort") or (service_type == "ClusterIP" and bool(spec.get("externalIPs")))


def needs_health_check(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def is_headless(spec: Mapping[str, Any]) -> bool:
    cluster_ips = spec.get("clusterIPs") or []
    return len(cluster_ips) == 1 and cluster_ips[0] == "None"


def _needs_node_ports(spec: Mapping[str, Any]) -> bool:
    service_type = spec.get("type")
    return service_type == "NodePort" or (service_type == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True) is not False)


def go_service_port_key(protocol: str, port: int) -> GoValue:
    """The (protocol, port) key of a duplicate service port, as Kubernetes prints it."""
    return GoValue(
        f'core.ServicePort{{Name:"", Protocol:{go_quote(protocol)}, AppProtocol:(*string)(nil), Port:{port}, '
        f'TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}'
    )


class ServiceStrategy(Strategy):
    kind = "Service"
    has_status = True
    validate_name = staticmethod(name_is_dns1035_label)

    def __init__(self, *, node_port_range: tuple[int, int] = DEFAULT_NODE_PORT_RANGE):
        self.node_port_range = node_port_range

    def default(self, service: dict) -> None:
        """SetDefaults_Service."""
        spec = service.setdefault("spec", {})
        if not spec.get("sessionAffinity"):
            spec["sessionAffinity"] = "None"
        if spec["sessionAffinity"] == "None":
            spec.pop("sessionAffinityConfig", None)
        elif spec["sessionAffinity"] == "ClientIP":
            client_ip = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            if client_ip.get("timeoutSeconds") is None:
                spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}}
        if not spec.get("type"):
            spec["type"] = "ClusterIP"
        for port in spec.get("ports") or []:
            if not port.get("protocol"):
                port["protocol"] = "TCP"
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
        if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
            spec["externalTrafficPolicy"] = "Cluster"
        if spec.get("internalTrafficPolicy") is None and spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
            spec["internalTrafficPolicy"] = "Cluster"
        if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
            spec["allocateLoadBalancerNodePorts"] = True

    def prepare_for_create(self, service: dict) -> None:
        # ServiceStatus holds a struct, so an empty one still serializes as `loadBalancer: {}`.
        service["status"] = {"loadBalancer": {}}
        spec = service.get("spec") or {}
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]

    def prepare_for_update(self, new: dict, old: dict) -> None:
        super().prepare_for_update(new, old)
        new_spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        _patch_allocated_values(new_spec, old_spec)
        _normalize_cluster_ips_on_update(new_spec, old_spec)
        _drop_type_dependent_fields(new_spec, old_spec)

    def validate(self, service: dict) -> list[FieldError]:
        """ValidateService, plus the node port range the allocator enforces."""
        spec = service.get("spec") or {}
        service_type = spec.get("type") or ""
        ports = spec.get("ports") or []
        headless = is_headless(spec)
        errors = self.validate_metadata(service)
        if not ports and not headless and service_type != "ExternalName":
            errors.append(required("spec.ports"))
        cluster_ips = spec.get("clusterIPs") or []
        if service_type in ("LoadBalancer", "NodePort") and headless:
            errors.append(invalid("spec.clusterIPs[0]", cluster_ips[0], f"may not be set to 'None' for {service_type} services"))
        elif service_type == "ExternalName":
            for key in ("clusterIPs", "ipFamilies"):
                if spec.get(key):
                    errors.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
            if spec.get("ipFamilyPolicy") is not None:
                errors.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
            cname = (spec.get("externalName") or "").removesuffix(".")
            if cname:
                errors += [invalid("spec.externalName", cname, message) for message in is_dns1123_subdomain(cname)]
            else:
                errors.append(required("spec.externalName"))
        port_names: set[str] = set()
        for index, port in enumerate(ports):
            errors += _validate_service_port(port, f"spec.ports[{index}]", require_name=len(ports) > 1, names=port_names)
        if spec.get("selector") is not None:
            errors += validate_labels(spec["selector"], "spec.selector")
        errors += _validate_session_affinity(spec)
        errors += _validate_cluster_ips(spec)
        for index, address in enumerate(spec.get("externalIPs") or []):
            messages = is_valid_ip(address)
            if messages:
                errors += [invalid(f"spec.externalIPs[{index}]", address, message) for message in messages]
            else:
                errors += validate_non_special_ip(address, f"spec.externalIPs[{index}]")
        if not service_type:
            errors.append(required("spec.type"))
        elif service_type not in ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"):
            errors.append(not_supported("spec.type", service_type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
        if service_type == "ClusterIP":
            for index, port in enumerate(ports):
                if port.get("nodePort"):
                    errors.append(forbidden(f"spec.ports[{index}].nodePort", "may not be used when `type` is 'ClusterIP'"))
        errors += self._validate_node_ports(spec)
        seen_ports: set[tuple[str, int]] = set()
        for index, port in enumerate(ports):
            key = (port.get("protocol") or "", port.get("port") or 0)
            if key in seen_ports:
                errors.append(duplicate(f"spec.ports[{index}]", go_service_port_key(*key)))
            seen_ports.add(key)
        if spec.get("loadBalancerSourceRanges"):
            source_ranges_path = "spec.LoadBalancerSourceRanges"  # sic: Kubernetes capitalizes it
            if service_type != "LoadBalancer":
                errors.append(forbidden(source_ranges_path, "may only be used when `type` is 'LoadBalancer'"))
            for index, value in enumerate(spec["loadBalancerSourceRanges"]):
                value = value.strip()
                errors += [invalid(f"{source_ranges_path}[{index}]", value, message) for message in is_valid_cidr(value)]
        if spec.get("allocateLoadBalancerNodePorts") is not None and service_type != "LoadBalancer":
            errors.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
        errors += _validate_traffic_policies(spec)
        return errors

    def _validate_node_ports(self, spec: Mapping[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        low, high = self.node_port_range
        seen: set[tuple[str, int]] = set()
        for index, port in enumerate(spec.get("ports") or []):
            node_port = port.get("nodePort") or 0
            if not node_port:
                continue
            key = (port.get("protocol") or "", node_port)
            if key in seen:
                errors.append(duplicate(f"spec.ports[{index}].nodePort", node_port))
            seen.add(key)
            if spec.get("type") in ("NodePort", "LoadBalancer") and not low <= node_port <= high:
                errors.append(invalid(f"spec.ports[{index}].nodePort", node_port,
                                      f"provided port is not in the valid range. The range of valid ports is {low}-{high}"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateServiceUpdate: allocated addresses stay, then the whole service again."""
        errors = self.validate_metadata_update(new, old)
        new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        errors += _validate_cluster_ips_update(new_spec, old_spec)
        if needs_health_check(old_spec) and needs_health_check(new_spec):
            if new_spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort"):
                errors.append(forbidden("spec.healthCheckNodePort", FIELD_IMMUTABLE))
        return errors + self.validate(new)


def _validate_service_port(port: Mapping[str, Any], path: str, *, require_name: bool, names: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errors.append(required(f"{path}.name"))
    elif name:
        errors += [invalid(f"{path}.name", name, message) for message in is_dns1123_label(name)]
        if name in names:
            errors.append(duplicate(f"{path}.name", name))
        else:
            names.add(name)
    number = port.get("port") or 0
    errors += [invalid(f"{path}.port", number, message) for message in is_valid_port_num(number)]
    protocol = port.get("protocol") or ""
    if not protocol:
        errors.append(required(f"{path}.protocol"))
    elif protocol not in PORT_PROTOCOLS:
        errors.append(not_supported(f"{path}.protocol", protocol, PORT_PROTOCOLS))
    errors += validate_port_num_or_name(port.get("targetPort"), f"{path}.targetPort")
    if port.get("appProtocol") is not None:
        errors += validate_qualified_name(port["appProtocol"], f"{path}.appProtocol")
    return errors


def _validate_session_affinity(spec: Mapping[str, Any]) -> list[FieldError]:
    affinity = spec.get("sessionAffinity") or ""
    if not affinity:
        return [required("spec.sessionAffinity")]
    if affinity not in ("ClientIP", "None"):
        return [not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"])]
    config = spec.get("sessionAffinityConfig")
    path = "spec.sessionAffinityConfig"
    if affinity == "None":
        return [forbidden(path, "must not be set when session affinity is None")] if config is not None else []
    when = "when session affinity type is ClientIP"
    if config is None:
        return [required(path, when)]
    if config.get("clientIP") is None:
        return [required(f"{path}.clientIP", when)]
    timeout = config["clientIP"].get("timeoutSeconds")
    if timeout is None:
        return [required(f"{path}.clientIP.timeoutSeconds", when)]
    if not 0 < timeout <= MAX_CLIENT_IP_AFFINITY_SECONDS:
        return [invalid(f"{path}.clientIP.timeoutSeconds", timeout,
                        f"must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}")]
    return []


def _validate_cluster_ips(spec: Mapping[str, Any]) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields."""
    if spec.get("type") == "ExternalName":
        return []
    errors: list[FieldError] = []
    cluster_ip = spec.get("clusterIP") or ""
    cluster_ips = spec.get("clusterIPs") or []
    if cluster_ip:
        if not cluster_ips:
            errors.append(required("spec.clusterIPs"))
        elif cluster_ips[0] != cluster_ip:
            errors.append(invalid("spec.clusterIPs", go_string_slice(cluster_ips), "first value must match `clusterIP`"))
    elif cluster_ips:
        errors.append(invalid("spec.clusterIPs", go_string_slice(cluster_ips), "must be empty when `clusterIP` is not specified"))
    seen_families: set[str] = set()
    for index, family in enumerate(spec.get("ipFamilies") or []):
        if family not in ("IPv4", "IPv6"):
            errors.append(not_supported(f"spec.ipFamilies[{index}]", family, ["IPv4", "IPv6"]))
        if family in seen_families:
            errors.append(duplicate(f"spec.ipFamilies[{index}]", family))
        seen_families.add(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errors.append(not_supported("spec.ipFamilyPolicy", policy, ["PreferDualStack", "RequireDualStack", "SingleStack"]))
    has_invalid = False
    for index, address in enumerate(cluster_ips):
        if index == 0 and address == "None":
            if len(cluster_ips) > 1:
                has_invalid = True
                errors.append(invalid("spec.clusterIPs", go_string_slice(cluster_ips), "'None' must be the first and only value"))
            continue
        messages = is_valid_ip(address)
        has_invalid = has_invalid or bool(messages)
        errors += [invalid(f"spec.clusterIPs[{index}]", address, message) for message in messages]
    if len(cluster_ips) > 2:
        errors.append(invalid("spec.clusterIPs", go_string_slice(cluster_ips), "may only hold up to 2 values"))
    if has_invalid:
        return errors
    if len(cluster_ips) > 1:
        versions = {parse_ip_sloppy(address).version for address in cluster_ips}  # type: ignore[union-attr]
        if len(versions) != len(cluster_ips):
            errors.append(invalid("spec.clusterIPs", go_string_slice(cluster_ips), "may specify no more than one IP for each IP family"))
    families = spec.get("ipFamilies") or []
    if not is_headless(spec):
        for index, address in enumerate(cluster_ips[: len(families)]):
            version = parse_ip_sloppy(address).version  # type: ignore[union-attr]
            if families[index] == "IPv4" and version == 6:
                errors.append(invalid(f"spec.clusterIPs[{index}]", address, f"expected an IPv4 value as indicated by `ipFamilies[{index}]`"))
            if families[index] == "IPv6" and version == 4:
                errors.append(invalid(f"spec.clusterIPs[{index}]", address, f"expected an IPv6 value as indicated by `ipFamilies[{index}]`"))
    return errors


def _validate_cluster_ips_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """validateUpgradeDowngradeClusterIPs: an allocated cluster IP is for life."""
    if "ExternalName" in (new.get("type"), old.get("type")):
        return []
    if is_headless(new) and is_headless(old):
        return []
    new_ips, old_ips = new.get("clusterIPs") or [], old.get("clusterIPs") or []
    shown = go_string_slice(new.get("clusterIPs"))
    errors: list[FieldError] = []
    if len(new_ips) == len(old_ips):
        for index, address in enumerate(old_ips):
            if address != new_ips[index]:
                errors.append(invalid(f"spec.clusterIPs[{index}]", shown, "may not change once set"))
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            errors.append(invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset"))
        elif new_ips[0] != old_ips[0]:
            errors.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
        if len(new_ips) == 1 and new.get("ipFamilyPolicy") != "SingleStack":
            errors.append(invalid("spec.ipFamilyPolicy", new.get("ipFamilyPolicy") or GoValue("null"),
                                  "must be set to 'SingleStack' when releasing the secondary clusterIP"))
    elif old_ips and new_ips[0] != old_ips[0]:
        errors.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
    return errors


def _validate_traffic_policies(spec: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    external = spec.get("externalTrafficPolicy") or ""
    if not externally_accessible(spec):
        if external:
            errors.append(invalid("spec.externalTrafficPolicy", external, "may only be set for externally-accessible services"))
    elif not external:
        errors.append(required("spec.externalTrafficPolicy"))
    elif external not in ("Cluster", "Local"):
        errors.append(not_supported("spec.externalTrafficPolicy", external, ["Cluster", "Local"]))
    health_check_port = spec.get("healthCheckNodePort") or 0
    if not needs_health_check(spec):
        if health_check_port:
            errors.append(invalid("spec.healthCheckNodePort", health_check_port,
                                  "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
    elif health_check_port:
        # Kubernetes also requires it, but its allocator fills it in first; ours may not.
        errors += [invalid("spec.healthCheckNodePort", health_check_port, message) for message in is_valid_port_num(health_check_port)]
    internal = spec.get("internalTrafficPolicy")
    if internal is None:
        if spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
            errors.append(required("spec.internalTrafficPolicy"))
    elif internal not in ("Cluster", "Local"):
        errors.append(not_supported("spec.internalTrafficPolicy", internal, ["Cluster", "Local"]))
    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution != "PreferClose":
        errors.append(not_supported("spec.trafficDistribution", distribution, ["PreferClose"]))
    return errors


def _patch_allocated_values(new: dict, old: Mapping[str, Any]) -> None:
    """patchAllocatedValues: re-sending the YAML one created with keeps what the server allocated."""
    if new.get("type") != "ExternalName" and old.get("type") != "ExternalName":
        if not new.get("clusterIP") and old.get("clusterIP"):
            new["clusterIP"] = old["clusterIP"]
        if not new.get("clusterIPs") and old.get("clusterIPs"):
            new["clusterIPs"] = copy.deepcopy(old["clusterIPs"])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if new.get(key) is None and old.get(key) is not None:
                new[key] = copy.deepcopy(old[key])
    if _needs_node_ports(old) and _needs_node_ports(new):
        old_ports = old.get("ports") or []
        used = {port.get("nodePort") for port in old_ports if port.get("nodePort")}
        used &= {port.get("nodePort") for port in new.get("ports") or [] if port.get("nodePort")}
        by_name = {port.get("name") or "": port.get("nodePort") for port in old_ports}
        for port in new.get("ports") or []:
            if not port.get("nodePort"):
                previous = by_name.get(port.get("name") or "")
                if previous and previous not in used:
                    port["nodePort"] = previous
    if needs_health_check(old) and needs_health_check(new) and not new.get("healthCheckNodePort"):
        if old.get("healthCheckNodePort"):
            new["healthCheckNodePort"] = old["healthCheckNodePort"]


def _normalize_cluster_ips_on_update(new: dict, old: Mapping[str, Any]) -> None:
    """normalizeClusterIPs: a client that only edits `clusterIP` means `clusterIPs[0]` too."""
    if new.get("clusterIP") != old.get("clusterIP") and (new.get("clusterIPs") or []) == (old.get("clusterIPs") or []):
        if new.get("clusterIP"):
            new["clusterIPs"] = [new["clusterIP"]]
        else:
            new.pop("clusterIPs", None)


def _drop_type_dependent_fields(new: dict, old: Mapping[str, Any]) -> None:
    """dropTypeDependentFields: switching type clears what the server filled in for the old type.

    Only values the client left as they were are cleared, so `type: ClusterIP` patched onto a
    NodePort service loses its node ports instead of failing validation.
    """
    if old.get("type") != "ExternalName" and new.get("type") == "ExternalName":
        if new.get("clusterIP") == old.get("clusterIP") and new.get("clusterIPs") == old.get("clusterIPs"):
            new.pop("clusterIP", None)
            new.pop("clusterIPs", None)
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if new.get(key) == old.get(key):
                new.pop(key, None)
    if _needs_node_ports(old) and not _needs_node_ports(new):
        old_node_ports = {port.get("nodePort") for port in old.get("ports") or [] if port.get("nodePort")}
        new_node_ports = {port.get("nodePort") for port in new.get("ports") or [] if port.get("nodePort")}
        if new_node_ports <= old_node_ports:
            for port in new.get("ports") or []:
                port.pop("nodePort", None)
    if needs_health_check(old) and not needs_health_check(new):
        if new.get("healthCheckNodePort") == old.get("healthCheckNodePort"):
            new.pop("healthCheckNodePort", None)
    if old.get("type") == "LoadBalancer" and new.get("type") != "LoadBalancer":
        for key in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if new.get(key) is not None and new.get(key) == old.get(key):
                new.pop(key, None)
    if externally_accessible(old) and not externally_accessible(new):
        if new.get("externalTrafficPolicy") == old.get("externalTrafficPolicy"):
            new.pop("externalTrafficPolicy", None)


def validate_non_special_ip(address: str, path: str) -> list[FieldError]:
    """ValidateNonSpecialIP: endpoints and external IPs may not be unspecified, loopback or link-local."""
    ip = parse_ip_sloppy(address)
    if ip is None:
        return [invalid(path, address, "must be a valid IP address")]
    errors: list[FieldError] = []
    if ip.is_unspecified:
        errors.append(invalid(path, address, f"may not be unspecified ({address})"))
    if ip.is_loopback:
        errors.append(invalid(path, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local and not ip.is_multicast:
        errors.append(invalid(path, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    link_local_multicast = (ip.version == 4 and ip.packed[:3] == b"\xe0\x00\x00") or (
        ip.version == 6 and ip.packed[0] == 0xFF and ip.packed[1] & 0x0F == 0x02)
    if link_local_multicast:
        errors.append(invalid(path, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errors


# ================================================================ Namespace


class NamespaceStrategy(Strategy):
    kind = "Namespace"
    namespaced = False
    has_status = True
    validate_name = staticmethod(name_is_dns_label)

    def default(self, namespace: dict) -> None:
        metadata = namespace.setdefault("metadata", {})
        if metadata.get("name"):
            labels = metadata.get("labels") or {}
            labels["kubernetes.io/metadata.name"] = metadata["name"]
            metadata["labels"] = labels
        status = namespace.get("status")
        if status is None:
            status = namespace["status"] = {}
        if not status.get("phase"):
            status["phase"] = "Active"

    def validate(self, namespace: dict) -> list[FieldError]:
        errors = self.validate_metadata(namespace)
        for finalizer in (namespace.get("spec") or {}).get("finalizers") or []:
            # Kubernetes reports spec finalizers at the list's path, not at the index.
            errors += validate_qualified_name(finalizer, "spec.finalizers")
            if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
                errors.append(invalid("spec.finalizers", finalizer,
                                      "name is neither a standard finalizer name nor is it fully qualified"))
        return errors

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        phase = (new.get("status") or {}).get("phase") or ""
        if not (new.get("metadata") or {}).get("deletionTimestamp"):
            if phase != "Active":
                errors.append(invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"))
        elif phase != "Terminating":
            errors.append(invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
        return errors

    def prepare_for_create(self, namespace: dict) -> None:
        namespace["status"] = {"phase": "Active"}
        # The namespace controller removes this finalizer once the namespace's content is gone.
        spec = namespace.get("spec") or {}
        finalizers = list(spec.get("finalizers") or [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        spec["finalizers"] = finalizers
        namespace["spec"] = spec

    def prepare_for_update(self, new: dict, old: dict) -> None:
        super().prepare_for_update(new, old)
        # spec.finalizers changes only through /finalize.
        new_spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        _copy_field(new_spec, old_spec, "finalizers")


# ================================================================ Node


class NodeStrategy(Strategy):
    kind = "Node"
    namespaced = False
    has_status = True

    def default(self, node: dict) -> None:
        status = node.get("status")
        if status is None:
            return
        for list_name in ("capacity", "allocatable"):
            canonicalize_resource_list(status.get(list_name))
        if status.get("allocatable") is None and status.get("capacity") is not None:
            status["allocatable"] = dict(status["capacity"])

    def prepare_for_create(self, node: dict) -> None:
        """Nodes register themselves with their status (Kubernetes keeps it on create)."""

    def validate(self, node: dict) -> list[FieldError]:
        errors = self.validate_metadata(node)
        errors += validate_taints((node.get("spec") or {}).get("taints") or [], "metadata.taints")  # sic: Kubernetes' path
        errors += _validate_node_resources(node)
        pod_cidrs = (node.get("spec") or {}).get("podCIDRs") or []
        for index, value in enumerate(pod_cidrs):
            errors += [invalid(f"spec.podCIDRs[{index}]", value, message) for message in is_valid_cidr(value)]
        seen: set[str] = set()
        for index, value in enumerate(pod_cidrs):
            if value in seen:
                errors.append(duplicate(f"spec.podCIDRs[{index}]", value))
            seen.add(value)
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        return self.validate(new) + self.validate_status_update(new, old)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        """ValidateNodeUpdate."""
        errors = self.validate_metadata_update(new, old) + _validate_node_resources(new)
        seen_addresses: list[Any] = []
        for index, address in enumerate((new.get("status") or {}).get("addresses") or []):
            if address in seen_addresses:
                errors.append(duplicate(f"status.addresses[{index}]", GoValue(
                    f"core.NodeAddress{{Type:{go_quote(address.get('type') or '')}, Address:{go_quote(address.get('address') or '')}}}")))
            seen_addresses.append(address)
        new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        old_cidrs, new_cidrs = old_spec.get("podCIDRs") or [], new_spec.get("podCIDRs") or []
        if old_cidrs and (len(old_cidrs) != len(new_cidrs) or old_cidrs != new_cidrs):
            errors.append(forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
        old_provider = old_spec.get("providerID") or ""
        if old_provider and old_provider != (new_spec.get("providerID") or ""):
            errors.append(forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
        errors += validate_taints(new_spec.get("taints") or [], "metadata.taints")
        if new_spec.get("externalID") != old_spec.get("externalID"):
            errors.append(forbidden("spec.externalID", "may not be updated"))
        return errors


def _validate_node_resources(node: Mapping[str, Any]) -> list[FieldError]:
    """ValidateNodeResources: capacity and allocatable are quantities, never negative."""
    status = node.get("status") or {}
    errors: list[FieldError] = []
    for list_name in ("capacity", "allocatable"):
        resources = status.get(list_name) or {}
        for name in sorted(resources):
            errors += _validate_resource_quantity(resources[name], f"status.{list_name}.{name}")
    return errors


def _validate_resource_quantity(value: Any, path: str) -> list[FieldError]:
    try:
        amount = parse_quantity(value)
    except ValueError as error:
        return [invalid(path, value, str(error))]
    return [invalid(path, canonical_quantity(value), IS_NEGATIVE)] if amount < 0 else []


def validate_taints(taints: list[dict], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: dict[str, set[str]] = {}
    for index, taint in enumerate(taints):
        taint_path = f"{path}[{index}]"
        key, effect = taint.get("key") or "", taint.get("effect") or ""
        errors += validate_qualified_name(key, f"{taint_path}.key")
        messages = is_valid_label_value(taint.get("value") or "")
        if messages:
            errors.append(invalid(f"{taint_path}.value", taint.get("value") or "", ";".join(messages)))
        if not effect:
            errors.append(required(f"{taint_path}.effect"))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errors.append(not_supported(f"{taint_path}.effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
        if key in seen.get(effect, set()):
            error = duplicate(taint_path, GoValue(
                f"core.Taint{{Key:{go_quote(key)}, Value:{go_quote(taint.get('value') or '')}, "
                f"Effect:{go_quote(effect)}, TimeAdded:<nil>}}"))
            error.detail = "taints must be unique by key and effect pair"
            errors.append(error)
            continue
        seen.setdefault(effect, set()).add(key)
    return errors


# ================================================================ ConfigMap and Secret


def _decoded_length(value: Any) -> int | None:
    """Length of a base64 wire value once decoded, None when it is not base64."""
    if not isinstance(value, str):
        return None
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


def _base64_error(value: str) -> str:
    # Go's encoding/base64 reports the offset of the first byte it could not decode.
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    for offset, character in enumerate(value):
        if character not in alphabet:
            return f"illegal base64 data at input byte {offset}"
    return f"illegal base64 data at input byte {len(value) - len(value) % 4 if len(value) % 4 else len(value) - 1}"


def _validate_immutable_data(new: dict, old: dict, keys: tuple[str, ...]) -> list[FieldError]:
    if not old.get("immutable"):
        return []
    errors: list[FieldError] = []
    if not new.get("immutable"):
        errors.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            errors.append(forbidden(key, "field is immutable when `immutable` is set"))
    return errors


class ConfigMapStrategy(Strategy):
    kind = "ConfigMap"

    def validate(self, config_map: dict) -> list[FieldError]:
        errors = self.validate_metadata(config_map)
        data = config_map.get("data") or {}
        binary_data = config_map.get("binaryData") or {}
        total_size = 0
        for key in sorted(data):
            errors += [invalid(f"data[{key}]", key, message) for message in is_config_map_key(key)]
            if key in binary_data:
                errors.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
            total_size += len(str(data[key]).encode())
        for key in sorted(binary_data):
            errors += [invalid(f"binaryData[{key}]", key, message) for message in is_config_map_key(key)]
            length = _decoded_length(binary_data[key])
            if length is None:
                errors.append(invalid(f"binaryData[{key}]", "<binary data>", _base64_error(str(binary_data[key]))))
            else:
                total_size += length
        if total_size > MAX_SECRET_SIZE:
            errors.append(too_long("", MAX_SECRET_SIZE))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        errors += _validate_immutable_data(new, old, ("data", "binaryData"))
        return errors + self.validate(new)


SECRET_TYPE_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


class SecretStrategy(Strategy):
    kind = "Secret"

    def default(self, secret: dict) -> None:
        if not secret.get("type"):
            secret["type"] = "Opaque"
        # Conversion from v1 folds the write-only stringData into data.
        string_data = secret.pop("stringData", None)
        if string_data:
            data = secret.get("data") or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            secret["data"] = data

    def validate(self, secret: dict) -> list[FieldError]:
        errors = self.validate_metadata(secret)
        data = secret.get("data") or {}
        total_size = 0
        for key in sorted(data):
            errors += [invalid(f"data[{key}]", key, message) for message in is_config_map_key(key)]
            length = _decoded_length(data[key])
            if length is None:
                errors.append(invalid(f"data[{key}]", "<secret contents redacted>", _base64_error(str(data[key]))))
            else:
                total_size += length
        if total_size > MAX_SECRET_SIZE:
            errors.append(too_long("data", MAX_SECRET_SIZE))
        secret_type = secret.get("type") or ""
        if secret_type == "kubernetes.io/service-account-token":
            annotations = (secret.get("metadata") or {}).get("annotations") or {}
            if not annotations.get("kubernetes.io/service-account.name"):
                errors.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
        elif secret_type == "kubernetes.io/basic-auth":
            if "username" not in data and "password" not in data:
                errors += [required("data[username]"), required("data[password]")]
        elif secret_type in SECRET_TYPE_REQUIRED_KEYS:
            for key in SECRET_TYPE_REQUIRED_KEYS[secret_type]:
                if key not in data or (secret_type == "kubernetes.io/ssh-auth" and not _decoded_length(data[key])):
                    errors.append(required(f"data[{key}]"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old)
        errors += validate_immutable(new.get("type") or "", old.get("type") or "", "type")
        errors += _validate_immutable_data(new, old, ("data",))
        return errors + self.validate(new)


# ================================================================ Endpoints, Event, Binding


class EndpointsStrategy(Strategy):
    kind = "Endpoints"

    def default(self, endpoints: dict) -> None:
        for subset in endpoints.get("subsets") or []:
            for port in subset.get("ports") or []:
                if not port.get("protocol"):
                    port["protocol"] = "TCP"

    def validate(self, endpoints: dict) -> list[FieldError]:
        errors = self.validate_metadata(endpoints)
        for index, subset in enumerate(endpoints.get("subsets") or []):
            path = f"subsets[{index}]"
            if not subset.get("addresses") and not subset.get("notReadyAddresses"):
                errors.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
            for list_name in ("addresses", "notReadyAddresses"):
                for address_index, address in enumerate(subset.get(list_name) or []):
                    errors += _validate_endpoint_address(address, f"{path}.{list_name}[{address_index}]")
            ports = subset.get("ports") or []
            for port_index, port in enumerate(ports):
                errors += _validate_endpoint_port(port, f"{path}.ports[{port_index}]", require_name=len(ports) > 1)
        return errors


def _validate_endpoint_address(address: Mapping[str, Any], path: str) -> list[FieldError]:
    ip = address.get("ip") or ""
    errors = [invalid(f"{path}.ip", ip, message) for message in is_valid_ip(ip)]
    if address.get("hostname"):
        errors += [invalid(f"{path}.hostname", address["hostname"], message) for message in is_dns1123_label(address["hostname"])]
    if address.get("nodeName") is not None:
        errors += [invalid(f"{path}.nodeName", address["nodeName"], message)
                   for message in name_is_dns_subdomain(address["nodeName"], False)]
    return errors + validate_non_special_ip(ip, f"{path}.ip")


def _validate_endpoint_port(port: Mapping[str, Any], path: str, *, require_name: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errors.append(required(f"{path}.name"))
    elif name:
        errors += [invalid(f"{path}.name", name, message) for message in is_dns1123_label(name)]
    number = port.get("port") or 0
    errors += [invalid(f"{path}.port", number, message) for message in is_valid_port_num(number)]
    protocol = port.get("protocol") or ""
    if not protocol:
        errors.append(required(f"{path}.protocol"))
    elif protocol not in PORT_PROTOCOLS:
        errors.append(not_supported(f"{path}.protocol", protocol, PORT_PROTOCOLS))
    if port.get("appProtocol") is not None:
        errors += validate_qualified_name(port["appProtocol"], f"{path}.appProtocol")
    return errors


EVENT_REASON_LIMIT = 128
EVENT_ACTION_LIMIT = 128
EVENT_REPORTING_INSTANCE_LIMIT = 128
EVENT_NOTE_LIMIT = 1024


class EventStrategy(Strategy):
    kind = "Event"

    def validate(self, event: dict) -> list[FieldError]:
        """ValidateEventCreate for core/v1 events."""
        errors = self.validate_metadata(event)
        namespace = (event.get("metadata") or {}).get("namespace") or ""
        involved_namespace = (event.get("involvedObject") or {}).get("namespace") or ""
        mismatch = invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace")
        if not event.get("eventTime"):
            if not involved_namespace:
                if namespace not in ("", "default"):
                    errors.append(mismatch)
            elif namespace != involved_namespace:
                errors.append(mismatch)
        else:
            if not involved_namespace and namespace not in ("default", "kube-system"):
                errors.append(mismatch)
            controller = event.get("reportingComponent") or ""
            if not controller:
                errors.append(required("reportingComponent"))
            errors += validate_qualified_name(controller, "reportingComponent")
            for key, limit in (("reportingInstance", EVENT_REPORTING_INSTANCE_LIMIT), ("action", EVENT_ACTION_LIMIT),
                               ("reason", EVENT_REASON_LIMIT)):
                value = event.get(key) or ""
                if not value:
                    errors.append(required(key))
                if len(value) > limit:
                    errors.append(invalid(key, "", f"can have at most {limit} characters"))
            if len(event.get("message") or "") > EVENT_NOTE_LIMIT:
                errors.append(invalid("message", "", f"can have at most {EVENT_NOTE_LIMIT} characters"))
        errors += [invalid("namespace", namespace, message) for message in is_dns1123_subdomain(namespace)]
        return errors


class BindingStrategy(Strategy):
    """pods/binding: ValidatePodBinding only (the pod's own strategy guards the pod)."""

    kind = "Binding"

    def validate(self, binding: dict) -> list[FieldError]:
        target = binding.get("target") or {}
        errors: list[FieldError] = []
        if target.get("kind") and target["kind"] != "Node":
            errors.append(not_supported("target.kind", target["kind"], ["Node", "<empty>"]))
        if not target.get("name"):
            errors.append(required("target.name"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        return self.validate(new)

