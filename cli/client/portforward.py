"""`orc port-forward TYPE/NAME [LOCAL:]REMOTE...`: forward local ports to a pod, like kubectl.

`pod/NAME` (or a bare NAME), `svc/NAME`, `deploy/NAME` (any object with a selector: the pod the way
`orc logs` picks one). For a Service the remote port is a service port, turned into the target port
as kubectl's translateServicePortToTargetPort does; a named pod port is looked up in the pod's
containers. Each listener on `--address` (127.0.0.1) accepts TCP connections; each connection
becomes one WebSocket `pods/NAME/portforward?ports=N` to the apiserver (bearer token, cluster CA),
which relays it to the kubelet, which connects to the pod. Binary frames carry the bytes; when
either side closes, both close. Runs until Ctrl-C.

The port arithmetic (`parse_port_specs`, `translate_service_ports`, `resolve_named_pod_ports`) is
pure. Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.errors import CliError
from cli.client.options import verb

if TYPE_CHECKING:
    from cli.client.connection import Connection

RELAY_CHUNK_BYTES = 64 * 1024


def register(app: typer.Typer) -> None:
    app.command("port-forward", help="Forward one or more local ports to a pod.")(port_forward)


@dataclass(frozen=True)
class PortMapping:
    """One `[LOCAL:]REMOTE`; `local` 0 means any free port; `remote` may still be a port name."""

    local: int
    remote: str


def _port_number(text: str, *, spec: str) -> int:
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise CliError(f"Error parsing local port '{text}': invalid port in {spec!r}")
    return int(text)


def parse_port_specs(specs: list[str]) -> list[PortMapping]:
    """`8080`, `9000:8080`, `:8080` (a random local port), `8080:http` (a named remote port)."""
    mappings = []
    for spec in specs:
        local, colon, remote = spec.partition(":")
        if not colon:
            local, remote = spec, spec
        if not remote:
            raise CliError(f"Error parsing remote port in {spec!r}")
        local_port = 0 if colon and local == "" else (_port_number(local, spec=spec) if local.isdigit() else None)
        if local_port is None:
            # `http` alone: the local port becomes the number the name resolves to (kubectl).
            if colon:
                raise CliError(f"Error parsing local port '{local}': not a number")
            local_port = -1
        mappings.append(PortMapping(local=local_port, remote=remote))
    return mappings


def _container_port_by_name(pod: dict, name: str) -> int | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return port.get("containerPort")
    return None


def resolve_named_pod_ports(mappings: list[PortMapping], pod: dict) -> list[tuple[int, int]]:
    """(local, remote) numbers for a pod: names become the container port they name (convertPodNamedPortToNumber)."""
    resolved = []
    for mapping in mappings:
        if mapping.remote.isdigit():
            remote = int(mapping.remote)
        else:
            found = _container_port_by_name(pod, mapping.remote)
            if found is None:
                raise CliError(f"Pod '{pod['metadata']['name']}' does not have a named port '{mapping.remote}'")
            remote = found
        if not 0 < remote < 65536:
            raise CliError(f"Error parsing remote port '{mapping.remote}': invalid port")
        resolved.append((remote if mapping.local == -1 else mapping.local, remote))
    return resolved


def translate_service_ports(mappings: list[PortMapping], service: dict, pod: dict) -> list[tuple[int, int]]:
    """(local, remote) numbers for a Service's pod: a service port (number or name) becomes its target port.

    As kubectl: a bare `80` listens on 80 locally and reaches the target port; a service port the
    Service does not declare is an error."""
    service_name = service["metadata"]["name"]
    service_ports = (service.get("spec") or {}).get("ports") or []
    resolved = []
    for mapping in mappings:
        if mapping.remote.isdigit():
            port_number = int(mapping.remote)
        else:
            port_number = next((p.get("port") for p in service_ports if p.get("name") == mapping.remote), None)
            if port_number is None:
                raise CliError(f"Service '{service_name}' does not have a named port '{mapping.remote}'")
        service_port = next((p for p in service_ports if p.get("port") == port_number), None)
        if service_port is None:
            raise CliError(f"Service {service_name} does not have a service port {port_number}")
        target = service_port.get("targetPort")
        if target in (None, 0, ""):
            remote = port_number
        elif isinstance(target, int) or str(target).isdigit():
            remote = int(target)
        else:
            found = _container_port_by_name(pod, str(target))
            if found is None:
                raise CliError(f"Pod '{pod['metadata']['name']}' does not have a named port '{target}'")
            remote = found
        resolved.append((port_number if mapping.local == -1 else mapping.local, remote))
    return resolved


def _pod_and_service(connection: Connection, target: str, namespace: str) -> tuple[dict, dict | None]:
    """The pod to forward to, and the Service when the target is one (its ports need translating)."""
    from cli.client.execute import pod_for_target
    from cli.client.targets import get_object

    kind, slash, name = target.partition("/")
    if not slash:
        kind, name = "pods", target
    resource = connection.discovery.resolve(kind)
    service = None
    if resource.kind == "Service":
        service = get_object(connection.client, resource, name, namespace=namespace)
    return pod_for_target(connection, target, namespace=namespace), service


def websocket_url(connection: Connection, *, namespace: str, pod_name: str, port: int) -> str:
    from cli.client.streams import websocket_url as url_on_server

    return url_on_server(connection, f"/api/v1/namespaces/{namespace}/pods/{pod_name}/portforward?ports={port}")


def forward_connection(local: socket.socket, *, url: str, connection: Connection, remote_port: int) -> None:
    """Relay one accepted local connection through a WebSocket until either side closes."""
    from websockets.exceptions import ConnectionClosed, WebSocketException

    from cli.client.streams import open_websocket, refusal_message

    try:
        websocket = open_websocket(connection, url)
    except (OSError, WebSocketException, TimeoutError) as error:
        sys.stderr.write(f"E0000 error forwarding port {remote_port}: {refusal_message(error)}\n")
        local.close()
        return

    def local_to_remote() -> None:
        try:
            while chunk := local.recv(RELAY_CHUNK_BYTES):
                websocket.send(chunk)
        except (OSError, ConnectionClosed):
            pass
        finally:
            websocket.close()

    sender = threading.Thread(target=local_to_remote, daemon=True)
    sender.start()
    try:
        for message in websocket:
            if isinstance(message, bytes):
                local.sendall(message)
    except (OSError, ConnectionClosed):
        pass
    finally:
        # The remote side ended: closing the socket also ends local_to_remote's recv.
        try:
            local.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        local.close()
        websocket.close()


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address, port))
    except OSError as error:
        listener.close()
        raise CliError(f"unable to listen on port {port}: Listeners failed to create with the following errors: "
                       f"[unable to create listener: Error listen tcp4 {address}:{port}: bind: {error.strerror}]") \
            from None
    listener.listen(128)
    return listener


@verb
def port_forward(
    connection: Connection,
    target: Annotated[str, typer.Argument(help="TYPE/NAME (pod/, svc/, deploy/ ...) or a pod name",
                                          show_default=False)],
    ports: Annotated[list[str] | None, typer.Argument(help="[LOCAL_PORT:]REMOTE_PORT ...", show_default=False)]
    = None,
    address: Annotated[str, typer.Option("--address", help="Addresses to listen on (comma separated); localhost "
                                                           "means 127.0.0.1.")] = "localhost",
) -> None:
    if not ports:
        raise CliError("TYPE/NAME and list of ports are required for port-forward")
    namespace = connection.namespace
    mappings = parse_port_specs(ports)
    pod, service = _pod_and_service(connection, target, namespace)
    pod_name = pod["metadata"]["name"]
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise CliError(f"unable to forward port because pod is not running. Current status={phase}")
    pairs = translate_service_ports(mappings, service, pod) if service else resolve_named_pod_ports(mappings, pod)
    addresses = ["127.0.0.1" if each.strip() == "localhost" else each.strip() for each in address.split(",")]
    listeners = []
    try:
        for local_port, remote_port in pairs:
            for each in addresses:
                listener = _listen(each, local_port)
                listeners.append((listener, remote_port))
                bound = listener.getsockname()[1]
                shown = f"[{each}]" if ":" in each else each
                print(f"Forwarding from {shown}:{bound} -> {remote_port}", flush=True)
        for listener, remote_port in listeners:
            url = websocket_url(connection, namespace=namespace, pod_name=pod_name, port=remote_port)
            threading.Thread(target=_accept_loop, args=(listener,),
                             kwargs={"url": url, "connection": connection, "remote_port": remote_port},
                             daemon=True).start()
        stop = threading.Event()
        while not stop.wait(0.5):  # a bounded wait keeps Ctrl-C responsive
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for listener, _ in listeners:
            listener.close()


def _accept_loop(listener: socket.socket, *, url: str, connection: Connection, remote_port: int) -> None:
    while True:
        try:
            local, _ = listener.accept()
        except OSError:
            return  # the listener was closed: we are stopping
        print(f"Handling connection for {listener.getsockname()[1]}", flush=True)
        threading.Thread(target=forward_connection, args=(local,),
                         kwargs={"url": url, "connection": connection, "remote_port": remote_port},
                         daemon=True).start()
