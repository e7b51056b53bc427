"""`orc exec POD [-c CONTAINER] [-i] [-t] -- COMMAND...`: run a command in a container, like kubectl exec.

One WebSocket `GET pods/NAME/exec?command=..&container=C&stdin=..&stdout=..&stderr=..&tty=..` with the
remote-command subprotocol (v5.channel.k8s.io, else v4; orchestrator/api/remotecommand.py), the
protocol kubectl speaks: the apiserver relays it to the kubelet, which runs the command with Docker.
Output frames go to stdout/stderr; with -i a thread sends stdin and, at its end, v5's close of the
stdin channel; with -t (and stdin a terminal) the terminal is raw for the session and its size goes
along at the start and on every SIGWINCH. The final `Status` frame gives the exit code: orc then
says `command terminated with exit code N`, as kubectl does, and exits with N.

As kubectl: -t without -i is ignored, -t when stdin is not a terminal is dropped with kubectl's
warning, no -c means the default container (annotation, else the first), and a -c the pod lacks is
the apiserver's error. Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from cli.client.options import verb
from orchestrator.api import remotecommand

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

    from cli.client.connection import Connection

STDIN_CHUNK_BYTES = 32 * 1024  # what kubectl reads at a time
NO_TTY_WARNING = "Unable to use a TTY - input is not a terminal or the right kind of file"


def register(app: typer.Typer) -> None:
    app.command("exec", help="Execute a command in a container.")(exec_command)


def exec_path(*, namespace: str, pod_name: str, options: remotecommand.ExecOptions) -> str:
    """The request path: one `command` parameter per argument, as Kubernetes wants."""
    from urllib.parse import quote, urlencode

    return f"/api/v1/namespaces/{namespace}/pods/{pod_name}/exec?{urlencode(options.query(), quote_via=quote)}"


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
    stdin: Annotated[bool, typer.Option("--stdin", "-i", help="Pass stdin to the container.")] = False,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Stdin is a TTY.")] = False,
) -> None:
    from cli.client.errors import CliError
    from cli.client.logs import choose_container

    if not command:
        raise CliError("you must specify at least one command for the container")
    namespace = connection.namespace
    pod = pod_for_target(connection, target, namespace=namespace)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CliError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    # kubectl checks only the container it picks itself; a named one is the apiserver's to refuse.
    chosen = container or choose_container(pod, None)
    raw_terminal = stdin and tty and os.isatty(sys.stdin.fileno())
    if stdin and tty and not raw_terminal:
        sys.stderr.write(NO_TTY_WARNING + "\n")
    options = remotecommand.ExecOptions(command=tuple(command), container=chosen, stdin=stdin, stdout=True,
                                        stderr=not raw_terminal, tty=raw_terminal)
    outcome = run_exec(connection, path=exec_path(namespace=namespace, pod_name=pod["metadata"]["name"],
                                                  options=options), options=options)
    if outcome.message:
        sys.stderr.write(outcome.message + "\n")
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


def run_exec(connection: Connection, *, path: str, options: remotecommand.ExecOptions) -> remotecommand.Outcome:
    """Open the exec WebSocket and run the session to its end; refusals raise as kubectl shows them."""
    from websockets.exceptions import WebSocketException

    from cli.client.errors import CliError
    from cli.client.streams import open_websocket, refusal_message, server_error_of, websocket_url

    try:
        websocket = open_websocket(connection, websocket_url(connection, path),
                                   subprotocols=remotecommand.SUPPORTED_PROTOCOLS)
    except (OSError, WebSocketException, TimeoutError) as error:
        raise server_error_of(error) or CliError(refusal_message(error)) from None
    with websocket:
        with _raw_mode(sys.stdin.fileno()) if options.tty else contextlib.nullcontext():
            return stream_session(websocket, options=options, stdin=sys.stdin.buffer, stdout=sys.stdout.buffer,
                                  stderr=sys.stderr.buffer)


def stream_session(websocket: ClientConnection, *, options: remotecommand.ExecOptions, stdin: BinaryIO,
                   stdout: BinaryIO, stderr: BinaryIO) -> remotecommand.Outcome:
    """Pump one open exec WebSocket: stdin (and terminal sizes) out, output in, until the server closes."""
    from websockets.exceptions import ConnectionClosedError

    from cli.client.errors import CliError

    protocol = websocket.subprotocol or remotecommand.PROTOCOL_V4
    if options.stdin:
        threading.Thread(target=_send_stdin, args=(websocket, stdin, protocol), daemon=True).start()
    status = bytearray()
    with _terminal_sizes(websocket) if options.tty else contextlib.nullcontext():
        try:
            for message in websocket:
                if not isinstance(message, bytes) or not message:
                    continue
                channel, payload = remotecommand.decode_frame(message)
                if channel == remotecommand.STDOUT and payload:
                    stdout.write(payload)
                    stdout.flush()
                elif channel == remotecommand.STDERR and payload:
                    stderr.write(payload)
                    stderr.flush()
                elif channel == remotecommand.ERROR:
                    status += payload
        except ConnectionClosedError as error:
            if not status:
                raise CliError(f"lost the connection to the server: {error}") from None
    return remotecommand.outcome_of(bytes(status))


def _send_stdin(websocket: ClientConnection, stdin: BinaryIO, protocol: str) -> None:
    """Copy stdin into stdin frames; at its end, close the channel (v5 only: v4 cannot say so)."""
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(OSError, ConnectionClosed):
        fd = stdin.fileno()
        while chunk := os.read(fd, STDIN_CHUNK_BYTES):
            websocket.send(remotecommand.encode_frame(remotecommand.STDIN, chunk))
        if protocol == remotecommand.PROTOCOL_V5:
            websocket.send(remotecommand.close_frame(remotecommand.STDIN))


@contextlib.contextmanager
def _raw_mode(fd: int) -> Iterator[None]:
    """The terminal passes every key (Ctrl-C included) to the remote shell, and is restored afterwards."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _terminal_sizes(websocket: ClientConnection) -> Iterator[None]:
    """Send the terminal's size now and on every SIGWINCH. The handler only queues the size: sending
    from a signal handler could wait on a lock its own (interrupted) thread holds."""
    import queue
    import signal

    from websockets.exceptions import ConnectionClosed

    sizes: queue.SimpleQueue[os.terminal_size | None] = queue.SimpleQueue()

    def queue_current_size(*_: object) -> None:
        for fd in (sys.stdout.fileno(), sys.stdin.fileno()):
            with contextlib.suppress(OSError):
                sizes.put(os.get_terminal_size(fd))
                return

    def send_sizes() -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            while (size := sizes.get()) is not None:
                websocket.send(remotecommand.resize_frame(width=size.columns, height=size.lines))

    sender = threading.Thread(target=send_sizes, daemon=True)
    sender.start()
    queue_current_size()
    previous = signal.signal(signal.SIGWINCH, queue_current_size)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)
        sizes.put(None)
