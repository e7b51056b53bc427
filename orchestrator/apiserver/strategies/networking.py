"""Strategies for networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy.

Validation follows pkg/apis/networking/validation (Kubernetes 1.32): an Ingress needs
rules or a defaultBackend; every path has a pathType (Exact and Prefix paths are
absolute and free of `//`, `/./`, `/../`, `%2f`); a backend is a Service (DNS-1035
name and a port name or number, not both) or a typed resource, never both; hosts are
DNS names, not IPs, and a `*` only as the whole first label. IngressClass controllers
are domain-prefixed paths and immutable. NetworkPolicy is validated and defaulted
(policyTypes, port protocol) so it can be stored; nothing enforces it.

Used by: orchestrator/apiserver/strategies/__init__.py (STRATEGIES).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orchestrator.api.errors import FieldError, forbidden, invalid, not_supported, required
from orchestrator.api.names import (
    DNS1123_SUBDOMAIN_FMT,
    DNS1123_SUBDOMAIN_MAX_LENGTH,
    is_dns1035_label,
    is_dns1123_subdomain,
    is_valid_cidr,
    is_valid_ip,
    is_valid_port_name,
    is_valid_port_num,
    max_len_error,
    parse_ip_sloppy,
    regex_error,
)
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import FIELD_IMMUTABLE, GoValue, validate_label_selector

PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]
INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"]
INVALID_PATH_SUFFIXES = ["/..", "/."]
WILDCARD_DNS1123_SUBDOMAIN_FMT = "\\*\\." + DNS1123_SUBDOMAIN_FMT
_WILDCARD_RE = re.compile(WILDCARD_DNS1123_SUBDOMAIN_FMT)
_WILDCARD_ERR_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of "
    "lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character"
)
_PATH_SEGMENT_FORBIDDEN = (".", "..")
_DOMAIN_PATH_RE = re.compile("[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+")
INGRESS_CLASS_CONTROLLER_MAX_LENGTH = 250
NETWORK_POLICY_PROTOCOLS = ["SCTP", "TCP", "UDP"]
POLICY_TYPES = ["Egress", "Ingress"]


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    errors: list[str] = []
    if len(value.encode()) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if _WILDCARD_RE.fullmatch(value) is None:
        errors.append(regex_error(_WILDCARD_ERR_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, "*.example.com"))
    return errors


def _path_segment_errors(value: str) -> list[str]:
    """pathvalidation.IsValidPathSegmentName: an object name usable as one URL path segment."""
    if value in _PATH_SEGMENT_FORBIDDEN:
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def _host_errors(host: str, path: str) -> list[FieldError]:
    if "*" in host:
        return [invalid(path, host, message) for message in is_wildcard_dns1123_subdomain(host)]
    return [invalid(path, host, message) for message in is_dns1123_subdomain(host)]


# ----- Ingress -------------------------------------------------------------------------------


def validate_typed_reference(reference: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if reference.get("apiGroup") is not None:
        group = reference["apiGroup"]
        errors += [invalid(f"{path}.apiGroup", group, message) for message in is_dns1123_subdomain(group)]
    for key in ("kind", "name"):
        value = reference.get(key) or ""
        if not value:
            errors.append(required(f"{path}.{key}", f"{key} is required"))
        else:
            errors += [invalid(f"{path}.{key}", value, message) for message in _path_segment_errors(value)]
    return errors


def validate_ingress_backend(backend: Mapping[str, Any], path: str) -> list[FieldError]:
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return validate_typed_reference(resource, f"{path}.resource")
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    errors: list[FieldError] = []
    name = service.get("name") or ""
    if not name:
        errors.append(required(f"{path}.service.name"))
    else:
        errors += [invalid(f"{path}.service.name", name, message) for message in is_dns1035_label(name)]
    port = service.get("port") or {}
    port_name, port_number = port.get("name") or "", port.get("number") or 0
    if port_name and port_number:
        errors.append(invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        errors += [invalid(f"{path}.service.port.name", port_name, message) for message in is_valid_port_name(port_name)]
    elif port_number:
        errors += [invalid(f"{path}.service.port.number", port_number, message)
                   for message in is_valid_port_num(port_number)]
    else:
        errors.append(required(path, "port name or number is required"))
    return errors


def validate_ingress_path(http_path: Mapping[str, Any], path: str) -> list[FieldError]:
    path_type = http_path.get("pathType")
    if path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    errors: list[FieldError] = []
    url_path = http_path.get("path") or ""
    if path_type in ("Exact", "Prefix"):
        if not url_path.startswith("/"):
            errors.append(invalid(f"{path}.path", url_path, "must be an absolute path"))
        if url_path:
            errors += [invalid(f"{path}.path", url_path, f"must not contain '{sequence}'")
                       for sequence in INVALID_PATH_SEQUENCES if sequence in url_path]
            errors += [invalid(f"{path}.path", url_path, f"cannot end with '{suffix}'")
                       for suffix in INVALID_PATH_SUFFIXES if url_path.endswith(suffix)]
    elif path_type == "ImplementationSpecific":
        if url_path and not url_path.startswith("/"):
            errors.append(invalid(f"{path}.path", url_path, "must be an absolute path"))
    else:
        errors.append(not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    return errors + validate_ingress_backend(http_path.get("backend") or {}, f"{path}.backend")


def validate_ingress_rules(rules: list[Mapping[str, Any]], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, rule in enumerate(rules):
        rule_path = f"{path}[{index}]"
        host = rule.get("host") or ""
        if host:
            if parse_ip_sloppy(host) is not None:
                errors.append(invalid(f"{rule_path}.host", host, "must be a DNS name, not an IP address"))
            errors += _host_errors(host, f"{rule_path}.host")
        http = rule.get("http")
        if http is not None:
            paths = http.get("paths") or []
            if not paths:
                errors.append(required(f"{rule_path}.http.paths"))
            for path_index, http_path in enumerate(paths):
                errors += validate_ingress_path(http_path, f"{rule_path}.http.paths[{path_index}]")
    return errors


def validate_ingress_tls(tls_entries: list[Mapping[str, Any]], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, tls in enumerate(tls_entries):
        for host_index, host in enumerate(tls.get("hosts") or []):
            errors += _host_errors(host, f"{path}[{index}].hosts[{host_index}]")
        secret_name = tls.get("secretName") or ""
        if secret_name:
            errors += [invalid(f"{path}[{index}].secretName", secret_name, message)
                       for message in is_dns1123_subdomain(secret_name)]
    return errors


def validate_ingress_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    rules = spec.get("rules") or []
    if not rules and spec.get("defaultBackend") is None:
        errors.append(invalid("spec", GoValue("[]networking.IngressRule(nil)"), "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        errors += validate_ingress_backend(spec["defaultBackend"], "spec.defaultBackend")
    errors += validate_ingress_rules(rules, "spec.rules")
    errors += validate_ingress_tls(spec.get("tls") or [], "spec.tls")
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        errors += [invalid("spec.ingressClassName", class_name, message) for message in is_dns1123_subdomain(class_name)]
    return errors


def validate_load_balancer_status(status: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, entry in enumerate((status.get("loadBalancer") or {}).get("ingress") or []):
        entry_path = f"{path}.loadBalancer.ingress[{index}]"
        if entry.get("ip"):
            errors += [invalid(f"{entry_path}.ip", entry["ip"], message) for message in is_valid_ip(entry["ip"])]
        hostname = entry.get("hostname")
        if hostname:
            errors += [invalid(f"{entry_path}.hostname", hostname, message) for message in is_dns1123_subdomain(hostname)]
            if parse_ip_sloppy(hostname) is not None:
                errors.append(invalid(f"{entry_path}.hostname", hostname, "must be a DNS name, not an IP address"))
    return errors


class IngressStrategy(Strategy):
    kind = "Ingress"
    has_status = True

    def validate(self, ingress: dict) -> list[FieldError]:
        return self.validate_metadata(ingress) + validate_ingress_spec(ingress.get("spec") or {})

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        return self.validate_metadata_update(new, old) + validate_load_balancer_status(new.get("status") or {}, "status")


# ----- IngressClass --------------------------------------------------------------------------


def is_domain_prefixed_path(value: str) -> list[str]:
    """validation.IsDomainPrefixedPath: `example.com/path`."""
    domain, slash, rest = value.partition("/")
    if not slash or not domain or not rest:
        return ['must be a domain-prefixed path (such as "acme.io/foo")']
    errors = is_dns1123_subdomain(domain)
    if _DOMAIN_PATH_RE.fullmatch(rest) is None:
        errors.append(regex_error("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"))
    return errors


class IngressClassStrategy(Strategy):
    kind = "IngressClass"
    namespaced = False

    def default(self, ingress_class: dict) -> None:
        parameters = (ingress_class.get("spec") or {}).get("parameters")
        if parameters is not None and parameters.get("scope") is None:
            parameters["scope"] = "Cluster"

    def validate(self, ingress_class: dict) -> list[FieldError]:
        errors = self.validate_metadata(ingress_class)
        spec = ingress_class.get("spec") or {}
        controller = spec.get("controller") or ""
        if not controller:
            errors.append(required("spec.controller"))
        else:
            if len(controller) > INGRESS_CLASS_CONTROLLER_MAX_LENGTH:
                errors.append(FieldError("spec.controller", "TooLong", controller,
                                         max_len_error(INGRESS_CLASS_CONTROLLER_MAX_LENGTH)))
            errors += [invalid("spec.controller", controller, message) for message in is_domain_prefixed_path(controller)]
        parameters = spec.get("parameters")
        if parameters is not None:
            errors += self._validate_parameters(parameters, "spec.parameters")
        return errors

    @staticmethod
    def _validate_parameters(parameters: Mapping[str, Any], path: str) -> list[FieldError]:
        errors = validate_typed_reference(parameters, path)
        scope, namespace = parameters.get("scope"), parameters.get("namespace")
        if scope == "Namespace":
            if not namespace:
                errors.append(required(f"{path}.namespace", "`parameters.scope` is set to 'Namespace'"))
        elif scope == "Cluster":
            if namespace:
                errors.append(forbidden(f"{path}.namespace", "`parameters.scope` is set to 'Cluster'"))
        else:
            errors.append(not_supported(f"{path}.scope", scope, ["Cluster", "Namespace"]))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = super().validate_update(new, old)
        new_controller = (new.get("spec") or {}).get("controller")
        if new_controller != (old.get("spec") or {}).get("controller"):
            errors.append(invalid("spec.controller", new_controller, FIELD_IMMUTABLE))
        return errors


# ----- NetworkPolicy -------------------------------------------------------------------------


def _validate_policy_ports(ports: list[Mapping[str, Any]], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, port in enumerate(ports):
        port_path = f"{path}[{index}]"
        protocol = port.get("protocol")
        if protocol is not None and protocol not in NETWORK_POLICY_PROTOCOLS:
            errors.append(not_supported(f"{port_path}.protocol", protocol, NETWORK_POLICY_PROTOCOLS))
        value, end_port = port.get("port"), port.get("endPort")
        if isinstance(value, int):
            errors += [invalid(f"{port_path}.port", value, message) for message in is_valid_port_num(value)]
            if end_port is not None:
                if end_port < value:
                    errors.append(invalid(f"{port_path}.endPort", end_port, "must be greater than or equal to `port`"))
                errors += [invalid(f"{port_path}.endPort", end_port, message) for message in is_valid_port_num(end_port)]
        elif isinstance(value, str):
            errors += [invalid(f"{port_path}.port", value, message) for message in is_valid_port_name(value)]
            if end_port is not None:
                errors.append(invalid(f"{port_path}.endPort", end_port, "may not be specified when `port` is non-numeric"))
        elif end_port is not None:
            errors.append(invalid(f"{port_path}.endPort", end_port, "may not be specified when `port` is not specified"))
    return errors


def _validate_ip_block(block: Mapping[str, Any], path: str) -> list[FieldError]:
    import ipaddress

    cidr = block.get("cidr") or ""
    if not cidr:
        return [required(f"{path}.cidr")]
    cidr_errors = [invalid(f"{path}.cidr", cidr, message) for message in is_valid_cidr(cidr)]
    if cidr_errors:
        return cidr_errors
    network = ipaddress.ip_network(cidr, strict=False)
    errors: list[FieldError] = []
    for index, excepted in enumerate(block.get("except") or []):
        except_path = f"{path}.except[{index}]"
        problems = is_valid_cidr(excepted)
        if problems:
            errors += [invalid(except_path, excepted, message) for message in problems]
            continue
        inner = ipaddress.ip_network(excepted, strict=False)
        if inner.version != network.version or not inner.subnet_of(network):  # type: ignore[arg-type]
            errors.append(invalid(except_path, excepted, "must be a strict subset of `cidr`"))
    return errors


def _validate_peers(peers: list[Mapping[str, Any]], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, peer in enumerate(peers):
        peer_path = f"{path}[{index}]"
        kinds = [key for key in ("podSelector", "namespaceSelector") if peer.get(key) is not None]
        if peer.get("ipBlock") is not None:
            if kinds:
                errors.append(forbidden(peer_path, "may not specify both ipBlock and another peer"))
            errors += _validate_ip_block(peer["ipBlock"], f"{peer_path}.ipBlock")
        elif not kinds:
            errors.append(required(peer_path, "must specify a peer"))
        for key in kinds:
            errors += validate_label_selector(peer[key], f"{peer_path}.{key}")
    return errors


class NetworkPolicyStrategy(Strategy):
    kind = "NetworkPolicy"

    def default(self, policy: dict) -> None:
        spec = policy.setdefault("spec", {})
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]

    def validate(self, policy: dict) -> list[FieldError]:
        errors = self.validate_metadata(policy)
        spec = policy.get("spec") or {}
        errors += validate_label_selector(spec.get("podSelector") or {}, "spec.podSelector")
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, rule in enumerate(spec.get(direction) or []):
                rule_path = f"spec.{direction}[{index}]"
                errors += _validate_policy_ports(rule.get("ports") or [], f"{rule_path}.ports")
                errors += _validate_peers(rule.get(peers_key) or [], f"{rule_path}.{peers_key}")
        policy_types = spec.get("policyTypes") or []
        for index, policy_type in enumerate(policy_types):
            if policy_type not in POLICY_TYPES:
                errors.append(not_supported(f"spec.policyTypes[{index}]", policy_type, POLICY_TYPES))
        if len(policy_types) > len(POLICY_TYPES):
            errors.append(invalid("spec.policyTypes", policy_types, "may not specify more than two policyTypes"))
        return errors
