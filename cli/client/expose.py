"""`orc expose`: make a Service for a deployment, replica set, pod or service, like `kubectl expose`.

The Service is the one kubectl 1.32 generates: named after the object (or `--name`), labelled with
its labels, selecting its pods (a workload's `matchLabels`, a pod's labels, a service's selector),
with `--port` (else the object's container ports, named `port-1`, `port-2`... when several),
`--target-port` (else the port itself), `--protocol`, `--type`, `--external-ip`, `--cluster-ip`.
Prints `service/NAME exposed`. Registered by cli/client/__init__.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import DryRunOption, FilenameOption, OutputOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource


def register(app: typer.Typer) -> None:
    app.command("expose", help="Expose a resource as a new Kubernetes service.")(expose)


def selector_for(resource: ApiResource, document: dict) -> dict[str, str]:
    """The pods a Service for this object should select (kubectl's MapBasedSelectorForObject)."""
    from cli.client.errors import CliError

    spec = document.get("spec") or {}
    name = (document.get("metadata") or {}).get("name", "")
    if resource.kind == "Pod":
        labels = (document.get("metadata") or {}).get("labels") or {}
        if not labels:
            raise CliError("the pod has no labels and cannot be exposed")
        return dict(labels)
    if resource.kind == "Service":
        if not spec.get("selector"):
            raise CliError("the service has no pod selector set")
        return dict(spec["selector"])
    if resource.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        selector = spec.get("selector") or {}
        if selector.get("matchExpressions"):
            raise CliError(f"couldn't convert expressions - \"{selector['matchExpressions']}\" to map-based "
                           f"selector format")
        return dict(selector.get("matchLabels") or {})
    raise CliError(f"cannot expose a {resource.kind} (name {name}): it has no pods to select")


def ports_for(resource: ApiResource, document: dict) -> list[tuple[int, str]]:
    """(port, protocol) of the object's pods (kubectl's PortsForObject / ProtocolsForObject)."""
    spec = document.get("spec") or {}
    if resource.kind == "Service":
        return [(port.get("port"), port.get("protocol", "TCP")) for port in spec.get("ports") or []]
    pod_spec = spec if resource.kind == "Pod" else (spec.get("template") or {}).get("spec") or {}
    return [(port.get("containerPort"), port.get("protocol", "TCP"))
            for container in pod_spec.get("containers") or [] for port in container.get("ports") or []]


def service_for(resource: ApiResource, document: dict, *, name: str | None, port: str | None,
                target_port: str | None, protocol: str | None, service_type: str | None, external_ip: str | None,
                cluster_ip: str | None, labels: str | None, selector: str | None,
                load_balancer_ip: str | None, session_affinity: str | None) -> dict:
    from cli.client.errors import CliError

    metadata = document.get("metadata") or {}
    if selector:
        selector_map = dict(term.split("=", 1) for term in selector.split(",") if "=" in term)
    else:
        selector_map = selector_for(resource, document)
    introspected = ports_for(resource, document)
    if port:
        port_numbers = [int(text) for text in port.split(",")]
        protocols = [protocol or next((p for number, p in introspected if number == value), "TCP")
                     for value in port_numbers]
    elif introspected:
        port_numbers = [number for number, _ in introspected]
        protocols = [protocol or each for _, each in introspected]
    else:
        raise CliError("couldn't find port via --port flag or introspection")
    ports = []
    for index, (number, each_protocol) in enumerate(zip(port_numbers, protocols, strict=True)):
        entry: dict = {"protocol": each_protocol, "port": number}
        if len(port_numbers) > 1:
            entry = {"name": f"port-{index + 1}", **entry}
        if target_port:
            entry["targetPort"] = int(target_port) if target_port.isdigit() else target_port
        else:
            entry["targetPort"] = number
        ports.append(entry)
    if labels:
        label_map = dict(term.split("=", 1) for term in labels.split(",") if "=" in term)
    else:
        label_map = dict(metadata.get("labels") or {})
    service_metadata: dict = {"name": name or metadata.get("name", ""), "creationTimestamp": None}
    if label_map:
        service_metadata["labels"] = label_map
    spec: dict = {"ports": ports, "selector": selector_map}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip  # "None" makes a headless service
    if service_type:
        spec["type"] = service_type
    if external_ip:
        spec["externalIPs"] = [external_ip]
    if service_type == "LoadBalancer" and load_balancer_ip:
        spec["loadBalancerIP"] = load_balancer_ip
    if session_affinity:
        spec["sessionAffinity"] = session_affinity
    return {"kind": "Service", "apiVersion": "v1", "metadata": service_metadata, "spec": spec,
            "status": {"loadBalancer": {}}}


@verb
def expose(
    connection: Connection,
    args: Annotated[list[str] | None, typer.Argument(help="TYPE NAME or TYPE/NAME", show_default=False)] = None,
    port: Annotated[str | None, typer.Option("--port", help="The port the service serves on.")] = None,
    target_port: Annotated[str | None, typer.Option("--target-port", help="Name or number of the port on the "
                                                    "pods to direct traffic to.")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="TCP, UDP or SCTP.")] = None,
    service_type: Annotated[str | None, typer.Option("--type", help="ClusterIP, NodePort, LoadBalancer or "
                                                     "ExternalName.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The name of the new service.")] = None,
    external_ip: Annotated[str | None, typer.Option("--external-ip", help="An external IP to accept traffic on.")]
    = None,
    cluster_ip: Annotated[str | None, typer.Option("--cluster-ip", help="The service's ClusterIP ('None' for a "
                                                   "headless service).")] = None,
    load_balancer_ip: Annotated[str | None, typer.Option("--load-balancer-ip", help="IP for a LoadBalancer.")] = None,
    labels: Annotated[str | None, typer.Option("--labels", "-l", help="Labels for the service (a=b,c=d).")] = None,
    selector: Annotated[str | None, typer.Option("--selector", help="The pod selector (a=b), instead of the "
                                                 "object's.")] = None,
    session_affinity: Annotated[str | None, typer.Option("--session-affinity", help="None or ClientIP.")] = None,
    filename: FilenameOption = None,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
) -> None:
    from cli.client.apply import Target, create_object, finish, report
    from cli.client.errors import CliError, ServerError
    from cli.client.manifests import Manifest
    from cli.client.options import parse_dry_run
    from cli.client.printers import parse_output
    from cli.client.targets import manifest_targets, objects_of, resolve_targets

    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    errors: list[Exception] = []
    if filename:
        selections, errors = manifest_targets(connection, filename, recursive=False)
    else:
        if not args:
            raise CliError("You must provide one or more resources by argument or filename.")
        selections = resolve_targets(connection, args, verb="expose", require_names=True)
    services = connection.discovery.resolve("services")
    for selection in selections:
        for document in objects_of(connection, selection, errors=errors):
            service = service_for(selection.resource, document, name=name, port=port, target_port=target_port,
                                  protocol=protocol, service_type=service_type, external_ip=external_ip,
                                  cluster_ip=cluster_ip, labels=labels, selector=selector,
                                  load_balancer_ip=load_balancer_ip, session_affinity=session_affinity)
            namespace = (document.get("metadata") or {}).get("namespace") or connection.namespace
            if connection.namespace_is_explicit:  # as kubectl, name the namespace only when -n was given
                service["metadata"] = {"name": service["metadata"]["name"], "namespace": namespace,
                                       **{k: v for k, v in service["metadata"].items() if k != "name"}}
            target = Target(Manifest(source="", document=service), services, namespace)
            try:
                created = create_object(connection.client, target, service, dry_run=dry_run_mode,
                                        field_manager="kubectl-expose")
            except ServerError as error:
                errors.append(error)
                continue
            report(created, target.ref, "exposed", output=output_format, dry_run=dry_run_mode, resource=services)
    finish(errors)
