"""The engine of `orc get`: what to fetch, how to fetch it, how to print it.

`run_get(connection, GetRequest(...))` does what `kubectl get` does: resolves the resource arguments
(or `-f` manifests), fetches server-side Tables for human-readable output (or the objects for `-o
json|yaml|name|jsonpath|custom-columns`), prints them through cli.client.printers, reports objects
not found after the output, says `No resources found in <ns> namespace.` on stderr when nothing
matched, and with `-w` prints a row per change. It imports nothing heavy, so that both the typer
command (cli/client/get.py) and the start-up fast path (cli/client/fastpath.py) can run it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from typing import Any

    from cli.client.connection import Connection
    from cli.client.printers import OutputFormat, TablePrinter
    from cli.client.targets import Selection


class GetRequest:
    """Everything `orc get` was asked for (its flags, parsed).

    A plain class rather than a dataclass: `orc get` defines it at start-up, where importing dataclasses
    (it imports inspect: ~15 ms on the 2-core bench machine) and building the class (~2 ms) cost more
    than formatting the 1,000 rows of bench/cli.py does.
    """

    def __init__(self, *, args: list[str] | None = None, output: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None, all_namespaces: bool = False, watch: bool = False,
                 watch_only: bool = False, show_labels: bool = False, label_columns: tuple[str, ...] = (),
                 no_headers: bool = False, show_kind: bool = False, sort_by: str | None = None,
                 ignore_not_found: bool = False, chunk_size: int = 500, filenames: list[str] | None = None,
                 recursive: bool = False, raw: str | None = None, show_managed_fields: bool = False):
        self.args = args if args is not None else []
        self.output = output
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.all_namespaces = all_namespaces
        self.watch = watch
        self.watch_only = watch_only
        self.show_labels = show_labels
        self.label_columns = label_columns
        self.no_headers = no_headers
        self.show_kind = show_kind
        self.sort_by = sort_by
        self.ignore_not_found = ignore_not_found
        self.chunk_size = chunk_size
        self.filenames = filenames if filenames is not None else []
        self.recursive = recursive
        self.raw = raw
        self.show_managed_fields = show_managed_fields


def run_get(connection: Connection, request: GetRequest) -> None:
    """Print what `request` selects; raise the errors met (after printing what was found)."""
    from cli.client.errors import CliError, ErrorList
    from cli.client.printers import TableOptions, TablePrinter, parse_output
    from cli.client.targets import manifest_targets, multiple_types_requested, resolve_targets

    args = request.args
    if request.raw is not None:
        _print_raw(connection, request.raw)
        return
    output_format = parse_output(request.output)
    errors: list[Exception] = []
    if request.filenames:
        if args:
            raise CliError("when paths, URLs, or stdin is provided as input, you may not specify resource arguments "
                           "as well")
        selections, errors = manifest_targets(connection, request.filenames, recursive=request.recursive)
    else:
        if not args:
            raise CliError("You must specify the type of resource to get. Use \"orc api-resources\" for a complete "
                           "list of supported resources.")
        selections = resolve_targets(connection, args, verb="get", all_namespaces=request.all_namespaces)
    named = any(selection.names for selection in selections)
    if named and request.label_selector:
        raise CliError("name cannot be provided when a selector is specified")
    if named and request.all_namespaces and not request.filenames:
        raise CliError("a resource cannot be retrieved by name across all namespaces")
    watching = request.watch or request.watch_only
    if watching and len(selections) > 1:
        raise CliError(f"watch is only supported on individual resources and resource collections, but "
                       f"{len(selections)} resources were found")

    if output_format.is_table:
        printer = TablePrinter(TableOptions(wide=output_format.kind == "wide", no_headers=request.no_headers,
                                            show_labels=request.show_labels, label_columns=request.label_columns))
        with_kind = (request.show_kind or multiple_types_requested(args)
                     or len({selection.resource for selection in selections}) > 1)
        listed_version = None
        if request.watch_only:
            listed_version = _current_resource_version(connection, selections[0], request)
        else:
            listed_version = _print_tables(connection, selections, printer, request, with_kind=with_kind,
                                           errors=errors)
        if watching:
            _watch_table(connection, selections[0], printer, request, with_kind=with_kind,
                         resource_version=listed_version)
            return
        if printer.rows_printed == 0 and not errors and not request.ignore_not_found:
            namespaced = not request.all_namespaces and all(selection.resource.namespaced
                                                            for selection in selections)
            sys.stderr.write(f"No resources found in {connection.namespace} namespace.\n" if namespaced
                             else "No resources found\n")
    else:
        single_item = len(selections) == 1 and len(selections[0].names) == 1 and \
            (bool(request.filenames) or not request.label_selector)
        _print_generic(connection, selections, output_format, request, single_item=single_item, errors=errors)
        if watching:
            _watch_generic(connection, selections[0], output_format, request)
            return
    if errors:
        raise ErrorList(errors) if len(errors) > 1 else errors[0]


def _print_raw(connection: Connection, path: str) -> None:
    """`--raw PATH`: the server's answer as it is."""
    sys.stdout.write(connection.client.text(path))


def _sort_rows(rows: list[dict], sort_by: str) -> list[dict]:
    from cli.client.jsonpath import JSONPath, relaxed

    template = JSONPath(relaxed(sort_by))
    return sorted(rows, key=lambda row: _sort_key(template.find(row.get("object") or {})))


def _sort_items(items: list[dict], sort_by: str) -> list[dict]:
    from cli.client.jsonpath import JSONPath, relaxed

    template = JSONPath(relaxed(sort_by))
    return sorted(items, key=lambda item: _sort_key(template.find(item)))


def _sort_key(values: list[Any]) -> tuple:
    if not values:
        return (0, 0, "")
    value = values[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def _print_tables(connection: Connection, selections: list[Selection], printer: TablePrinter, request: GetRequest, *,
                  with_kind: bool, errors: list[Exception]) -> str | None:
    """Print every selection's table; return the resourceVersion of the last list (where a watch starts)."""
    from cli.client.api import TABLE
    from cli.client.errors import ServerError
    from cli.client.targets import list_objects

    client = connection.client
    resource_version = None
    for selection in selections:
        resource = selection.resource
        printer.start_kind()
        kind_prefix = resource.group_kind if with_kind else None
        with_namespace = request.all_namespaces and resource.namespaced
        extra = {"includeObject": _row_objects_needed(request, with_namespace=with_namespace)}
        if selection.names:
            for name in selection.names:
                try:
                    table = client.get(resource.path(selection.namespace, name), accept=TABLE, params=extra)
                except ServerError as error:
                    if not (error.is_not_found and request.ignore_not_found):
                        errors.append(error)
                    continue
                printer.print_table(_as_table(table, resource), with_namespace=with_namespace,
                                    kind_prefix=kind_prefix)
                resource_version = (table.get("metadata") or {}).get("resourceVersion") or resource_version
            continue
        tables = list_objects(client, resource, namespace=selection.namespace, label_selector=request.label_selector,
                              field_selector=request.field_selector, accept=TABLE, extra=extra,
                              chunk_size=request.chunk_size)
        try:
            if request.sort_by:
                pages = [_as_table(page, resource) for page in tables]
                resource_version = ((pages[-1].get("metadata") or {}).get("resourceVersion")) if pages else None
                if pages:
                    merged = dict(pages[0])
                    merged["rows"] = _sort_rows([row for page in pages for row in page.get("rows") or []],
                                                request.sort_by)
                    printer.print_table(merged, with_namespace=with_namespace, kind_prefix=kind_prefix)
            else:
                for page in tables:
                    printer.print_table(_as_table(page, resource), with_namespace=with_namespace,
                                        kind_prefix=kind_prefix)
                    resource_version = (page.get("metadata") or {}).get("resourceVersion")
        except ServerError as error:
            errors.append(error)
    printer.flush()
    return resource_version


def _row_objects_needed(request: GetRequest, *, with_namespace: bool) -> str:
    """How much of each object the Table rows must carry.

    kubectl takes the server's default (each row's metadata) every time; the rows' metadata only serves
    the NAMESPACE, LABELS and -L columns, so without them orc asks for none, which makes the response
    three to four times smaller for the same columns.
    """
    if request.sort_by:
        return "Object"
    if with_namespace or request.show_labels or request.label_columns:
        return "Metadata"
    return "None"


def _as_table(document: dict, resource: Any) -> dict:
    """A Table, or one built from plain objects for a server that did not send one (kubectl's fallback)."""
    if document.get("kind") == "Table":
        return document
    items = document.get("items") if "items" in document else [document]
    from cli.client.printers import default_table

    return default_table(items or [])


def _print_generic(connection: Connection, selections: list[Selection], output_format: OutputFormat,
                   request: GetRequest, *, single_item: bool, errors: list[Exception]) -> None:
    from cli.client.errors import ServerError
    from cli.client.printers import as_list, format_generic
    from cli.client.targets import get_object, list_objects

    client = connection.client
    items: list[dict] = []
    resources_by_identity: dict[int, Any] = {}
    for selection in selections:
        resource = selection.resource
        if selection.names:
            for name in selection.names:
                try:
                    document = get_object(client, resource, name, namespace=selection.namespace)
                except ServerError as error:
                    if not (error.is_not_found and request.ignore_not_found):
                        errors.append(error)
                    continue
                items.append(document)
                resources_by_identity[id(document)] = resource
            continue
        try:
            for page in list_objects(client, resource, namespace=selection.namespace,
                                     label_selector=request.label_selector, field_selector=request.field_selector,
                                     chunk_size=request.chunk_size):
                for item in page.get("items") or []:
                    item.setdefault("apiVersion", resource.api_version)
                    item.setdefault("kind", resource.kind)
                    items.append(item)
                    resources_by_identity[id(item)] = resource
        except ServerError as error:
            errors.append(error)
    if request.sort_by:
        items = _sort_items(items, request.sort_by)

    def resource_of(document: dict) -> Any:
        return resources_by_identity.get(id(document))

    if single_item and len(items) == 1:
        sys.stdout.write(format_generic(items[0], output_format, resource_of=resource_of,
                                        show_managed_fields=request.show_managed_fields))
    elif items or not errors:
        sys.stdout.write(format_generic(as_list(items), output_format, resource_of=resource_of,
                                        show_managed_fields=request.show_managed_fields))
    sys.stdout.flush()


def _watch_params(selection: Selection, request: GetRequest, resource_version: str | None) -> dict[str, Any]:
    field_selector = request.field_selector
    if selection.names:
        name_selector = f"metadata.name={selection.names[0]}"
        field_selector = f"{field_selector},{name_selector}" if field_selector else name_selector
    return {"watch": True, "labelSelector": request.label_selector, "fieldSelector": field_selector,
            "resourceVersion": resource_version, "allowWatchBookmarks": None}


def _current_resource_version(connection: Connection, selection: Selection, request: GetRequest) -> str | None:
    params = {"labelSelector": request.label_selector, "fieldSelector": request.field_selector, "limit": 1}
    page = connection.client.get(selection.resource.path(selection.namespace), params=params) or {}
    return (page.get("metadata") or {}).get("resourceVersion")


def _watch_table(connection: Connection, selection: Selection, printer: TablePrinter, request: GetRequest, *,
                 with_kind: bool, resource_version: str | None) -> None:
    """Print a row per change after `resource_version` (None: the current state first), as `kubectl get -w`."""
    from cli.client.api import TABLE, loads

    resource = selection.resource
    kind_prefix = resource.group_kind if with_kind else None
    with_namespace = request.all_namespaces and resource.namespaced
    for line in connection.client.stream(resource.path(selection.namespace),
                                         params=_watch_params(selection, request, resource_version), accept=TABLE):
        event = loads(line)
        if event.get("type") == "ERROR":
            from cli.client.errors import ServerError

            raise ServerError(event.get("object") or {}, http_code=500)
        if event.get("type") == "BOOKMARK":
            continue
        table = event.get("object") or {}
        printer.print_table(_as_table(table, resource), with_namespace=with_namespace, kind_prefix=kind_prefix)
        printer.flush()


def _watch_generic(connection: Connection, selection: Selection, output_format: OutputFormat,
                   request: GetRequest) -> None:
    from cli.client.api import loads
    from cli.client.printers import format_generic

    resource = selection.resource
    resource_version = _current_resource_version(connection, selection, request)
    for line in connection.client.stream(resource.path(selection.namespace),
                                         params=_watch_params(selection, request, resource_version)):
        event = loads(line)
        if event.get("type") in ("BOOKMARK", "ERROR"):
            continue
        document = event.get("object") or {}
        document.setdefault("apiVersion", resource.api_version)
        document.setdefault("kind", resource.kind)
        text = format_generic(document, output_format, resource_of=lambda _document: resource,
                              show_managed_fields=request.show_managed_fields)
        if output_format.kind == "yaml":
            text = "---\n" + text
        sys.stdout.write(text)
        sys.stdout.flush()
