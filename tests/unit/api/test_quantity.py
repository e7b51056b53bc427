"""Quantities parse, round and print as Kubernetes' resource.Quantity."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from orchestrator.api.quantity import (
    QUANTITY_FORMAT_ERROR,
    QUANTITY_SUFFIX_ERROR,
    canonical_quantity,
    cpu_millis,
    format_cpu_millis,
    memory_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("100m", Decimal("0.1"), id="milli"),
        pytest.param("2", Decimal(2), id="plain"),
        pytest.param(2, Decimal(2), id="json-int"),
        pytest.param(0.5, Decimal("0.5"), id="json-float"),
        pytest.param("1.5Gi", Decimal(1610612736), id="binary-fraction"),
        pytest.param("1Ki", Decimal(1024), id="kibi"),
        pytest.param("1k", Decimal(1000), id="kilo"),
        pytest.param("1E", Decimal(10) ** 18, id="exa-not-exponent"),
        pytest.param("1e3", Decimal(1000), id="exponent"),
        pytest.param("1E-3", Decimal("0.001"), id="negative-exponent"),
        pytest.param("-1.5", Decimal("-1.5"), id="negative"),
        pytest.param("+007", Decimal(7), id="sign-and-zeros"),
        pytest.param("1.", Decimal(1), id="trailing-dot"),
        pytest.param("0.1n", Decimal("1e-9"), id="rounds-up-to-nano"),
        pytest.param(" 5 ", Decimal(5), id="spaces-trimmed"),
    ],
)
def test_parse(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("10x", QUANTITY_FORMAT_ERROR, id="unknown-character"),
        pytest.param("", QUANTITY_FORMAT_ERROR, id="empty"),
        pytest.param("1.5.5", QUANTITY_FORMAT_ERROR, id="two-dots"),
        pytest.param("abc", QUANTITY_FORMAT_ERROR, id="letters"),
        pytest.param(True, QUANTITY_FORMAT_ERROR, id="boolean"),
        pytest.param("1K", QUANTITY_SUFFIX_ERROR, id="capital-k"),
        pytest.param("1e", QUANTITY_SUFFIX_ERROR, id="bare-exponent"),
        pytest.param("5Mb", QUANTITY_FORMAT_ERROR, id="bytes-suffix"),
        pytest.param("1Ki5", QUANTITY_SUFFIX_ERROR, id="digits-after-binary-suffix"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("0.5", "500m", id="half-cpu"),
        pytest.param("1024Mi", "1Gi", id="mebi-to-gibi"),
        pytest.param("1536Mi", "1536Mi", id="not-a-whole-gibi"),
        pytest.param("1.5Gi", "1536Mi", id="fractional-gibi"),
        pytest.param("512", "512", id="small-binary-stays-decimal"),
        pytest.param("2000m", "2", id="whole-cpus"),
        pytest.param("1500", "1500", id="decimal-keeps-mantissa"),
        pytest.param("1e3", "1e3", id="exponent-format-kept"),
        pytest.param("0", "0", id="zero"),
        pytest.param("-100m", "-100m", id="negative"),
        pytest.param("0.5Ki", "512", id="binary-below-1024-is-decimal"),
    ],
)
def test_canonical_spelling(text, canonical):
    assert canonical_quantity(text) == canonical


def test_resource_lists_round_up_to_millis():
    assert canonical_quantity("0.0001", round_up_to_milli=True) == "1m"
    assert canonical_quantity("1.0005", round_up_to_milli=True) == "1001m"


@pytest.mark.parametrize(
    ("text", "millis"),
    [pytest.param("100m", 100, id="milli"), pytest.param("1", 1000, id="one"),
     pytest.param("1n", 1, id="nano-rounds-up"), pytest.param(0.25, 250, id="float")],
)
def test_cpu_millis(text, millis):
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(
    ("text", "size"),
    [pytest.param("128Mi", 128 * 2**20, id="mebi"), pytest.param("1G", 10**9, id="giga"),
     pytest.param("1.5", 2, id="rounds-up")],
)
def test_memory_bytes(text, size):
    assert memory_bytes(text) == size


@pytest.mark.parametrize(
    ("millis", "text"),
    [pytest.param(100, "100m", id="milli"), pytest.param(2000, "2", id="whole"),
     pytest.param(1500, "1500m", id="mixed"), pytest.param(0, "0", id="zero")],
)
def test_format_cpu_millis(millis, text):
    assert format_cpu_millis(millis) == text
