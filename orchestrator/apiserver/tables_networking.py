"""kubectl columns for networking.k8s.io/v1: Ingress, IngressClass, NetworkPolicy.

As printIngress / printIngressClass / printNetworkPolicy in Kubernetes' printers.go,
with `wide` on as the kube-apiserver prints (addresses are never clipped).

Used by: orchestrator/apiserver/tables.py, which merges COLUMNS and PRINTERS into its own.
"""

from __future__ import annotations

from datetime import datetime

MAX_HOSTS_SHOWN = 3


def format_hosts(rules: list[dict] | None) -> str:
    """The HOSTS cell: up to three hosts, `*` when no rule names one."""
    rules = rules or []
    hosts = [rule["host"] for rule in rules[:MAX_HOSTS_SHOWN] if rule.get("host")]
    if not hosts:
        return "*"
    text = ",".join(hosts)
    if len(rules) > MAX_HOSTS_SHOWN:
        return f"{text} + {len(rules) - MAX_HOSTS_SHOWN} more..."
    return text


def format_load_balancer(status: dict | None) -> str:
    entries = ((status or {}).get("loadBalancer") or {}).get("ingress") or []
    addresses = [entry.get("ip") or entry.get("hostname") for entry in entries]
    return ",".join(address for address in addresses if address)


def ingress_cells(ingress: dict, now: datetime, *, name, age) -> list:
    spec = ingress.get("spec") or {}
    return [
        name(ingress),
        spec.get("ingressClassName") or "<none>",
        format_hosts(spec.get("rules")),
        format_load_balancer(ingress.get("status")),
        "80, 443" if spec.get("tls") else "80",
        age(ingress, now),
    ]


def ingress_class_parameters(ingress_class: dict) -> str:
    parameters = (ingress_class.get("spec") or {}).get("parameters")
    if parameters is None:
        return "<none>"
    text = parameters.get("kind") or ""
    if parameters.get("apiGroup") is not None:
        text += "." + parameters["apiGroup"]
    return f"{text}/{parameters.get('name') or ''}"


def columns(column, name_column, age_column) -> dict[str, list[dict]]:
    """Column definitions, built with tables.py's own column helpers."""
    return {
        "ingresses": [
            name_column,
            column("Class", "The name of the IngressClass resource that should be used for ingress"),
            column("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
            column("Address", "Address is a list containing ingress points for the load-balancer"),
            column("Ports", "Ports of TLS configurations that open"),
            age_column,
        ],
        "ingressclasses": [
            name_column,
            column("Controller", "Controller that is responsible for handling this class"),
            column("Parameters", "A reference to a resource with additional parameters"),
            age_column,
        ],
        "networkpolicies": [
            name_column,
            column("Pod-Selector", "Select the pods to which this NetworkPolicy object applies"),
            age_column,
        ],
    }
