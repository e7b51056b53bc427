"""Colour on a terminal: escape codes added after alignment, nothing when piped."""

from __future__ import annotations

import io
import re

from cli.client import colour
from cli.client.printers import TableOptions, TablePrinter

ALIGNED = ("NAME            READY   STATUS             RESTARTS   AGE\n"
           "running-web-0   1/1     Running            0          5s\n"
           "web-1           0/1     CrashLoopBackOff   3          5s\n"
           "web-2           0/1     Pending            0          5s\n")


def strip(text: str) -> str:
    return re.sub(r"\033\[\d+m", "", text)


def test_colours_change_nothing_but_escape_codes():
    coloured = colour.colour_table(ALIGNED)
    assert strip(coloured) == ALIGNED
    assert f"{colour.BOLD}NAME " in coloured
    assert f"{colour.GREEN}Running{colour.RESET}" in coloured
    assert f"{colour.RED}CrashLoopBackOff{colour.RESET}" in coloured
    assert f"{colour.YELLOW}Pending{colour.RESET}" in coloured
    assert "running-web-0" in coloured  # part of a name: left alone


def test_table_printer_is_plain_unless_asked_or_on_a_terminal(monkeypatch):
    table = {"columnDefinitions": [{"name": "Name", "type": "string", "format": "name"},
                                   {"name": "Status", "type": "string"}],
             "rows": [{"cells": ["web", "Running"], "object": {"metadata": {}}}]}
    for setting, expect_colour in (("never", False), ("always", True), ("", False)):
        monkeypatch.setenv("ORC_COLOR", setting)
        out = io.StringIO()  # not a terminal
        printer = TablePrinter(TableOptions(), out=out)
        printer.print_table(table, with_namespace=False, kind_prefix=None)
        printer.flush()
        assert ("\033[" in out.getvalue()) is expect_colour
        assert strip(out.getvalue()) == "NAME   STATUS\nweb    Running\n"


def test_no_color_turns_it_off(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("ORC_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour.enabled(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour.enabled(Terminal())
