"""The kubelet's own HTTP API: container logs, exec and port-forward (through the apiserver), /healthz,
and the node's and pods' CPU and memory (`/stats/summary`, `/metrics/resource`, from stats.py).

`GET /containerLogs/<namespace>/<pod>/<container>` with Kubernetes' PodLogOptions
query (follow, tailLines, sinceSeconds, sinceTime, timestamps, previous, limitBytes)
streams the container's output from Docker while following. Which container
instance is meant is decided from the pod's status, as the kubelet's
validateContainerLogStatus does (`container_for_logs`, pure): the running one, else
the terminated one, and with `previous` the last terminated one (lastState).

`GET /exec/<namespace>/<pod>/<container>?command=..&stdin=..&stdout=..&stderr=..&tty=..` is a
WebSocket speaking Kubernetes' remote-command protocol (v5/v4.channel.k8s.io,
orchestrator/api/remotecommand.py): the command runs attached to a raw Docker stream (attach.py),
stdin/resize frames go in, output frames come out, and the exit status ends the session on the
error channel (`relay_exec`). `GET /portForward/<namespace>/<pod>?port=N` is a WebSocket: the kubelet
connects to the pod's IP on port N and relays bytes (binary frames) both ways until either side closes;
when it cannot, it refuses the handshake with the reason in the body and in `X-Orc-Port-Forward-Error`.

When `$ORC_KUBELET_TOKEN` is set, every request but /healthz must carry
`Authorization: Bearer <that token>` (the apiserver sends it); others get 401.
Started by orchestrator/kubelet/main.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from orchestrator.api import errors, remotecommand
from orchestrator.client.informer import Informer
from orchestrator.kubelet.attach import STDERR_STREAM, AttachedExec, DockerStreamDemultiplexer
from orchestrator.kubelet.runtime import ContainerNotFound, DockerRuntime, DockerRuntimeError
from orchestrator.kubelet.stats import StatsProvider, prometheus_resource_metrics

log = logging.getLogger(__name__)

TOKEN_ENV = "ORC_KUBELET_TOKEN"
PORT_FORWARD_ERROR_HEADER = "X-Orc-Port-Forward-Error"
RELAY_CHUNK_BYTES = 64 * 1024


class LogLookupError(Exception):
    """No container instance can give the asked-for logs; the message is the kubelet's."""

    def __init__(self, message: str, *, http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def container_for_logs(*, pod_name: str, container_name: str, status: Mapping[str, Any], previous: bool) -> str:
    """The Docker id of the instance whose logs `kubectl logs [--previous]` wants (validateContainerLogStatus)."""
    container_status = None
    for field in ("containerStatuses", "initContainerStatuses"):
        container_status = next((s for s in status.get(field) or [] if s.get("name") == container_name), None)
        if container_status is not None:
            break
    if container_status is None:
        raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is not available')
    state = container_status.get("state") or {}
    last_terminated = (container_status.get("lastState") or {}).get("terminated")
    if previous:
        if not last_terminated or not last_terminated.get("containerID"):
            raise LogLookupError(f'previous terminated container "{container_name}" in pod "{pod_name}" not found')
        container_id = last_terminated["containerID"]
    elif state.get("running") is not None:
        container_id = container_status.get("containerID") or ""
    elif state.get("terminated") is not None:
        container_id = state["terminated"].get("containerID") or ""
        if not container_id:
            if last_terminated and last_terminated.get("containerID"):
                container_id = last_terminated["containerID"]
            else:
                raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is terminated')
    elif last_terminated is not None:
        if not last_terminated.get("containerID"):
            raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is terminated')
        container_id = last_terminated["containerID"]
    elif state.get("waiting") is not None:
        reason = state["waiting"].get("reason") or ""
        explanations = {"ErrImagePull": "image can't be pulled",
                        "ImagePullBackOff": "trying and failing to pull image"}
        raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is waiting to start: '
                             f"{explanations.get(reason, reason)}")
    else:
        raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is waiting to start - no logs yet')
    if not container_id:
        raise LogLookupError(f'container "{container_name}" in pod "{pod_name}" is waiting to start - no logs yet')
    return container_id.split("://", 1)[-1]


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


def _int_or_none(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as error:
        raise LogLookupError(f"{name}: invalid integer {value!r}") from error


def since_seconds_of(query: Mapping[str, str], *, now: float) -> int | None:
    """`sinceSeconds`, or `sinceTime` (RFC 3339) turned into seconds before `now`."""
    seconds = _int_or_none(query.get("sinceSeconds"), "sinceSeconds")
    if seconds is not None:
        return max(1, seconds)
    since_time = query.get("sinceTime")
    if since_time:
        try:
            moment = datetime.fromisoformat(since_time.replace("Z", "+00:00")).timestamp()
        except ValueError as error:
            raise LogLookupError(f"sinceTime: invalid time {since_time!r}") from error
        return max(1, math.ceil(now - moment))
    return None


class KubeletServer:
    """The aiohttp application of the kubelet API, listening on one or more addresses."""

    def __init__(
        self,
        *,
        runtime: DockerRuntime,
        pods: Informer,
        statuses: Callable[[str], dict[str, Any] | None],
        token: str | None,
        node_name: str = "",
        stats: StatsProvider | None = None,
    ) -> None:
        self._runtime = runtime
        self._pods = pods
        self._statuses = statuses
        self._token = token
        self._runner: web.AppRunner | None = None
        self._stats = stats or StatsProvider(runtime=runtime, pods=pods, statuses=statuses, node_name=node_name)

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._authenticate])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._container_logs)
        app.router.add_get("/exec/{namespace}/{pod}/{container}", self._exec)
        app.router.add_get("/portForward/{namespace}/{pod}", self._port_forward)
        app.router.add_get("/stats/summary", self._stats_summary)
        app.router.add_get("/metrics/resource", self._metrics_resource)
        return app

    async def start(self, *, addresses: list[str], port: int) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        for index, address in enumerate(addresses):
            site = web.TCPSite(self._runner, address, port, reuse_address=True)
            try:
                await site.start()
            except OSError as error:
                if index == 0:
                    raise
                log.warning("the kubelet API cannot also listen on %s:%d: %s", address, port, error)
                continue
            log.info("kubelet API listening on %s:%d", address, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if self._token and request.path != "/healthz":
            supplied = request.headers.get("Authorization", "")
            expected = f"Bearer {self._token}"
            if not hmac.compare_digest(supplied.encode(), expected.encode()):
                return web.Response(status=401, text="Unauthorized")
        return await handler(request)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _stats_summary(self, request: web.Request) -> web.Response:
        """The Summary API (node and pods, cpu and memory): what the apiserver's metrics API reads."""
        return web.json_response(await self._stats.summary())

    async def _metrics_resource(self, request: web.Request) -> web.Response:
        return web.Response(text=prometheus_resource_metrics(await self._stats.summary()),
                            content_type="text/plain", charset="utf-8")

    async def _container_logs(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info["namespace"]
        pod_name = request.match_info["pod"]
        container_name = request.match_info["container"]
        query = request.query
        pod = self._pods.get(f"{namespace}/{pod_name}")
        if pod is None:
            return web.Response(status=404, text=f'pod "{pod_name}" cannot be found - no logs available')
        status = self._statuses(pod["metadata"].get("uid", "")) or pod.get("status") or {}
        try:
            container_id = container_for_logs(pod_name=pod_name, container_name=container_name, status=status,
                                              previous=_flag(query.get("previous")))
            tail = _int_or_none(query.get("tailLines"), "tailLines")
            limit_bytes = _int_or_none(query.get("limitBytes"), "limitBytes")
            since_seconds = since_seconds_of(query, now=time.time())
            await self._runtime.inspect(container_id)
        except LogLookupError as error:
            return web.Response(status=error.http_status, text=error.message)
        except ContainerNotFound:
            return web.Response(status=404, text=f'container "{container_name}" in pod "{pod_name}" is not available')
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        sent = 0
        try:
            async for chunk in self._runtime.logs(container_id, follow=_flag(query.get("follow")), tail=tail,
                                                  since_seconds=since_seconds,
                                                  timestamps=_flag(query.get("timestamps"))):
                if limit_bytes is not None:
                    chunk = chunk[: max(0, limit_bytes - sent)]
                await response.write(chunk)
                sent += len(chunk)
                if limit_bytes is not None and sent >= limit_bytes:
                    break
            await response.write_eof()
        except (ConnectionError, DockerRuntimeError) as error:
            # The client went away, or the container did (removed while followed).
            log.debug("log stream of %s/%s/%s ended: %s", namespace, pod_name, container_name, error)
        return response

    def _pod_and_status(self, namespace: str, pod_name: str) -> tuple[dict | None, dict[str, Any]]:
        pod = self._pods.get(f"{namespace}/{pod_name}")
        if pod is None:
            return None, {}
        return pod, self._statuses(pod["metadata"].get("uid", "")) or pod.get("status") or {}

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info["namespace"]
        pod_name = request.match_info["pod"]
        container_name = request.match_info["container"]
        try:
            options = remotecommand.parse_exec_options(request.query, request.query.getall("command", []))
        except errors.APIError as error:
            return web.Response(status=400, text=error.message)
        offered = remotecommand.offered_protocols(request.headers.getall("Sec-WebSocket-Protocol", []))
        protocol = remotecommand.negotiate_protocol(offered)
        if protocol is None:
            return web.Response(status=400, text=remotecommand.unsupported_protocols_message(offered))
        pod, status = self._pod_and_status(namespace, pod_name)
        if pod is None:
            return web.Response(status=404, text=f'pod "{pod_name}" not found')
        container_status = next((s for s in status.get("containerStatuses") or [] if s.get("name") == container_name),
                                None)
        running = container_status is not None and (container_status.get("state") or {}).get("running") is not None
        if not running or not container_status.get("containerID"):
            return web.Response(status=400, text=f'container not found ("{container_name}")')
        container_id = container_status["containerID"].split("://", 1)[-1]
        websocket = web.WebSocketResponse(protocols=(protocol,), max_msg_size=0)
        await websocket.prepare(request)
        log.info("exec in %s/%s/%s: %s", namespace, pod_name, container_name, options.command[0])
        try:
            session = await self._runtime.exec_attach(container_id, list(options.command), stdin=options.stdin,
                                                      stdout=options.stdout, stderr=options.stderr, tty=options.tty)
        except DockerRuntimeError as error:
            await websocket.send_bytes(remotecommand.encode_status(remotecommand.error_status(error.message)))
            await websocket.close()
            return websocket
        await relay_exec(websocket, session, runtime=self._runtime, options=options, protocol=protocol)
        return websocket

    async def _port_forward(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info["namespace"]
        pod_name = request.match_info["pod"]
        try:
            port = int(request.query.get("port", ""))
        except ValueError:
            return port_forward_refusal(400, "a port number is required (?port=N)")
        if not 0 < port < 65536:
            return port_forward_refusal(400, f"invalid port {port}")
        pod, status = self._pod_and_status(namespace, pod_name)
        if pod is None:
            return port_forward_refusal(404, f'pod "{pod_name}" not found')
        pod_ip = status.get("podIP")
        if not pod_ip:
            return port_forward_refusal(400, f'pod "{pod_name}" has no IP address yet')
        try:
            reader, writer = await asyncio.open_connection(pod_ip, port)
        except OSError as error:
            uid = pod["metadata"].get("uid", "")
            return port_forward_refusal(502, f"error forwarding port {port} to pod {pod_name}, uid {uid}: {error}")
        websocket = web.WebSocketResponse(max_msg_size=0)
        await websocket.prepare(request)
        log.info("port-forward to %s/%s port %d", namespace, pod_name, port)
        await relay_websocket_and_socket(websocket, reader, writer)
        return websocket


def port_forward_refusal(status: int, message: str) -> web.Response:
    """A refused portForward handshake. WebSocket clients (aiohttp's, in the apiserver) drop the body of
    a refused handshake, so the message also travels in the `X-Orc-Port-Forward-Error` header."""
    return web.Response(status=status, text=message,
                        headers={PORT_FORWARD_ERROR_HEADER: " ".join(message.split())})


async def relay_websocket_and_socket(websocket: web.WebSocketResponse, reader: asyncio.StreamReader,
                                     writer: asyncio.StreamWriter) -> None:
    """Pipe binary frames into the socket and the socket's bytes into binary frames; when either side
    ends, close both (a WebSocket has no half-close to carry a TCP FIN one way)."""

    async def socket_to_websocket() -> None:
        while chunk := await reader.read(RELAY_CHUNK_BYTES):
            await websocket.send_bytes(chunk)

    async def websocket_to_socket() -> None:
        async for message in websocket:
            if message.type == web.WSMsgType.BINARY:
                writer.write(message.data)
                await writer.drain()
            elif message.type in (web.WSMsgType.ERROR, web.WSMsgType.CLOSE):
                break

    tasks = [asyncio.create_task(socket_to_websocket()), asyncio.create_task(websocket_to_socket())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await task
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
        await websocket.close()


async def relay_exec(websocket: web.WebSocketResponse, session: AttachedExec, *, runtime: DockerRuntime,
                     options: remotecommand.ExecOptions, protocol: str) -> None:
    """Speak the remote-command protocol for one attached exec until the process ends (then send its
    exit status on the error channel and close) or the client goes away (then just close)."""
    # Kubernetes' kubelet announces a ready stream with an empty frame on the lowest output channel.
    first_channel = remotecommand.STDOUT if options.stdout else (
        remotecommand.STDERR if options.stderr else remotecommand.ERROR)
    await websocket.send_bytes(remotecommand.encode_frame(first_channel))

    async def output_to_client() -> None:
        demultiplexer = None if options.tty else DockerStreamDemultiplexer()
        while chunk := await session.read():
            if demultiplexer is None:
                await websocket.send_bytes(remotecommand.encode_frame(remotecommand.STDOUT, chunk))
                continue
            for stream, payload in demultiplexer.feed(chunk):
                channel = remotecommand.STDERR if stream == STDERR_STREAM else remotecommand.STDOUT
                await websocket.send_bytes(remotecommand.encode_frame(channel, payload))

    async def client_to_process() -> None:
        async for message in websocket:
            if message.type != web.WSMsgType.BINARY or not message.data:
                if message.type in (web.WSMsgType.ERROR, web.WSMsgType.CLOSE):
                    return
                continue
            channel, payload = remotecommand.decode_frame(message.data)
            if channel == remotecommand.STDIN and options.stdin:
                await session.write(payload)
            elif channel == remotecommand.RESIZE and options.tty:
                # The TTY starts at 0x0 until the client's first size arrives: Docker before API 1.42
                # takes no size at exec start (its own CLI resizes just after starting, too).
                await _resize(runtime, session.exec_id, payload)
            elif channel == remotecommand.CLOSE and protocol == remotecommand.PROTOCOL_V5 \
                    and payload[:1] == bytes((remotecommand.STDIN,)):
                session.close_stdin()

    process_output = asyncio.create_task(output_to_client())
    client_input = asyncio.create_task(client_to_process())
    try:
        await asyncio.wait((process_output, client_input), return_when=asyncio.FIRST_COMPLETED)
        if process_output.done() and process_output.exception() is None:
            client_input.cancel()
            exit_code = await runtime.exec_exit_code(session.exec_id)
            log.info("exec %s ended with exit code %d", session.exec_id[:12], exit_code)
            status = remotecommand.exit_status(exit_code, command=options.command)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await websocket.send_bytes(remotecommand.encode_status(status))
        else:
            # The process is not killed (nor is it in Kubernetes): only its streams are closed.
            log.info("exec %s: the client went away", session.exec_id[:12])
    except (ConnectionError, DockerRuntimeError) as error:
        log.info("exec %s stopped: %s", session.exec_id[:12], error)
    finally:
        for task in (process_output, client_input):
            task.cancel()
        for task in (process_output, client_input):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError, DockerRuntimeError):
                await task
        session.close()
        await websocket.close()


async def _resize(runtime: DockerRuntime, exec_id: str, payload: bytes) -> None:
    try:
        width, height = remotecommand.parse_resize(payload)
        await runtime.exec_resize(exec_id, width=width, height=height)
    except (ValueError, DockerRuntimeError) as error:
        # A resize racing the end of the process, or a client's bad frame, must not end the session.
        log.debug("exec %s: resize ignored: %s", exec_id[:12], error)
