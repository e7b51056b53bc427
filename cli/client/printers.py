"""How the `orc` client prints objects, byte for byte as kubectl does.

- `TablePrinter` prints the server's `meta.k8s.io/v1` Tables: upper-case headers, wide (priority 1)
  columns only with `-o wide`, a NAMESPACE column with `-A`, `kind/name` when several kinds are
  shown, `--show-labels`/`-L`, aligned by Go's tabwriter (3-space gaps), a blank line between kinds.
- `print_objects` handles the generic formats: `-o json` (4-space indent, sorted keys, as Go's
  json.MarshalIndent), `-o yaml` (sorted keys, `"`-quoting, `|` blocks, as sigs.k8s.io/yaml),
  `-o name`, `-o jsonpath=...`, `-o custom-columns=...`. Several objects become a `kind: List`.
- `go_json` is the compact JSON Go's json.Marshal writes (sorted keys, `<>&` escaped): the form of
  the `kubectl.kubernetes.io/last-applied-configuration` annotation.

Used by get, apply/create (`-o`), describe's tables, config view and the other verbs that print.
"""

from __future__ import annotations

import json
import sys
from collections import namedtuple

from cli.client.errors import CliError
from cli.client.tabwriter import TabWriter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from typing import Any, TextIO

    from cli.client.resources import ApiResource

GENERIC_FORMATS = ("json", "yaml", "name", "jsonpath", "jsonpath-as-json", "custom-columns", "go-template")


# --- JSON and YAML as Go writes them ---------------------------------------------------------------

def _escape_html(text: str) -> str:
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_json(document: Any) -> str:
    """Go's json.Marshal of decoded JSON: compact, keys sorted, HTML characters escaped."""
    return _escape_html(json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def go_json_indent(document: Any) -> str:
    """Go's json.MarshalIndent(document, "", "    ") plus the newline kubectl adds."""
    return _escape_html(json.dumps(document, sort_keys=True, ensure_ascii=False, indent=4)) + "\n"


def _yaml_dumper() -> type:
    import yaml

    class GoYamlDumper(yaml.SafeDumper):
        """sigs.k8s.io/yaml's look: double quotes when quoting is needed, literal blocks for multi-line text."""

        def choose_scalar_style(self):  # noqa: ANN201 - PyYAML's hook
            style = super().choose_scalar_style()
            return '"' if style == "'" else style

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        if "\n" in value:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        if value in GO_YAML_BOOLEANS:
            # go-yaml reads these as booleans (PyYAML does not), so it quotes them.
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)

    GoYamlDumper.add_representer(str, represent_str)
    return GoYamlDumper


_DUMPER: type | None = None
GO_YAML_BOOLEANS = {"y", "Y", "n", "N"}


def to_yaml(document: Any) -> str:
    """YAML as `kubectl get -o yaml` prints it."""
    import yaml

    global _DUMPER
    if _DUMPER is None:
        _DUMPER = _yaml_dumper()
    return yaml.dump(document, Dumper=_DUMPER, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=float("inf"))


# --- output formats --------------------------------------------------------------------------------

class OutputFormat(namedtuple("OutputFormat", ("kind", "argument"), defaults=("", ""))):
    """A parsed `-o`: kind is "" (the server's table), "wide", or one of GENERIC_FORMATS; argument is
    what follows `=` (a template). A named tuple: dataclasses cost `orc get` start-up time."""

    __slots__ = ()

    @property
    def is_table(self) -> bool:
        return self.kind in ("", "wide")


def parse_output(output: str | None, *, allowed: tuple[str, ...] | None = None) -> OutputFormat:
    if not output:
        return OutputFormat()
    kind, _, argument = output.partition("=")
    kind = kind.strip()
    known = ("wide", *GENERIC_FORMATS, "custom-columns-file", "jsonpath-file")
    if kind not in known or (allowed is not None and kind not in allowed):
        choices = allowed or ("json", "yaml", "name", "go-template", "go-template-file", "template", "templatefile",
                              "jsonpath", "jsonpath-as-json", "jsonpath-file", "custom-columns",
                              "custom-columns-file", "wide")
        raise CliError(f'unable to match a printer suitable for the output format "{output}", '
                       f"allowed formats are: {','.join(choices)}")
    if kind == "go-template":
        raise CliError("go-template output is not supported by orc; use -o jsonpath=...")
    if kind in ("jsonpath-file", "custom-columns-file"):
        try:
            with open(argument, encoding="utf-8") as template_file:
                argument = template_file.read().strip()
        except OSError as error:
            raise CliError(f"error reading template {argument}: {error.strerror}") from None
        kind = kind.removesuffix("-file")
    if kind in ("jsonpath", "jsonpath-as-json", "custom-columns") and not argument:
        raise CliError(f"{kind} format specified but no {kind} template given")
    return OutputFormat(kind, argument)


def object_name(document: dict, resource: ApiResource | None) -> str:
    """`deployment.apps/web`, as `-o name` prints an object."""
    name = (document.get("metadata") or {}).get("name", "")
    if resource is not None:
        return resource.object_ref(name)
    kind = document.get("kind", "").lower()
    group = document.get("apiVersion", "").rpartition("/")[0]
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def as_list(items: list[dict], resource_version: str = "") -> dict:
    """kubectl's display list for several objects."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": resource_version}}


def omit_managed_fields(document: dict) -> dict:
    """The document without `metadata.managedFields` (in each item of a List), as kubectl prints by default."""
    if document.get("kind") == "List" and isinstance(document.get("items"), list):
        return {**document, "items": [omit_managed_fields(item) for item in document["items"]]}
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return document
    return {**document, "metadata": {key: value for key, value in metadata.items() if key != "managedFields"}}


def format_generic(document: dict, output: OutputFormat, *, resource_of: Any = None,
                   show_managed_fields: bool = False) -> str:
    """The text of one object (or one List) in a generic output format.

    `resource_of(document)` gives an item's ApiResource for `-o name` (kubectl prints the resource's
    group); without it the name comes from the document's kind and apiVersion. managedFields are
    left out unless asked for (kubectl's `--show-managed-fields`).
    """
    if not show_managed_fields:
        document = omit_managed_fields(document)
    if output.kind == "json":
        return go_json_indent(document)
    if output.kind == "yaml":
        return to_yaml(document)
    if output.kind == "name":
        items = document["items"] if document.get("kind") == "List" and "items" in document else [document]
        return "".join(object_name(item, resource_of(item) if resource_of else None) + "\n" for item in items)
    if output.kind in ("jsonpath", "jsonpath-as-json"):
        from cli.client.jsonpath import JSONPath

        template = JSONPath(output.argument)
        if output.kind == "jsonpath-as-json":
            return go_json_indent(template.find(document))
        return template.render(document)
    if output.kind == "custom-columns":
        items = document["items"] if document.get("kind") == "List" and "items" in document else [document]
        return format_custom_columns(items, output.argument)
    raise CliError(f'unable to match a printer suitable for the output format "{output.kind}"')


def format_custom_columns(items: list[dict], spec: str, *, no_headers: bool = False) -> str:
    """kubectl's custom-columns printer: `NAME:.metadata.name,IMAGE:.spec.containers[*].image`."""
    from cli.client.jsonpath import JSONPath, format_value, relaxed

    columns = []
    for part in spec.split(","):
        header, separator, path = part.partition(":")
        if not separator:
            raise CliError(f'unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>')
        columns.append((header, JSONPath(relaxed(path))))
    writer = TabWriter.for_tables()
    if not no_headers:
        writer.write("\t".join(header for header, _ in columns) + "\n")
    for item in items:
        cells = []
        for _, template in columns:
            values = template.find(item)
            cells.append(",".join(format_value(value) for value in values) if values else "<none>")
        writer.write("\t".join(cells) + "\n")
    return writer.flush()


# --- server-side tables ------------------------------------------------------------------------------

def default_table(items: list[dict]) -> dict:
    """The Table kube-apiserver's default printer gives kinds without their own columns (NAME, CREATED AT)."""
    columns = [{"name": "Name", "type": "string", "format": "name", "priority": 0},
               {"name": "Created At", "type": "date", "format": "", "priority": 0}]
    rows = [{"cells": [(item.get("metadata") or {}).get("name", ""),
                       (item.get("metadata") or {}).get("creationTimestamp", "")],
             "object": {"metadata": item.get("metadata") or {}}} for item in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "columnDefinitions": columns, "rows": rows}


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        # kubectl cuts a cell at its first line break; `in` keeps the common case (none) fast.
        if "\n" in cell or "\r" in cell or "\f" in cell:
            return cell[:min(index for index in map(cell.find, "\f\n\r") if index >= 0)] + "..."
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        from cli.client.jsonpath import format_go_float

        return format_go_float(cell)
    if isinstance(cell, (dict, list)):
        return go_json(cell)
    return str(cell)


class TableOptions(namedtuple("TableOptions", ("wide", "no_headers", "show_labels", "label_columns"),
                              defaults=(False, False, False, ()))):
    """How `get` decorates tables: -o wide, --no-headers, --show-labels, -L's label keys (a tuple)."""

    __slots__ = ()


class TablePrinter:
    """Prints Tables of one or more kinds through one tabwriter, as `kubectl get` does."""

    def __init__(self, options: TableOptions, *, out: TextIO | None = None):
        self.options = options
        self.out = out or sys.stdout
        self.writer = TabWriter.for_tables()
        self.rows_printed = 0
        self._separator_pending = False
        self._printed_headers = False
        self._last_columns: list[dict] = []
        self._colour = None  # decided on the first flush: plain unless the output is a terminal

    def start_kind(self) -> None:
        """A new kind follows: its own headers, fresh widths, a blank line before it if anything was printed."""
        self.flush()
        self.writer.forget_widths()
        self._printed_headers = False
        self._last_columns: list[dict] = []
        if self.rows_printed and not self.options.no_headers:
            self._separator_pending = True

    def print_table(self, table: dict, *, with_namespace: bool, kind_prefix: str | None) -> None:
        """Add a Table's rows (decorated like kubectl's decorateTable) to the output.

        Headers are printed once per kind, as kubectl's humanReadablePrinter does: again only when the
        columns change; a Table without column definitions (a watch event) reuses the last ones.
        """
        rows = table.get("rows") or []
        definitions = table.get("columnDefinitions") or []
        no_headers = self.options.no_headers
        if self._printed_headers and (not definitions or definitions == self._last_columns):
            no_headers = True
        if not definitions:
            definitions = self._last_columns
        elif definitions != self._last_columns:
            self._last_columns = definitions
            self._printed_headers = False
        if not rows:  # kubectl prints no headers for an empty table
            return
        self._printed_headers = True
        shown = [index for index, column in enumerate(definitions)
                 if self.options.wide or not column.get("priority")]
        name_column = -1
        if kind_prefix:
            for index, column in enumerate(definitions):
                if column.get("format") == "name" and column.get("type") == "string":
                    name_column = index
                    break
        lines: list[str] = []
        if not no_headers:
            header = [definitions[index]["name"].upper() for index in shown]
            if with_namespace:
                header.insert(0, "NAMESPACE")
            header += [label.split("/")[-1].upper() for label in self.options.label_columns]
            if self.options.show_labels:
                header.append("LABELS")
            lines.append("\t".join(header))
        name_position = shown.index(name_column) if name_column in shown else -1
        from_metadata = with_namespace or self.options.label_columns or self.options.show_labels
        for row in rows:
            cells = row.get("cells") or []
            texts = [_cell_text(cells[index]) for index in shown if index < len(cells)]
            if 0 <= name_position < len(texts):
                texts[name_position] = f"{kind_prefix}/{texts[name_position]}"
            if from_metadata:
                metadata = (row.get("object") or {}).get("metadata") or {}
                if with_namespace:
                    texts.insert(0, metadata.get("namespace", ""))
                labels = metadata.get("labels") or {}
                texts += [labels.get(label, "") for label in self.options.label_columns]
                if self.options.show_labels:
                    texts.append(format_labels(labels))
            lines.append("\t".join(texts))
        if self._separator_pending:
            self.out.write("\n")
            self._separator_pending = False
        self.writer.write("\n".join(lines) + "\n")
        self.rows_printed += len(rows)

    def flush(self) -> None:
        text = self.writer.flush()
        if text:
            if self._colour is None:
                from cli.client import colour

                self._colour = colour.colour_table if colour.enabled(self.out) else (lambda aligned: aligned)
            self.out.write(self._colour(text))
            self.out.flush()
