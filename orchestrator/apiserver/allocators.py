"""Service address allocation: cluster IPs from the service CIDR, node ports from 30000-32767.

Kubernetes keeps bitmaps of allocated IPs and ports; here the allocation state is
derived from the Services stored at the time of the write, so nothing has to be
kept in step with etcd (and a deleted Service frees its addresses by being gone).
`allocate_service(service, existing, old=...)` is pure: it returns a copy of the
Service with `spec.clusterIP(s)`, `ipFamilies`, `ipFamilyPolicy`, `ports[].nodePort`
and `healthCheckNodePort` filled in, or the `FieldError`s Kubernetes answers with
(`provided IP is already allocated`, `provided port is already allocated`, ...).
It follows pkg/registry/core/service/storage/alloc.go for a single-stack IPv4
cluster, including the split of each range into a low band kept for static
requests and a high band that dynamic allocation prefers, which is why
10.96.0.10 stays free for the cluster DNS without anyone asking for it.

Called by the generic REST layer (rest.py) on Service create and update, after
the strategy has defaulted and validated the object and before it is stored.
"""

from __future__ import annotations

import copy
import ipaddress
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from orchestrator.api.errors import FieldError, invalid
from orchestrator.apiserver.strategies.meta import go_string_slice

DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
DEFAULT_NODE_PORT_RANGE = (30000, 32767)
CLUSTER_DOMAIN = "cluster.local"

# The addresses every cluster of this project reserves, and for whom (namespace, name).
KUBERNETES_SERVICE = ("default", "kubernetes")
DNS_SERVICE = ("kube-system", "kube-dns")

IP_ALREADY_ALLOCATED = "provided IP is already allocated"
PORT_ALREADY_ALLOCATED = "provided port is already allocated"

NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


class AllocationFull(Exception):
    """No address or port is left: the REST layer answers 500, as Kubernetes does."""


@dataclass(frozen=True)
class ServiceNetwork:
    """What the apiserver allocates from: `--service-cluster-ip-range` and `--service-node-port-range`."""

    service_cidr: str = DEFAULT_SERVICE_CIDR
    node_port_range: tuple[int, int] = DEFAULT_NODE_PORT_RANGE

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.service_cidr)

    def kubernetes_service_ip(self) -> str:
        """The first address of the range, always the `kubernetes` Service's (10.96.0.1)."""
        return str(self.network.network_address + 1)

    def dns_service_ip(self) -> str:
        """The tenth address, by convention the cluster DNS's (10.96.0.10)."""
        return str(self.network.network_address + 10)

    def reserved_ips(self) -> dict[str, tuple[str, str]]:
        """Addresses only one named Service may take."""
        return {self.kubernetes_service_ip(): KUBERNETES_SERVICE, self.dns_service_ip(): DNS_SERVICE}


@dataclass
class _Taken:
    """What the other Services hold."""

    ips: set[str] = field(default_factory=set)
    node_ports: set[int] = field(default_factory=set)


def allocate_service(
    service: dict,
    existing: Iterable[dict],
    *,
    old: dict | None = None,
    network: ServiceNetwork | None = None,
    rng: random.Random | None = None,
) -> dict | list[FieldError]:
    """The Service with its addresses allocated, or the errors that refuse it.

    `existing` is every stored Service (the stored version of this one, if any, is
    recognised by namespace/name and ignored); `old` is the stored version on an
    update. The input is not modified. Raises AllocationFull when the range is
    exhausted (Kubernetes answers 500 InternalError then).
    """
    network = network or ServiceNetwork()
    rng = rng or random.Random()
    allocated = copy.deepcopy(service)
    spec = allocated.setdefault("spec", {})
    taken = _taken_by_others(existing, _identity(service))
    old_spec = (old or {}).get("spec") or {}

    errors = _init_ip_family_fields(spec, old_spec if old is not None else None)
    if errors:
        return errors
    if old is None or (old_spec.get("type") == "ExternalName" and spec.get("type") != "ExternalName"):
        errors = _allocate_cluster_ips(spec, taken=taken, network=network, rng=rng, identity=_identity(service))
        if errors:
            return errors
    errors = _allocate_node_ports(spec, old_spec=old_spec, taken=taken, network=network, rng=rng)
    if errors:
        return errors
    return allocated


# ------------------------------------------------------------------ state


def _identity(service: dict) -> tuple[str, str]:
    metadata = service.get("metadata") or {}
    return metadata.get("namespace") or "default", metadata.get("name") or ""


def _taken_by_others(existing: Iterable[dict], identity: tuple[str, str]) -> _Taken:
    taken = _Taken()
    for other in existing:
        if _identity(other) == identity:
            continue
        spec = other.get("spec") or {}
        if spec.get("type") != "ExternalName":
            taken.ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None")
        taken.node_ports.update(port["nodePort"] for port in spec.get("ports") or [] if port.get("nodePort"))
        if spec.get("healthCheckNodePort"):
            taken.node_ports.add(spec["healthCheckNodePort"])
    return taken


# ------------------------------------------------------------------ IP families


def _init_ip_family_fields(spec: dict, old_spec: dict | None) -> list[FieldError]:
    """initIPFamilyFields for a cluster that only has IPv4: default the policy, infer and check the families."""
    if spec.get("type") == "ExternalName":
        return []
    headless_selectorless = spec.get("clusterIP") == "None" and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        if old_spec is not None and old_spec.get("ipFamilyPolicy") is not None:
            spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
        elif headless_selectorless:
            spec["ipFamilyPolicy"] = "RequireDualStack"
        else:
            spec["ipFamilyPolicy"] = "SingleStack"
    policy = spec["ipFamilyPolicy"]
    families = list(spec.get("ipFamilies") or [])
    cluster_ips = spec.get("clusterIPs") or []
    errors: list[FieldError] = []
    if policy == "SingleStack" and len(cluster_ips) == 2:
        errors.append(invalid("spec.ipFamilyPolicy", policy,
                              "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
    if policy == "SingleStack" and len(families) == 2:
        errors.append(invalid("spec.ipFamilyPolicy", policy,
                              "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
    for index, address in enumerate(cluster_ips):
        if address == "None":
            break
        if index < len(families):
            continue
        if _family_of(address) != "IPv4":
            errors.append(invalid(f"spec.clusterIPs[{index}]", go_string_slice(cluster_ips),
                                  f"{_family_of(address)} is not configured on this cluster"))
        else:
            families.append("IPv4")
    if errors:
        return errors
    if headless_selectorless:
        # Kubernetes lets a headless, selectorless Service name both families even on a single-stack cluster.
        families = families or ["IPv4"]
        if len(families) < 2 and policy != "SingleStack":
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families
        return []
    if policy == "RequireDualStack":
        errors.append(invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"))
    for index, family in enumerate(families):
        if family != "IPv4":
            errors.append(invalid(f"spec.ipFamilies[{index}]", family, "not configured on this cluster"))
    if errors:
        return errors
    spec["ipFamilies"] = families or ["IPv4"]
    return []


def _family_of(address: str) -> str:
    try:
        return "IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"
    except ValueError:
        return "IPv4"  # validation has already refused it; do not invent a second error


# ------------------------------------------------------------------ cluster IPs


def _allocate_cluster_ips(
    spec: dict, *, taken: _Taken, network: ServiceNetwork, rng: random.Random, identity: tuple[str, str]
) -> list[FieldError]:
    if spec.get("type") == "ExternalName":
        return []
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    if cluster_ips[:1] == ["None"]:
        spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
        return []
    unavailable = set(taken.ips)
    unavailable.update(ip for ip, owner in network.reserved_ips().items() if owner != identity)
    requested = cluster_ips[0] if cluster_ips else ""
    if requested:
        problem = _ip_problem(requested, network=network, unavailable=unavailable)
        if problem:
            return [invalid("spec.clusterIPs", go_string_slice(cluster_ips), f"failed to allocate IP {requested}: {problem}")]
        chosen = requested
    else:
        chosen = _next_free_ip(network=network, unavailable=unavailable, rng=rng)
    spec["clusterIP"] = chosen
    spec["clusterIPs"] = [chosen]
    return []


def _ip_problem(requested: str, *, network: ServiceNetwork, unavailable: set[str]) -> str:
    usable = network.network
    try:
        address = ipaddress.ip_address(requested)
    except ValueError:
        address = None
    if address is None or address not in usable or address in (usable.network_address, usable.broadcast_address):
        return f"the provided IP ({requested}) is not in the valid range. The range of valid IPs is {network.service_cidr}"
    if str(address) in unavailable:
        return IP_ALREADY_ALLOCATED
    return ""


def _static_band_size(range_size: int) -> int:
    """Kubernetes' calculateRangeOffset: the low band kept for static requests (16..256 entries)."""
    minimum, maximum, step = 16, 256, 16
    if range_size < minimum:
        return 0
    return min(max(minimum, range_size // step), maximum)


def _next_free_ip(*, network: ServiceNetwork, unavailable: set[str], rng: random.Random) -> str:
    usable = network.network
    first = int(usable.network_address) + 1
    size = usable.num_addresses - 2  # neither the network nor the broadcast address
    offset = _static_band_size(size)
    # A random start in the high band, then the high band, then the low band (as the bitmap allocator).
    for low, high in ((offset, size), (0, offset)):
        if high <= low:
            continue
        start = rng.randrange(low, high)
        for index in range(high - low):
            candidate = str(ipaddress.IPv4Address(first + low + (start - low + index) % (high - low)))
            if candidate not in unavailable:
                return candidate
    raise AllocationFull(f"failed to allocate a serviceIP: range is full ({network.service_cidr})")


# ------------------------------------------------------------------ node ports


def _should_allocate_node_ports(spec: dict) -> bool:
    if spec.get("type") == "NodePort":
        return True
    return spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True) is not False


def _allocate_node_ports(
    spec: dict, *, old_spec: dict, taken: _Taken, network: ServiceNetwork, rng: random.Random
) -> list[FieldError]:
    """initNodePorts / updateNodePorts: requests honoured if free, one node port per service port number."""
    if spec.get("type") not in NODE_PORT_TYPES:
        return []
    ports = spec.get("ports") or []
    # On an update the Service keeps what it already holds; only newly requested ports must be free.
    held = {port.get("nodePort") for port in old_spec.get("ports") or [] if port.get("nodePort")}
    held.add(old_spec.get("healthCheckNodePort") or 0)
    claimed: set[int] = set()
    node_port_of_service_port: dict[int, int] = {}
    for index, port in enumerate(ports):
        requested = port.get("nodePort") or 0
        if not requested and not _should_allocate_node_ports(spec):
            continue  # allocateLoadBalancerNodePorts: false still honours explicit requests
        shared = node_port_of_service_port.get(port.get("port"))
        if not requested and shared:
            port["nodePort"] = shared  # TCP and UDP on one service port share a node port
            continue
        if not requested:
            # findRequestedNodePort: a later entry for the same service port may name the node port.
            requested = next((later.get("nodePort") for later in ports[index + 1:]
                              if later.get("port") == port.get("port") and later.get("nodePort")), 0)
        if requested:
            if requested != shared and requested not in held and (requested in taken.node_ports or requested in claimed):
                return [invalid(f"spec.ports[{index}].nodePort", requested, PORT_ALREADY_ALLOCATED)]
        else:
            requested = _next_free_port(network=network, unavailable=taken.node_ports | claimed, rng=rng)
        port["nodePort"] = requested
        claimed.add(requested)
        node_port_of_service_port.setdefault(port.get("port"), requested)
    if spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
        requested = spec.get("healthCheckNodePort") or 0
        if not requested:
            spec["healthCheckNodePort"] = _next_free_port(network=network, unavailable=taken.node_ports | claimed,
                                                          rng=rng)
        elif requested not in held and (requested in taken.node_ports or requested in claimed):
            return [invalid("spec.healthCheckNodePort", requested,
                            f"failed to allocate requested HealthCheck NodePort {requested}: {PORT_ALREADY_ALLOCATED}")]
    return []


def _next_free_port(*, network: ServiceNetwork, unavailable: set[int], rng: random.Random) -> int:
    base, last = network.node_port_range
    size = last - base + 1
    offset = _node_port_band_size(size)
    for low, high in ((offset, size), (0, offset)):
        if high <= low:
            continue
        start = rng.randrange(low, high)
        for index in range(high - low):
            candidate = base + low + (start - low + index) % (high - low)
            if candidate not in unavailable:
                return candidate
    raise AllocationFull(f"failed to allocate a nodePort: range is full ({base}-{last})")


def _node_port_band_size(range_size: int) -> int:
    """The port allocator's calculateRangeOffset: 16..128 low ports kept for static requests."""
    minimum, maximum, step = 16, 128, 32
    if range_size < minimum:
        return 0
    return min(max(minimum, range_size // step), maximum)
