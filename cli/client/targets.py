"""Turning `TYPE[,TYPE] [NAME...]`, `TYPE/NAME...` and `-f FILE` into the objects a verb acts on.

kubectl's ResourceTypeOrNameArgs rules: either the first argument lists types (comma-separated,
`all` meaning the `all` category) and the rest are names, or every argument is `TYPE/NAME`.
`resolve_targets` returns `Selection`s (one resource, its names or none for "all of them", the
namespace) in the order given; `manifest_targets` does the same for `-f`. Also the shared
`fetch` helpers for one object, a list (following `continue`), and the wait loops of delete/wait.

Used by get, describe, delete, label, annotate, scale, wait, rollout, set, expose.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from cli.client.errors import CliError, ServerError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from typing import Any

    from cli.client.api import ApiClient
    from cli.client.options import Connection
    from cli.client.resources import ApiResource

LIST_CHUNK_SIZE = 500


class Selection:
    """One resource and which of its objects: `names`, or all (matching the selectors) when empty.

    (A plain class, as the others on `orc get`'s start-up path: dataclasses cost it milliseconds.)
    """

    __slots__ = ("resource", "namespace", "names", "source")

    def __init__(self, resource: ApiResource, namespace: str | None, names: list[str] | None = None,
                 source: str = ""):
        self.resource = resource
        self.namespace = namespace  # None: cluster-scoped, or every namespace (-A)
        self.names = names if names is not None else []
        self.source = source  # the manifest file, for -f

    def __repr__(self) -> str:
        return f"Selection({self.resource.qualified_name}, namespace={self.namespace!r}, names={self.names!r})"

    @property
    def all_namespaces(self) -> bool:
        return self.resource.namespaced and self.namespace is None


def split_type_args(args: list[str], *, verb: str) -> tuple[list[str], list[tuple[str, str]] | None, list[str]]:
    """(types, type/name pairs or None, names) from the positional arguments, with kubectl's errors."""
    if not args:
        return [], None, []
    if any("/" in argument for argument in args):
        pairs = []
        for argument in args:
            kind, slash, name = argument.partition("/")
            if not slash:
                raise CliError(
                    "there is no need to specify a resource type as a separate argument when passing arguments in "
                    f"resource/name form (e.g. 'orc {verb} resource/<resource_name>' instead of "
                    f"'orc {verb} resource resource/<resource_name>'")
            if not kind or not name or "/" in name:
                raise CliError(f"arguments in resource/name form must have a single resource and name: {argument}")
            pairs.append((kind, name))
        return [], pairs, []
    types = [kind for kind in args[0].split(",") if kind]
    if not types:
        raise CliError(f"arguments in resource/name form may not have more than one slash: {args[0]}")
    return types, None, args[1:]


def multiple_types_requested(args: list[str]) -> bool:
    """kubectl's MultipleTypesRequested: `all`, `a,b`, or TYPE/NAME pairs of different types."""
    if len(args) == 1 and args[0] == "all":
        return True
    types: set[str] = set()
    for argument in args:
        if "/" in argument:
            types.add(argument.split("/", 1)[0].lower())
            continue
        types.update(kind.lower() for kind in argument.split(",") if kind)
        break
    return len(types) > 1


def resolve_targets(connection: Connection, args: list[str], *, verb: str, all_namespaces: bool = False,
                    require_names: bool = False) -> list[Selection]:
    """The selections the positional arguments name, types resolved through discovery."""
    types, pairs, names = split_type_args(args, verb=verb)
    discovery = connection.discovery

    def namespace_for(resource: ApiResource) -> str | None:
        if not resource.namespaced or all_namespaces:
            return None
        return connection.namespace

    selections: list[Selection] = []
    if pairs is not None:
        for kind, name in pairs:
            resource = discovery.resolve(kind)
            if selections and selections[-1].resource == resource:
                selections[-1].names.append(name)
            else:
                selections.append(Selection(resource, namespace_for(resource), [name]))
        return selections
    seen: set[tuple[str, str]] = set()
    for kind in types:
        resources = discovery.in_category(kind) if kind == "all" else [discovery.resolve(kind)]
        for resource in resources:
            if (resource.group, resource.name) in seen:
                continue
            seen.add((resource.group, resource.name))
            selections.append(Selection(resource, namespace_for(resource), list(names)))
    if require_names and not names:
        raise CliError("resource(s) were provided, but no name was specified")
    return selections


def manifest_targets(connection: Connection, filenames: list[str], *, recursive: bool) -> tuple[list[Selection], list[Exception]]:
    """The objects the manifests of -f name (kind, name, namespace), and the documents that could not be read."""
    from cli.client.manifests import iter_manifests

    selections: list[Selection] = []
    errors: list[Exception] = []
    for manifest in iter_manifests(filenames, recursive=recursive):
        if isinstance(manifest, Exception):
            errors.append(manifest)
            continue
        try:
            resource = connection.discovery.for_kind(manifest.api_version, manifest.kind)
        except CliError as error:
            errors.append(CliError(f'resource mapping not found for name: "{manifest.name}" namespace: '
                                   f'"{manifest.namespace}" from "{manifest.source}": {error.message}'))
            continue
        namespace = (manifest.namespace or connection.namespace) if resource.namespaced else None
        if resource.namespaced and manifest.namespace and connection.namespace_is_explicit \
                and manifest.namespace != connection.namespace:
            errors.append(namespace_mismatch(manifest.namespace, connection.namespace))
            continue
        selections.append(Selection(resource, namespace, [manifest.name], source=manifest.source))
    return selections, errors


def namespace_mismatch(object_namespace: str, flag_namespace: str) -> CliError:
    return CliError(f'the namespace from the provided object "{object_namespace}" does not match the namespace '
                    f'"{flag_namespace}". You must pass \'--namespace={object_namespace}\' to perform this operation.')


def list_objects(client: ApiClient, resource: ApiResource, *, namespace: str | None, label_selector: str | None = None,
                 field_selector: str | None = None, accept: str | None = None,
                 extra: dict[str, Any] | None = None, chunk_size: int = LIST_CHUNK_SIZE) -> Iterator[dict]:
    """The list responses of a collection, chunk by chunk (kubectl's ?limit=500&continue=...)."""
    from cli.client.api import JSON

    params: dict[str, Any] = {"labelSelector": label_selector, "fieldSelector": field_selector,
                              "limit": chunk_size or None, **(extra or {})}
    while True:
        page = client.get(resource.path(namespace), params=params, accept=accept or JSON) or {}
        yield page
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return
        params["continue"] = token


def list_items(client: ApiClient, resource: ApiResource, *, namespace: str | None, label_selector: str | None = None,
               field_selector: str | None = None) -> list[dict]:
    """Every object of a collection, with `kind` and `apiVersion` filled in."""
    items: list[dict] = []
    for page in list_objects(client, resource, namespace=namespace, label_selector=label_selector,
                             field_selector=field_selector):
        for item in page.get("items") or []:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
            items.append(item)
    return items


def get_object(client: ApiClient, resource: ApiResource, name: str, *, namespace: str | None) -> dict:
    document = client.get(resource.path(namespace, name)) or {}
    document.setdefault("apiVersion", resource.api_version)
    document.setdefault("kind", resource.kind)
    return document


def objects_of(connection: Connection, selection: Selection, *, label_selector: str | None = None,
               field_selector: str | None = None, errors: list[Exception] | None = None) -> list[dict]:
    """The objects a selection names (NotFound and other server errors go to `errors` when given)."""
    client = connection.client
    if not selection.names:
        return list_items(client, selection.resource, namespace=selection.namespace, label_selector=label_selector,
                          field_selector=field_selector)
    found = []
    for name in selection.names:
        try:
            found.append(get_object(client, selection.resource, name, namespace=selection.namespace))
        except ServerError as error:
            if errors is None:
                raise
            errors.append(error)
    return found


def poll_until(check: Callable[[], bool], *, timeout: float | None, interval: float = 0.5) -> bool:
    """Call `check` until it is true or `timeout` seconds pass (None: forever); True if it became true."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if check():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))


def parse_duration(text: str, *, flag: str) -> float:
    """A Go duration (`30s`, `5m`, `1h30m`, `500ms`, a bare number of seconds) in seconds."""
    import re

    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text.lstrip("+"):
        raise CliError(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"')
    return sum(float(number) * units[unit] for number, unit in parts)
