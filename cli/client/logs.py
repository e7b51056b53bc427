"""`orc logs`: print (or follow) a container's log, like `kubectl logs`.

`orc logs POD`, `orc logs deploy/NAME` (or rs/, svc/: picks a pod of the selector the way kubectl's
ByLogging order does and says `Found 3 pods, using pod/...`), `orc logs -l app=web` (every matching pod,
10 lines each unless `--tail`), `-c`, `--all-containers`, `-f`, `--tail`, `--since`, `--since-time`,
`--previous`, `--timestamps`, `--prefix`. The log is `GET pods/NAME/log` through the apiserver (which
relays the kubelet); several followed streams run side by side, each on its own connection.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.api import ApiClient
    from cli.client.connection import Connection

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
SELECTOR_DEFAULT_TAIL = 10


def register(app: typer.Typer) -> None:
    app.command("logs", help="Print the logs for a container in a pod.")(logs)


@dataclass
class LogStream:
    pod: str
    namespace: str
    container: str

    @property
    def prefix(self) -> str:
        return f"[pod/{self.pod}/{self.container}] "


def _metadata(document: dict) -> dict:
    return document.get("metadata") or {}


def all_container_names(pod: dict) -> str:
    """podcmd.AllContainerNames: `web, sidecar, setup (init)`."""
    spec = pod.get("spec") or {}
    names = [container.get("name", "") for container in spec.get("containers") or []]
    names += [f"{container.get('name', '')} (ephem)" for container in spec.get("ephemeralContainers") or []]
    names += [f"{container.get('name', '')} (init)" for container in spec.get("initContainers") or []]
    return ", ".join(names)


def choose_container(pod: dict, container: str | None) -> str:
    """The container to read: -c, else the default-container annotation, else the first (saying so)."""
    from cli.client.errors import CliError

    spec = pod.get("spec") or {}
    name = _metadata(pod).get("name", "")
    known = [c.get("name") for key in ("containers", "initContainers", "ephemeralContainers")
             for c in spec.get(key) or []]
    if not container:
        default = (_metadata(pod).get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
        if default:
            if default in known:
                container = default
            else:
                sys.stderr.write(f'Default container name "{default}" not found in pod {name}\n')
    if not container:
        containers = spec.get("containers") or []
        if not containers:
            raise CliError(f"pod {name} has no containers")
        container = containers[0].get("name", "")
        if len(containers) > 1 or spec.get("initContainers") or spec.get("ephemeralContainers"):
            sys.stderr.write(f'Defaulted container "{container}" out of: {all_container_names(pod)}\n')
    if container not in known:
        raise CliError(f"container {container} is not valid for pod {name}")
    return container


def _ready(pod: dict) -> bool:
    return any(condition.get("type") == "Ready" and condition.get("status") == "True"
               for condition in (pod.get("status") or {}).get("conditions") or [])


def _ready_time(pod: dict) -> str:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return condition.get("lastTransitionTime") or ""
    return ""


def logging_order(pod: dict) -> tuple:
    """podutils.ByLogging as a sort key: the pod whose log is most interesting comes first."""
    status = pod.get("status") or {}
    phase_rank = {"Running": 0, "Unknown": 1, "Pending": 2}.get(status.get("phase", ""), 3)
    restarts = max((container.get("restartCount", 0) for container in status.get("containerStatuses") or []),
                   default=0)
    ready_time = _ready_time(pod)
    created = _metadata(pod).get("creationTimestamp") or ""
    return (
        0 if (pod.get("spec") or {}).get("nodeName") else 1,
        phase_rank,
        0 if _ready(pod) else 1,
        (0, ready_time) if ready_time else (1, ""),  # ready for longer first
        -restarts,
        (0, created) if created else (1, ""),  # older first, no timestamp last
    )


def pods_for_selector(connection: Connection, namespace: str, selector: str) -> list[dict]:
    from cli.client.targets import list_items

    return list_items(connection.client, connection.discovery.resolve("pods"), namespace=namespace,
                      label_selector=selector)


def pod_for_object(connection: Connection, kind: str, name: str, *, namespace: str) -> dict:
    """The pod whose log `logs TYPE/NAME` shows (kubectl's AttachablePodForObject)."""
    from cli.client.describers import format_label_selector
    from cli.client.errors import CliError, ServerError
    from cli.client.targets import get_object

    resource = connection.discovery.resolve(kind)
    try:
        document = get_object(connection.client, resource, name, namespace=namespace)
    except ServerError as error:
        where = f' in namespace "{namespace}"' if error.is_not_found and resource.namespaced else ""
        raise CliError(f"error from server ({error.reason}): {error.message}{where}") from None
    if resource.kind == "Pod":
        return document
    spec = document.get("spec") or {}
    if resource.kind == "Service":
        selector_map = spec.get("selector") or {}
        selector = ",".join(f"{key}={selector_map[key]}" for key in sorted(selector_map))
    else:
        selector = format_label_selector(spec.get("selector"))
    if not selector or selector == "<none>":
        raise CliError(f"cannot attach to {resource.kind_with_group}: selector for {resource.kind} not implemented")
    pods = sorted(pods_for_selector(connection, namespace, selector), key=logging_order)
    if not pods:
        raise CliError("timed out waiting for the condition")
    if len(pods) > 1:
        sys.stderr.write(f"Found {len(pods)} pods, using pod/{_metadata(pods[0]).get('name', '')}\n")
    return pods[0]


def log_params(*, container: str, follow: bool, previous: bool, tail: int, since_seconds: int | None,
               since_time: str | None, timestamps: bool, limit_bytes: int | None) -> dict[str, Any]:
    return {"container": container, "follow": follow or None, "previous": previous or None,
            "tailLines": tail if tail >= 0 else None, "sinceSeconds": since_seconds, "sinceTime": since_time,
            "timestamps": timestamps or None, "limitBytes": limit_bytes}


def copy_log(client: ApiClient, stream: LogStream, params: dict[str, Any], *, prefix: bool,
             lock: threading.Lock) -> None:
    """Write one container's log to stdout as it arrives, whole lines at a time when prefixed."""
    out = sys.stdout.buffer
    path = f"/api/v1/namespaces/{stream.namespace}/pods/{stream.pod}/log"
    pending = b""
    for chunk in client.stream(path, params=params, accept="*/*", lines=False):
        if not prefix:
            with lock:
                out.write(chunk)
                out.flush()
            continue
        pending += chunk
        *complete, pending = pending.split(b"\n")
        if complete:
            with lock:
                out.write(b"".join(stream.prefix.encode() + line + b"\n" for line in complete))
                out.flush()
    if pending:
        with lock:
            out.write((stream.prefix.encode() if prefix else b"") + pending)
            out.flush()


@verb
def logs(
    connection: Connection,
    target: Annotated[str | None, typer.Argument(help="POD or TYPE/NAME", show_default=False)] = None,
    container_argument: Annotated[str | None, typer.Argument(help="CONTAINER (same as -c)", show_default=False,
                                                             metavar="[CONTAINER]")] = None,
    container: Annotated[str | None, typer.Option("--container", "-c", help="Print the logs of this container.")]
    = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Specify if the logs should be streamed.")] = False,
    previous: Annotated[bool, typer.Option("--previous", "-p", help="Print the logs of the previous instance of the "
                                                                    "container.")] = False,
    tail: Annotated[int, typer.Option("--tail", help="Lines of recent log to display; -1 shows all (10 with a "
                                                     "selector).")] = -1,
    since: Annotated[str | None, typer.Option("--since", help="Only logs newer than a duration, like 5s, 2m or "
                                                              "3h.")] = None,
    since_time: Annotated[str | None, typer.Option("--since-time", help="Only logs after this RFC3339 date.")] = None,
    timestamps: Annotated[bool, typer.Option("--timestamps", help="Include timestamps on each line.")] = False,
    limit_bytes: Annotated[int | None, typer.Option("--limit-bytes", help="Maximum bytes of logs to return.")] = None,
    selector: SelectorOption = None,
    all_containers: Annotated[bool, typer.Option("--all-containers", help="Get all containers' logs in the "
                                                                          "pod(s).")] = False,
    prefix: Annotated[bool, typer.Option("--prefix", help="Prefix each log line with the pod and container "
                                                          "name.")] = False,
    max_log_requests: Annotated[int, typer.Option("--max-log-requests", help="Maximum concurrent followed logs with "
                                                                             "a selector.")] = 5,
) -> None:
    from cli.client.errors import CliError
    from cli.client.targets import parse_duration

    if container_argument:
        if container:
            raise CliError("only one of -c or an inline [CONTAINER] arg is allowed")
        container = container_argument
    if selector and target:
        raise CliError("only a selector (-l) or a POD name is allowed")
    if not selector and not target:
        raise CliError("expected POD or TYPE/NAME is a required argument for the logs command")
    if since and since_time:
        raise CliError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    since_seconds = None
    if since:
        since_seconds = max(1, int(parse_duration(since, flag="--since") + 0.999))
    namespace = connection.namespace
    if selector:
        pods = pods_for_selector(connection, namespace, selector)
        if not pods:
            sys.stderr.write(f"No resources found in {namespace} namespace.\n")
            return
        if tail == -1:
            tail = SELECTOR_DEFAULT_TAIL
    else:
        kind, slash, name = target.partition("/")
        pods = [pod_for_object(connection, kind if slash else "pods", name if slash else target, namespace=namespace)]
    streams: list[LogStream] = []
    for pod in pods:
        name = _metadata(pod).get("name", "")
        if all_containers:
            spec = pod.get("spec") or {}
            names = [c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
                     for c in spec.get(key) or []]
        else:
            names = [choose_container(pod, container)]
        streams += [LogStream(name, _metadata(pod).get("namespace") or namespace, each) for each in names]
    if follow and len(streams) > max_log_requests:
        raise CliError(f"you are attempting to follow {len(streams)} log streams, but maximum allowed concurrency is "
                       f"{max_log_requests}, use --max-log-requests to increase the limit")
    show_prefix = prefix
    lock = threading.Lock()

    def params_for(stream: LogStream) -> dict[str, Any]:
        return log_params(container=stream.container, follow=follow, previous=previous, tail=tail,
                          since_seconds=since_seconds, since_time=since_time, timestamps=timestamps,
                          limit_bytes=limit_bytes)

    if not follow or len(streams) == 1:
        for stream in streams:
            copy_log(connection.client, stream, params_for(stream), prefix=show_prefix, lock=lock)
        return
    _follow_all(connection, streams, params_for, prefix=show_prefix, lock=lock)


def _follow_all(connection: Connection, streams: list[LogStream], params_for: Any, *, prefix: bool,
                lock: threading.Lock) -> None:
    """Follow several logs at once, one thread and one connection each; the first failure is raised."""
    from cli.client.api import ApiClient

    failures: list[BaseException] = []

    def follow_one(stream: LogStream) -> None:
        client = ApiClient(connection.config)
        try:
            copy_log(client, stream, params_for(stream), prefix=prefix, lock=lock)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=follow_one, args=(stream,), daemon=True) for stream in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)  # a bounded join keeps Ctrl-C responsive
    if failures:
        raise failures[0]
