"""Output formats as kubectl writes them (cli/client/printers.py)."""

from __future__ import annotations

import io

import pytest

from cli.client.errors import CliError
from cli.client.printers import (
    OutputFormat,
    TableOptions,
    TablePrinter,
    format_custom_columns,
    format_generic,
    go_json,
    parse_output,
    to_yaml,
)


def table(rows: list[list], *, wide_column: bool = True, namespace: str = "default") -> dict:
    columns = [{"name": "Name", "type": "string", "format": "name", "priority": 0},
               {"name": "Status", "type": "string", "format": "", "priority": 0}]
    if wide_column:
        columns.append({"name": "Node", "type": "string", "format": "", "priority": 1})
    return {"kind": "Table", "columnDefinitions": columns,
            "rows": [{"cells": cells, "object": {"metadata": {"name": cells[0], "namespace": namespace,
                                                             "labels": {"app": cells[0]}}}} for cells in rows]}


def printed(options: TableOptions, *tables: tuple[dict, str | None], with_namespace: bool = False) -> str:
    out = io.StringIO()
    printer = TablePrinter(options, out=out)
    for document, prefix in tables:
        printer.start_kind()
        printer.print_table(document, with_namespace=with_namespace, kind_prefix=prefix)
    printer.flush()
    return out.getvalue()


@pytest.mark.parametrize("options, with_namespace, expected", [
    pytest.param(TableOptions(), False, "NAME   STATUS\nweb    Running\n", id="plain"),
    pytest.param(TableOptions(wide=True), False, "NAME   STATUS    NODE\nweb    Running   n1\n", id="wide"),
    pytest.param(TableOptions(no_headers=True), False, "web   Running\n", id="no-headers"),
    pytest.param(TableOptions(show_labels=True), False, "NAME   STATUS    LABELS\nweb    Running   app=web\n",
                 id="show-labels"),
    pytest.param(TableOptions(label_columns=("app",)), False, "NAME   STATUS    APP\nweb    Running   web\n",
                 id="label-columns"),
    pytest.param(TableOptions(), True, "NAMESPACE   NAME   STATUS\ndefault     web    Running\n", id="namespace"),
])
def test_table_decorations(options, with_namespace, expected):
    assert printed(options, (table([["web", "Running", "n1"]]), None), with_namespace=with_namespace) == expected


def test_several_kinds_get_prefixes_and_a_blank_line():
    text = printed(TableOptions(), (table([["web", "Running", "n1"]]), "pod"),
                   (table([["web", "Active", "-"]]), "deployment.apps"))
    assert text == ("NAME      STATUS\npod/web   Running\n\n"
                    "NAME                  STATUS\ndeployment.apps/web   Active\n")


def test_empty_tables_print_nothing():
    assert printed(TableOptions(), (table([]), None)) == ""


@pytest.mark.parametrize("value, expected", [
    pytest.param({"b": 1, "a": "<x&y>"}, '{"a":"\\u003cx\\u0026y\\u003e","b":1}', id="sorted-and-escaped"),
    pytest.param({"text": "héllo"}, '{"text":"héllo"}', id="utf8-kept"),
])
def test_go_json(value, expected):
    assert go_json(value) == expected


@pytest.mark.parametrize("value, expected", [
    pytest.param({"a": "3600"}, 'a: "3600"\n', id="numeric-string-double-quoted"),
    pytest.param({"a": "y"}, 'a: "y"\n', id="go-yaml-boolean-quoted"),
    pytest.param({"t": "2026-01-01T00:00:00Z"}, 't: "2026-01-01T00:00:00Z"\n', id="timestamp-quoted"),
    pytest.param({"s": "line one\nline two\n"}, "s: |\n  line one\n  line two\n", id="literal-block"),
    pytest.param({"b": [1], "a": {}}, "a: {}\nb:\n- 1\n", id="sorted-and-indentless"),
    pytest.param({"x": None}, "x: null\n", id="null"),
    pytest.param({"n": "N"}, "\"n\": \"N\"\n", id="go-yaml-boolean-key"),
])
def test_yaml_like_go(value, expected):
    assert to_yaml(value) == expected


@pytest.mark.parametrize("output, expected", [
    pytest.param(None, OutputFormat(), id="default"),
    pytest.param("wide", OutputFormat("wide"), id="wide"),
    pytest.param("jsonpath={.a}", OutputFormat("jsonpath", "{.a}"), id="jsonpath"),
    pytest.param("custom-columns=A:.a", OutputFormat("custom-columns", "A:.a"), id="custom-columns"),
])
def test_parse_output(output, expected):
    assert parse_output(output) == expected


def test_parse_output_refuses_unknown_formats():
    with pytest.raises(CliError, match='unable to match a printer suitable for the output format "xml"'):
        parse_output("xml")


def test_generic_formats():
    items = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}]
    listing = {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
    assert format_generic(listing, OutputFormat("name")) == "deployment.apps/web\n"
    assert format_generic(items[0], OutputFormat("json")).startswith('{\n    "apiVersion": "apps/v1",\n')


def test_custom_columns():
    items = [{"metadata": {"name": "a"}, "spec": {"containers": [{"image": "x"}, {"image": "y"}]}},
             {"metadata": {"name": "bb"}, "spec": {}}]
    assert format_custom_columns(items, "NAME:.metadata.name,IMAGES:.spec.containers[*].image") == \
        "NAME   IMAGES\na      x,y\nbb     <none>\n"
