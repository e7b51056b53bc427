"""`orc exec POD [-c CONTAINER] -- COMMAND...`: run a command in a container, non-interactively.

The command goes to `POST pods/NAME/exec?container=C&command=..&command=..` (repeated `command`
parameters, as Kubernetes); the apiserver relays it to the kubelet, which runs it with Docker and
answers its output (stdout and stderr together) with the exit code in the `X-Orc-Exit-Code` header.
orc prints the output and, like kubectl, says `command terminated with exit code N` and exits with N.
Interactive sessions (-i/-t) need kubectl's stream protocols, which are not served yet.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import verb

if TYPE_CHECKING:
    from cli.client.connection import Connection

EXIT_CODE_HEADER = "X-Orc-Exit-Code"


def register(app: typer.Typer) -> None:
    app.command("exec", help="Execute a command in a container (non-interactive).")(exec_command)


def exec_query(*, container: str, command: list[str]) -> str:
    """`container=C&command=a&command=b`: one `command` parameter per argument, as Kubernetes wants."""
    from urllib.parse import quote, urlencode

    return urlencode([("container", container), *(("command", part) for part in command)], quote_via=quote)


def pod_for_target(connection: Connection, target: str, *, namespace: str) -> dict:
    """The pod `exec`/`port-forward` TARGET means: a pod by name (its errors read as kubectl's `Error from
    server`), or for TYPE/NAME the pod `orc logs` would pick from the object's selector."""
    from cli.client.logs import pod_for_object
    from cli.client.targets import get_object

    kind, slash, name = target.partition("/")
    if not slash:
        kind, name = "pods", target
    resource = connection.discovery.resolve(kind)
    if resource.kind == "Pod":
        return get_object(connection.client, resource, name, namespace=namespace)
    return pod_for_object(connection, kind, name, namespace=namespace)


@verb
def exec_command(
    connection: Connection,
    target: Annotated[str, typer.Argument(help="POD or TYPE/NAME", show_default=False)],
    command: Annotated[list[str] | None, typer.Argument(help="COMMAND [args...] (after --)", show_default=False)]
    = None,
    container: Annotated[str | None, typer.Option("--container", "-c", help="Container name; defaults to the "
                                                                            "first.")] = None,
    stdin: Annotated[bool, typer.Option("--stdin", "-i", help="Pass stdin to the container (not supported "
                                                              "yet).")] = False,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Stdin is a TTY (not supported yet).")] = False,
) -> None:
    from cli.client.errors import CliError
    from cli.client.logs import choose_container

    if stdin or tty:
        raise CliError("interactive exec is not supported yet (-i/-t); run a command without them")
    if not command:
        raise CliError("you must specify at least one command for the container")
    namespace = connection.namespace
    pod = pod_for_target(connection, target, namespace=namespace)
    pod_name = pod["metadata"]["name"]
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CliError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    chosen = choose_container(pod, container)
    path = f"/api/v1/namespaces/{namespace}/pods/{pod_name}/exec?{exec_query(container=chosen, command=command)}"
    client = connection.client
    response = client._send("POST", path, params=None, body=None, content_type="application/json", accept="*/*")
    output = client._read(response)
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    try:
        exit_code = int(response.headers.get(EXIT_CODE_HEADER) or 0)
    except ValueError:
        exit_code = 1
    if exit_code != 0:
        sys.stderr.write(f"command terminated with exit code {exit_code}\n")
        raise SystemExit(exit_code)
