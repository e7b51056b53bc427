"""Go's tabwriter as kubectl configures it (cli/client/tabwriter.py)."""

from __future__ import annotations

import random

import pytest

from cli.client.tabwriter import TabWriter


@pytest.mark.parametrize("text, expected", [
    pytest.param("NAME\tAGE\nweb\t5s\n", "NAME   AGE\nweb    5s\n", id="minimum-width-6"),
    pytest.param("NAME\tREADY\tSTATUS\nlong-pod-name\t0/1\tPending\n",
                 "NAME            READY   STATUS\nlong-pod-name   0/1     Pending\n", id="padding-3"),
    pytest.param("a\tb\tc\n", "a     b     c\n", id="last-cell-unpadded"),
    pytest.param("x\t\ty\n", "x           y\n", id="empty-cell"),
])
def test_table_alignment(text, expected):
    writer = TabWriter.for_tables()
    writer.write(text)
    assert writer.flush() == expected


def test_describe_blocks_align_separately():
    writer = TabWriter.for_describe()
    writer.write("Name:\tweb\nNamespace:\tdefault\nContainers:\n  web:\n    Image:\techo\n    Port:\t80/TCP\n")
    assert writer.flush() == ("Name:       web\nNamespace:  default\nContainers:\n  web:\n"
                              "    Image:  echo\n    Port:   80/TCP\n")


def test_remembered_widths_keep_watch_rows_aligned():
    writer = TabWriter.for_tables()
    writer.write("NAME\tAGE\nvery-long-name\t1s\n")
    writer.flush()
    writer.write("a\t2s\n")
    assert writer.flush() == "a" + " " * 16 + "2s\n"
    writer.forget_widths()
    writer.write("a\t2s\n")
    assert writer.flush() == "a     2s\n"


def test_uniform_tables_align_as_the_general_algorithm_does():
    """`get` tables (every line the same cells) take a shorter path; it must print the same bytes."""
    generator = random.Random(6)
    for _ in range(500):
        fast, general = TabWriter.for_tables(), TabWriter.for_tables()
        cells = generator.randint(1, 5)
        for _flush in range(generator.randint(1, 3)):  # remembered widths carry across flushes
            rows = generator.randint(1, 6)
            text = "".join("\t".join("x" * generator.randint(0, 12) for _ in range(cells)) + "\n" for _ in range(rows))
            fast.write(text)
            lines = [line.split("\t") for line in text.split("\n")]
            output: list[str] = []
            general._format(lines, output, [], 0, len(lines))
            assert fast.flush() == "".join(output), text
