"""`orc get`: list or show objects like `kubectl get`, from the server's Table output.

`orc get pods`, `orc get deploy,svc -A`, `orc get pod/web-1 -o yaml`, `orc get all`, `orc get pods -w`,
`-l`/`--field-selector`, `--show-labels`, `-L`, `--no-headers`, `--sort-by`, `-o wide|json|yaml|name|
jsonpath=...|custom-columns=...`, `--raw /path`. This module declares the command and its flags;
the work is cli/client/listing.py's `run_get`.

Registered on the `orc` app by cli/client/__init__.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import (
    AllNamespacesOption,
    FilenameOption,
    OutputOption,
    RecursiveOption,
    SelectorOption,
    verb,
)

if TYPE_CHECKING:
    from cli.client.connection import Connection


def register(app: typer.Typer) -> None:
    app.command("get", help="Display one or many resources.")(get)


@verb
def get(
    connection: Connection,
    args: Annotated[list[str] | None, typer.Argument(help="TYPE[,TYPE...] [NAME...] or TYPE/NAME...",
                                                     show_default=False)] = None,
    output: OutputOption = None,
    selector: SelectorOption = None,
    field_selector: Annotated[str | None, typer.Option(
        "--field-selector", help="Selector (field query) to filter on, e.g. status.phase=Running.")] = None,
    all_namespaces: AllNamespacesOption = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="After listing, watch for changes.")] = False,
    watch_only: Annotated[bool, typer.Option("--watch-only", help="Watch for changes, without listing first.")] = False,
    show_labels: Annotated[bool, typer.Option("--show-labels", help="Show all labels as the last column.")] = False,
    label_columns: Annotated[list[str] | None, typer.Option(
        "--label-columns", "-L", help="Labels to show as columns (comma-separated or repeated).")] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Don't print headers.")] = False,
    show_kind: Annotated[bool, typer.Option("--show-kind", help="List the resource type of each object.")] = False,
    sort_by: Annotated[str | None, typer.Option("--sort-by", help="Sort by a JSONPath expression.")] = None,
    ignore_not_found: Annotated[bool, typer.Option("--ignore-not-found", help="Treat NotFound as success.")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="List large collections in chunks of this size.")] = 500,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    raw: Annotated[str | None, typer.Option("--raw", help="Print the raw response of this server path.")] = None,
    show_managed_fields: Annotated[bool, typer.Option(
        "--show-managed-fields", help="Keep metadata.managedFields in json and yaml output.")] = False,
) -> None:
    from cli.client.listing import GetRequest, run_get

    labels = tuple(label for value in (label_columns or []) for label in value.split(",") if label)
    run_get(connection, GetRequest(
        args=args or [], output=output, label_selector=selector, field_selector=field_selector,
        all_namespaces=all_namespaces, watch=watch, watch_only=watch_only, show_labels=show_labels,
        label_columns=labels, no_headers=no_headers, show_kind=show_kind, sort_by=sort_by,
        ignore_not_found=ignore_not_found, chunk_size=chunk_size, filenames=filename or [], recursive=recursive,
        raw=raw, show_managed_fields=show_managed_fields,
    ))
