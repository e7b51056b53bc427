"""What a pod is told about Service networking: its resolv.conf and its `<SVC>_SERVICE_HOST` variables.

Pure functions the kubelet calls when it creates a pod's sandbox and containers,
following pkg/kubelet/network/dns/dns.go (GetPodDNS) and pkg/kubelet/envvars:

- `pod_dns_config(pod, cluster_dns=[...])` -> (nameservers, searches, options) for the
  sandbox (`docker create --dns/--dns-search/--dns-opt`), honouring `dnsPolicy`
  (ClusterFirst, ClusterFirstWithHostNet, Default, None) and `dnsConfig`;
- `service_environment(services, namespace=..., enable_service_links=...)` -> the
  Docker-links-style variables Kubernetes puts in every container;
- `parse_resolv_conf(text)` for the host's own resolver settings (dnsPolicy Default).

Docker note: on a user-defined bridge network Docker writes `nameserver 127.0.0.11`
(its embedded resolver) into the container and forwards to the servers given here,
from inside the container's network namespace, so the cluster DNS address works
unchanged; the search list and options are written as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DNS_OPTIONS = ("ndots:5",)
MAX_DNS_NAMESERVERS = 3
MAX_DNS_SEARCH_PATHS = 32
MAX_DNS_SEARCH_LIST_CHARS = 2048
MAX_DNS_SEARCH_PATH_LENGTH = 253
# Services the kubelet always describes to containers, whatever enableServiceLinks says.
MASTER_SERVICES = {("default", "kubernetes")}


@dataclass(frozen=True)
class HostDNS:
    """The node's own resolver settings (its /etc/resolv.conf)."""

    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass
class _DNSConfig:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def parse_resolv_conf(text: str) -> HostDNS:
    """parseResolvConf: `nameserver` lines accumulate, the last `search` and `options` lines win."""
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            nameservers.append(fields[1])
        elif fields[0] == "search":
            searches = [domain.removesuffix(".") for domain in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return HostDNS(tuple(nameservers), tuple(searches), tuple(options))


def pod_dns_config(
    pod: dict,
    *,
    cluster_dns: list[str],
    cluster_domain: str = "cluster.local",
    host_dns: HostDNS | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) for the pod's resolv.conf.

    `host_dns` is the node's resolv.conf; without it a Default-policy pod gets empty
    lists, which leaves Docker to copy the host's settings (the same thing).
    """
    spec = pod.get("spec") or {}
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    host = host_dns or HostDNS()
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"  # a host-network pod cannot reach the cluster DNS by its service address
    config = _DNSConfig(list(host.nameservers), list(host.searches), list(host.options))
    if policy == "None":
        config = _DNSConfig()
    elif policy in ("ClusterFirst", "ClusterFirstWithHostNet") and cluster_dns:
        config.nameservers = list(cluster_dns)
        config.searches = _cluster_searches(namespace, cluster_domain, host.searches)
        config.options = list(DEFAULT_DNS_OPTIONS)
    # Otherwise (Default, or ClusterFirst on a kubelet without cluster DNS): the host's settings.
    pod_dns = spec.get("dnsConfig")
    if pod_dns:
        config.nameservers = _unique([*config.nameservers, *(pod_dns.get("nameservers") or [])])
        config.searches = _unique([*config.searches, *(pod_dns.get("searches") or [])])
        config.options = _merge_options(config.options, pod_dns.get("options") or [])
    return (config.nameservers[:MAX_DNS_NAMESERVERS], _fit_searches(config.searches), config.options)


def _cluster_searches(namespace: str, cluster_domain: str, host_searches: tuple[str, ...]) -> list[str]:
    if not cluster_domain:
        return list(host_searches)
    return _unique([f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain, *host_searches])


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _merge_options(existing: list[str], pod_options: list[dict]) -> list[str]:
    """mergeDNSOptions: a pod option replaces the option of the same name (order kept, for stable output)."""
    merged: dict[str, str | None] = {}
    for option in existing:
        name, separator, value = option.partition(":")
        merged[name] = value if separator else None
    for option in pod_options:
        merged[option.get("name") or ""] = option.get("value")
    return [name if value in (None, "") else f"{name}:{value}" for name, value in merged.items() if name]


def _fit_searches(searches: list[str]) -> list[str]:
    """formDNSSearchFitsLimits: at most 32 paths, none over 253 characters, 2048 characters in all."""
    fitted = [search for search in searches[:MAX_DNS_SEARCH_PATHS] if len(search) <= MAX_DNS_SEARCH_PATH_LENGTH]
    while fitted and len(" ".join(fitted)) > MAX_DNS_SEARCH_LIST_CHARS:
        fitted.pop()
    return fitted


def service_environment(services: list[dict], *, namespace: str, enable_service_links: bool) -> dict[str, str]:
    """The `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`, `<SVC>_PORT_<port>_TCP...` variables of a pod.

    The Services of the pod's namespace (when `enableServiceLinks`, the default) and
    always `default/kubernetes`; headless and ExternalName Services have no address
    and give no variables. The container's own `env` is applied after these.
    """
    chosen: dict[str, dict] = {}
    for service in sorted(services, key=lambda item: ((item.get("metadata") or {}).get("name") or "")):
        metadata = service.get("metadata") or {}
        service_namespace = metadata.get("namespace") or "default"
        name = metadata.get("name") or ""
        if not _has_cluster_ip(service):
            continue
        if (service_namespace, name) in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif service_namespace == namespace and enable_service_links:
            chosen[name] = service
    environment: dict[str, str] = {}
    for name in sorted(chosen):
        environment.update(_variables_of(chosen[name]))
    return environment


def _has_cluster_ip(service: dict) -> bool:
    cluster_ip = (service.get("spec") or {}).get("clusterIP")
    return bool(cluster_ip) and cluster_ip != "None"


def _variable_name(name: str) -> str:
    return name.replace("-", "_").upper()


def _variables_of(service: dict) -> dict[str, str]:
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports:
        return {}
    prefix = _variable_name((service.get("metadata") or {}).get("name") or "")
    cluster_ip = spec["clusterIP"]
    variables = {
        f"{prefix}_SERVICE_HOST": cluster_ip,
        f"{prefix}_SERVICE_PORT": str(ports[0]["port"]),
    }
    for port in ports:
        if port.get("name"):
            variables[f"{prefix}_SERVICE_PORT_{_variable_name(port['name'])}"] = str(port["port"])
    for index, port in enumerate(ports):
        protocol = port.get("protocol") or "TCP"
        url = f"{protocol.lower()}://{cluster_ip}:{port['port']}"
        if index == 0:
            variables[f"{prefix}_PORT"] = url  # Docker links special-case the first port
        port_prefix = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
        variables[port_prefix] = url
        variables[f"{port_prefix}_PROTO"] = protocol.lower()
        variables[f"{port_prefix}_PORT"] = str(port["port"])
        variables[f"{port_prefix}_ADDR"] = cluster_ip
    return variables
