"""Kubernetes resource quantities ("100m", "1.5Gi", "2e3") as exact decimals.

Mirrors k8s.io/apimachinery/pkg/api/resource: the same grammar, the same error
messages, the same rounding (values below one nano round up to 1n), and the same
canonical spelling Kubernetes stores and returns ("0.5" -> "500m", "1024Mi" -> "1Gi").

Used by: apiserver strategies (validation, defaulting), the scheduler (fit by
cpu millis and memory bytes), the kubelet (Docker limits), table printers.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Literal

QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"

QuantityFormat = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX_BY_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIX_BY_EXPONENT = {0: "", **{exponent: suffix for suffix, exponent in _BINARY_SUFFIXES.items()}}
_SUFFIX_CHARACTERS = set("eEinumkKMGTP")
_DIGITS = set("0123456789")
_NANO = Decimal("1e-9")
_MILLI = Decimal("1e-3")

# Exact arithmetic: quantities go up to 2^63 with 9 decimals, well inside 60 digits.
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


def parse_quantity(value: str | int | float) -> Decimal:
    """The quantity's exact value; ValueError with Kubernetes' message when malformed."""
    return parse_quantity_with_format(value)[0]


def parse_quantity_with_format(value: str | int | float) -> tuple[Decimal, QuantityFormat]:
    """Value and format (which decides the canonical spelling), as resource.ParseQuantity."""
    text = _quantity_text(value)
    positive, number, suffix = _split_quantity(text)
    base, exponent, quantity_format = _interpret_suffix(suffix)
    with decimal.localcontext(_CONTEXT):
        amount = Decimal(number)
        if base == 10:
            amount = amount.scaleb(exponent)
        else:
            amount = amount * (Decimal(2) ** exponent)
        if amount != 0:
            # Kubernetes rounds away from zero to the nano: asking for a tiny amount still gets some.
            amount = amount.quantize(_NANO, rounding=decimal.ROUND_UP) if amount.as_tuple().exponent < -9 else amount
        if not positive:
            amount = -amount
    return amount, quantity_format


def _quantity_text(value: str | int | float) -> str:
    # JSON numbers reach Kubernetes as their literal text; we get Python numbers instead.
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    text = value.strip() if isinstance(value, str) else str(value)
    if not text:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    return text


def _split_quantity(text: str) -> tuple[bool, str, str]:
    """resource.parseQuantityString: (positive, "digits[.digits]", suffix)."""
    position, end = 0, len(text)
    positive = True
    if text[0] in "+-":
        positive = text[0] == "+"
        position = 1
    while position < end and text[position] == "0":
        position += 1
    if position >= end:
        return positive, "0", ""
    numerator_start = position
    while position < end and text[position] in _DIGITS:
        position += 1
    numerator = text[numerator_start:position] or "0"
    denominator = ""
    if position < end and text[position] == ".":
        position += 1
        denominator_start = position
        while position < end and text[position] in _DIGITS:
            position += 1
        denominator = text[denominator_start:position]
    number = numerator + ("." + denominator if denominator else "")
    suffix_start = position
    while position < end and text[position] in _SUFFIX_CHARACTERS:
        position += 1
    if position < end and text[position] in "+-":
        position += 1
    while position < end and text[position] in _DIGITS:
        position += 1
    if position < end:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    return positive, number, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, QuantityFormat]:
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        exponent_text = suffix[1:]
        digits = exponent_text[1:] if exponent_text[0] in "+-" else exponent_text
        if digits and all(character in _DIGITS for character in digits):
            return 10, int(exponent_text), "DecimalExponent"
    raise ValueError(QUANTITY_SUFFIX_ERROR)


def canonical_quantity(value: str | int | float, *, round_up_to_milli: bool = False) -> str:
    """The spelling Kubernetes stores: `Quantity.String()` after parsing.

    `round_up_to_milli` is what defaulting does to every ResourceList (requests,
    limits, capacity): "0.0001" becomes "1m".
    """
    amount, quantity_format = parse_quantity_with_format(value)
    if round_up_to_milli and amount.as_tuple().exponent < -3:
        with decimal.localcontext(_CONTEXT):
            amount = amount.quantize(_MILLI, rounding=decimal.ROUND_UP)
    return format_quantity(amount, quantity_format)


def format_quantity(amount: Decimal, quantity_format: QuantityFormat = "DecimalSI") -> str:
    """Quantity.CanonicalizeBytes: an integer mantissa and the largest suffix that keeps it exact."""
    if amount == 0:
        return "0"
    if quantity_format == "BinarySI":
        # Small or fractional binary quantities would need rounding: Kubernetes shows them as DecimalSI.
        if -1024 < amount < 1024 or amount != amount.to_integral_value():
            quantity_format = "DecimalSI"
    if quantity_format == "BinarySI":
        mantissa, exponent = int(amount), 0
        while mantissa % 1024 == 0 and exponent < 60:
            mantissa //= 1024
            exponent += 10
        return f"{mantissa}{_BINARY_SUFFIX_BY_EXPONENT[exponent]}"
    mantissa, exponent = _base10_mantissa(amount)
    if quantity_format == "DecimalExponent":
        return f"{mantissa}" + (f"e{exponent}" if exponent else "")
    if exponent > 18:  # beyond "E": keep the value exact rather than drop the suffix
        mantissa, exponent = mantissa * 10 ** (exponent - 18), 18
    return f"{mantissa}{_DECIMAL_SUFFIX_BY_EXPONENT[exponent]}"


def _base10_mantissa(amount: Decimal) -> tuple[int, int]:
    """(m, e) with amount == m * 10**e, e a multiple of 3 and m as small as possible."""
    sign, digits, exponent = amount.normalize(_CONTEXT).as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    remainder = exponent % 3  # Python's % is non-negative, so this lowers e to the multiple of 3 below
    mantissa *= 10**remainder
    exponent -= remainder
    return (-mantissa if sign else mantissa), exponent


def _ceil(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=decimal.ROUND_CEILING))


def cpu_millis(value: str | int | float) -> int:
    """Quantity.MilliValue(): thousandths, rounded up ("0.1" -> 100, "1n" -> 1)."""
    with decimal.localcontext(_CONTEXT):
        return _ceil(parse_quantity(value) * 1000)


def memory_bytes(value: str | int | float) -> int:
    """Quantity.Value(): whole units, rounded up ("1Ki" -> 1024, "1.5" -> 2)."""
    return _ceil(parse_quantity(value))


def format_cpu_millis(millis: int) -> str:
    """100 -> "100m", 2000 -> "2": how Kubernetes prints a cpu amount."""
    return format_quantity(Decimal(millis).scaleb(-3, _CONTEXT), "DecimalSI")


def is_valid_quantity(value: object) -> bool:
    try:
        parse_quantity(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True
