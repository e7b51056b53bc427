"""What the proxy should program, computed from Services and Endpoints alone (pure, no I/O).

`service_ports(services, endpoints)` joins each Service port with its ready endpoints
(kube-proxy's ServicePortName -> endpoints map); `plan(ports, settings)` turns them
into a `ProxyPlan`:

- `ruleset`: iptables chains in the nat and filter tables, as kube-proxy's iptables
  mode writes them, every chain named `ORC-<cluster tag>-...` so that two clusters
  on one machine never touch each other's rules:

      nat  ORC-T-SERVICES     ClusterIP / LoadBalancer / externalIP:port -> ORC-T-SVC-x or ORC-T-EXT-x,
                              the cluster DNS address -> the local DNS server, then node addresses -> NODEPORTS
      nat  ORC-T-NODEPORTS    nodePort -> ORC-T-EXT-x
      nat  ORC-T-EXT-x        mark for masquerade, then ORC-T-SVC-x (traffic from outside the pods)
      nat  ORC-T-SVC-x        session affinity (`recent`), then a random pick among ORC-T-SEP-y
      nat  ORC-T-SEP-y        hairpin masquerade, DNAT to one endpoint
      nat  ORC-T-POSTROUTING  masquerade what was marked
      filter ORC-T-SERVICES   REJECT service ports without endpoints, and anything else sent to
                              the service CIDR (so a ClusterIP never leaks onto the network)
      filter ORC-T-FORWARD    accept forwarded service traffic before Docker's isolation drops it
      filter ORC-T-INPUT      the DNS server's port answers only redirected queries and loopback

- `listeners`: the loopback addresses (127.0.0.1:nodePort, and a LoadBalancer whose
  ingress is 127.0.0.1) that a userspace TCP proxy serves, because the kernel will
  not DNAT 127.0.0.1 to a bridge without `route_localnet` (see userspace.py).

Used by the proxy's sync loop (main.py), rendered and applied by iptables.py.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

NAT, FILTER = "nat", "filter"
# The packet-mark bit that asks POSTROUTING to masquerade (kube-proxy uses 0x4000; stay clear of it).
MASQUERADE_MARK = "0x8000"
DEFAULT_AFFINITY_SECONDS = 10800
LOOPBACK_NETWORK = ipaddress.IPv4Network("127.0.0.0/8")
SUPPORTED_PROTOCOLS = ("TCP", "UDP")
MAX_CHAIN_NAME = 28  # iptables' limit (XT_EXTENSION_MAXNAMELEN - 1)


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Endpoint:
    """One ready backend of a service port."""

    ip: str
    port: int


@dataclass(frozen=True)
class ServicePort:
    """One port of one Service with everything needed to route it."""

    namespace: str
    name: str
    port_name: str
    protocol: str
    port: int
    cluster_ip: str | None  # None for headless and ExternalName
    node_port: int | None = None
    load_balancer_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    affinity_seconds: int | None = None  # set when sessionAffinity is ClientIP
    endpoints: tuple[Endpoint, ...] = ()

    @property
    def key(self) -> str:
        """`namespace/name:port` (kube-proxy's ServicePortName), shown in rule comments and logs."""
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.name}{suffix}"


@dataclass(frozen=True)
class ProxySettings:
    """What a proxy knows besides the objects: its cluster, the service range and the DNS server."""

    cluster_name: str
    service_cidr: str = "10.96.0.0/16"
    dns_ip: str | None = None  # the cluster DNS address pods are told to use (10.96.0.10)
    dns_port: int | None = None  # where this proxy's DNS server listens, None when it does not run
    userspace_loopback: bool = True  # serve 127.0.0.1 destinations with the userspace proxy
    # The podCIDRs of this cluster's nodes. Known, they scope the PREROUTING jump: several clusters on one
    # machine share the service range and the DNS address, and the newest one's rules would otherwise
    # catch the other clusters' pods' packets (their DNS queries answered by the wrong cluster).
    pod_cidrs: tuple[str, ...] = ()


# ------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class Jump:
    """A rule in a built-in chain (or Docker's DOCKER-USER) that enters one of our chains."""

    table: str
    chain: str
    rule: str  # the match and target, e.g. "-m conntrack --ctstate NEW -j ORC-ORC-SERVICES"


@dataclass
class Ruleset:
    """Our chains, table by table, each an ordered list of rules (arguments after `-A CHAIN`)."""

    prefix: str
    chains: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {NAT: {}, FILTER: {}})
    jumps: list[Jump] = field(default_factory=list)

    def chain(self, table: str, name: str) -> list[str]:
        return self.chains[table].setdefault(name, [])


@dataclass(frozen=True)
class Listener:
    """A loopback address:port the userspace proxy serves for one service port."""

    address: str
    port: int
    service_port: ServicePort


@dataclass
class ProxyPlan:
    ruleset: Ruleset
    listeners: list[Listener]


# ------------------------------------------------------------------ joining services and endpoints


def service_ports(services: Iterable[dict], endpoints: Iterable[dict]) -> list[ServicePort]:
    """Every routable port of every Service, with its ready endpoints (sorted, so plans are stable)."""
    endpoints_by_key = {_object_key(item): item for item in endpoints}
    result: list[ServicePort] = []
    for service in sorted(services, key=_object_key):
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        cluster_ip = spec.get("clusterIP")
        if not cluster_ip or cluster_ip == "None":
            continue  # headless: DNS answers with the pods themselves, nothing to proxy
        namespace, name = _object_key(service)
        affinity = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
            affinity = int(config.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
        ingress_ips = tuple(entry["ip"] for entry in
                            ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
                            if entry.get("ip")) if spec.get("type") == "LoadBalancer" else ()
        for port in spec.get("ports") or []:
            protocol = port.get("protocol") or "TCP"
            if protocol not in SUPPORTED_PROTOCOLS:
                continue
            port_name = port.get("name") or ""
            result.append(ServicePort(
                namespace=namespace,
                name=name,
                port_name=port_name,
                protocol=protocol,
                port=int(port["port"]),
                cluster_ip=cluster_ip,
                node_port=port.get("nodePort") if spec.get("type") in ("NodePort", "LoadBalancer") else None,
                load_balancer_ips=ingress_ips,
                external_ips=tuple(spec.get("externalIPs") or ()),
                affinity_seconds=affinity,
                endpoints=_ready_endpoints(endpoints_by_key.get((namespace, name)), port_name, protocol),
            ))
    return result


def _object_key(obj: dict) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace") or "default", metadata.get("name") or ""


def _ready_endpoints(endpoints: dict | None, port_name: str, protocol: str) -> tuple[Endpoint, ...]:
    """The ready addresses paired with the endpoint port of the same name (how kube-proxy matches them)."""
    found: set[Endpoint] = set()
    for subset in (endpoints or {}).get("subsets") or []:
        for endpoint_port in subset.get("ports") or []:
            if (endpoint_port.get("name") or "") != port_name or (endpoint_port.get("protocol") or "TCP") != protocol:
                continue
            for address in subset.get("addresses") or []:
                found.add(Endpoint(ip=address["ip"], port=int(endpoint_port["port"])))
    return tuple(sorted(found, key=lambda endpoint: (ipaddress.ip_address(endpoint.ip), endpoint.port)))


# ------------------------------------------------------------------ naming


def chain_prefix(cluster_name: str) -> str:
    """`ORC-<tag>`: the cluster name in capitals when short, else a stable hash of it (chains have 28 chars)."""
    if re.fullmatch(r"[A-Za-z0-9]{1,8}", cluster_name):
        return f"ORC-{cluster_name.upper()}"
    return "ORC-C" + hashlib.sha256(cluster_name.encode()).hexdigest()[:7].upper()


def _hashed(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:10]


def service_chain(prefix: str, port: ServicePort) -> str:
    return f"{prefix}-SVC-{_hashed(port.key, port.protocol)}"


def external_chain(prefix: str, port: ServicePort) -> str:
    return f"{prefix}-EXT-{_hashed(port.key, port.protocol)}"


def endpoint_chain(prefix: str, port: ServicePort, endpoint: Endpoint) -> str:
    return f"{prefix}-SEP-{_hashed(port.key, port.protocol, endpoint.ip, str(endpoint.port))}"


# ------------------------------------------------------------------ the plan


def plan(ports: Iterable[ServicePort], settings: ProxySettings) -> ProxyPlan:
    """The chains, jumps and loopback listeners that make every service port reachable."""
    prefix = chain_prefix(settings.cluster_name)
    ruleset = Ruleset(prefix=prefix)
    listeners: list[Listener] = []
    names = _ChainNames(prefix)
    nat_services = ruleset.chain(NAT, names.services)
    ruleset.chain(NAT, names.node_ports)
    ruleset.chain(NAT, names.mark_masquerade).append(f"-j MARK --or-mark {MASQUERADE_MARK}")
    ruleset.chain(NAT, names.postrouting).extend([
        f"-m mark ! --mark {MASQUERADE_MARK}/{MASQUERADE_MARK} -j RETURN",
        f"-j MARK --xor-mark {MASQUERADE_MARK}",  # a packet that re-enters the stack is not masqueraded twice
        "-j MASQUERADE",
    ])
    filter_services = ruleset.chain(FILTER, names.services)
    filter_forward = ruleset.chain(FILTER, names.forward)
    filter_input = ruleset.chain(FILTER, names.input)

    if settings.dns_ip and settings.dns_port:
        for protocol in ("udp", "tcp"):
            nat_services.append(f"-d {settings.dns_ip}/32 -p {protocol} -m {protocol} --dport 53 "
                                f"-m comment --comment \"cluster DNS\" -j REDIRECT --to-ports {settings.dns_port}")
            # Only queries that came through the redirect (or from this machine) reach the server.
            filter_input.append(f"-p {protocol} -m {protocol} --dport {settings.dns_port} ! -s 127.0.0.0/8 "
                                f"-m conntrack ! --ctstate DNAT -j DROP")

    for port in ports:
        if settings.dns_port and port.cluster_ip == settings.dns_ip and port.port == 53:
            continue  # a kube-dns Service object on the DNS address: the local server answers for it
        _plan_service_port(port, ruleset=ruleset, names=names, settings=settings, listeners=listeners)

    # Node ports last, as kube-proxy: a ClusterIP rule never loses to a node port. Loopback is the
    # userspace proxy's (DNAT to a bridge from 127.0.0.1 needs route_localnet).
    nat_services.append(f"-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j {names.node_ports}")
    filter_services.append(f"-d {settings.service_cidr} -m comment --comment \"no such service\" "
                           f"-j REJECT --reject-with icmp-port-unreachable")
    filter_forward.extend([
        f"-m mark --mark {MASQUERADE_MARK}/{MASQUERADE_MARK} -j ACCEPT",
        f"-m conntrack --ctstate DNAT --ctorigdst {settings.service_cidr} -j ACCEPT",
        "-m conntrack --ctstate RELATED,ESTABLISHED -m conntrack --ctstate DNAT -j ACCEPT",
    ])
    ruleset.jumps.extend(_jumps(names, settings.pod_cidrs, settings.service_cidr))
    return ProxyPlan(ruleset=ruleset, listeners=listeners)


@dataclass(frozen=True)
class _ChainNames:
    prefix: str

    @property
    def services(self) -> str:
        return f"{self.prefix}-SERVICES"

    @property
    def node_ports(self) -> str:
        return f"{self.prefix}-NODEPORTS"

    @property
    def mark_masquerade(self) -> str:
        return f"{self.prefix}-MARK-MASQ"

    @property
    def postrouting(self) -> str:
        return f"{self.prefix}-POSTROUTING"

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD"

    @property
    def input(self) -> str:
        return f"{self.prefix}-INPUT"


def _jumps(names: _ChainNames, pod_cidrs: tuple[str, ...], service_cidr: str) -> list[Jump]:
    # The service range (ClusterIPs, the DNS address) only for this cluster's pods; everything else
    # (node ports, LoadBalancer and external IPs) for any source, as before.
    prerouting = ([Jump(NAT, "PREROUTING", f"-s {cidr} -j {names.services}") for cidr in pod_cidrs]
                  + [Jump(NAT, "PREROUTING", f"! -d {service_cidr} -j {names.services}")]
                  if pod_cidrs else [Jump(NAT, "PREROUTING", f"-j {names.services}")])
    return [
        *prerouting,
        Jump(NAT, "OUTPUT", f"-j {names.services}"),
        Jump(NAT, "POSTROUTING", f"-j {names.postrouting}"),
        Jump(FILTER, "OUTPUT", f"-m conntrack --ctstate NEW -j {names.services}"),
        Jump(FILTER, "FORWARD", f"-m conntrack --ctstate NEW -j {names.services}"),
        Jump(FILTER, "FORWARD", f"-j {names.forward}"),
        Jump(FILTER, "INPUT", f"-j {names.input}"),
    ]


def _plan_service_port(
    port: ServicePort, *, ruleset: Ruleset, names: _ChainNames, settings: ProxySettings, listeners: list[Listener]
) -> None:
    protocol = port.protocol.lower()
    comment = f"-m comment --comment \"{port.key}\""
    match = f"-p {protocol} -m {protocol} --dport {port.port}"
    nat_services = ruleset.chain(NAT, names.services)
    filter_services = ruleset.chain(FILTER, names.services)
    external_destinations = [ip for ip in (*port.load_balancer_ips, *port.external_ips) if _is_ipv4(ip)]
    loopback_destinations = [ip for ip in external_destinations if ipaddress.IPv4Address(ip) in LOOPBACK_NETWORK]
    routed_destinations = [ip for ip in external_destinations if ip not in loopback_destinations]

    if settings.userspace_loopback and port.protocol == "TCP":
        for address in loopback_destinations:
            listeners.append(Listener(address=address, port=port.port, service_port=port))
        if port.node_port:
            listeners.append(Listener(address="127.0.0.1", port=port.node_port, service_port=port))

    if not port.endpoints:
        # As kube-proxy: refuse at once rather than let the client wait for a timeout.
        reject = "-j REJECT --reject-with icmp-port-unreachable"
        filter_services.append(f"-d {port.cluster_ip}/32 {match} {comment} {reject}")
        for address in routed_destinations:
            filter_services.append(f"-d {address}/32 {match} {comment} {reject}")
        return

    svc = service_chain(ruleset.prefix, port)
    ext = external_chain(ruleset.prefix, port)
    nat_services.append(f"-d {port.cluster_ip}/32 {match} {comment} -j {svc}")
    if routed_destinations or port.node_port:
        ruleset.chain(NAT, ext).extend([f"-j {names.mark_masquerade}", f"-j {svc}"])
        for address in routed_destinations:
            nat_services.append(f"-d {address}/32 {match} {comment} -j {ext}")
        if port.node_port:
            ruleset.chain(NAT, names.node_ports).append(
                f"-p {protocol} -m {protocol} --dport {port.node_port} {comment} -j {ext}")

    svc_rules = ruleset.chain(NAT, svc)
    endpoint_chains = [endpoint_chain(ruleset.prefix, port, endpoint) for endpoint in port.endpoints]
    if port.affinity_seconds:
        for chain in endpoint_chains:
            svc_rules.append(f"{comment} -m recent --name {chain} --mask 255.255.255.255 --rsource "
                             f"--rcheck --seconds {port.affinity_seconds} --reap -j {chain}")
    for index, chain in enumerate(endpoint_chains):
        remaining = len(endpoint_chains) - index
        if remaining > 1:
            # Each rule takes 1/remaining of what reaches it: an even split over all endpoints.
            svc_rules.append(f"{comment} -m statistic --mode random --probability {1 / remaining:.11f} -j {chain}")
        else:
            svc_rules.append(f"{comment} -j {chain}")
    for endpoint, chain in zip(port.endpoints, endpoint_chains, strict=True):
        sep_rules = ruleset.chain(NAT, chain)
        sep_rules.append(f"-s {endpoint.ip}/32 {comment} -j {names.mark_masquerade}")  # a pod reaching itself
        affinity = f"-m recent --name {chain} --mask 255.255.255.255 --rsource --set " if port.affinity_seconds else ""
        sep_rules.append(f"-p {protocol} {comment} {affinity}-m {protocol} -j DNAT --to-destination "
                         f"{endpoint.ip}:{endpoint.port}")


def _is_ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False
