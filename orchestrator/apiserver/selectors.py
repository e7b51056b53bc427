"""Label selectors and field selectors, as Kubernetes implements them.

Mirrors k8s.io/apimachinery/pkg/labels (the `?labelSelector=` query syntax and
metav1.LabelSelector objects) and pkg/fields (the `?fieldSelector=` syntax), with
Kubernetes' canonical string forms and error messages, plus the per-resource table
of selectable fields that Kubernetes keeps in each registry strategy.

Used by: the apiserver's list/watch handlers and storage (parse the query, check the
field labels, filter objects, narrow lists with `FieldSelector.value_for`), validation
and controllers (`selector_from_object` for `spec.selector` of ReplicaSets and
Deployments, `selector_from_set` for Service selectors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from orchestrator.api.errors import BadRequest


class Operator(StrEnum):
    """selection.Operator: the spelled values are Kubernetes' own."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


# The order Kubernetes lists them in its "expected: ..." message.
_BINARY_OPERATORS = (
    Operator.IN,
    Operator.NOT_IN,
    Operator.EQUALS,
    Operator.DOUBLE_EQUALS,
    Operator.NOT_EQUALS,
    Operator.GREATER_THAN,
    Operator.LESS_THAN,
)

# ---------------------------------------------------------------------------
# Key and value validation (k8s.io/apimachinery/pkg/util/validation, v1.32 texts)
# ---------------------------------------------------------------------------

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
# Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, nothing else.
_GO_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _label_key_errors(key: str) -> list[str]:
    """validation.IsQualifiedName: an optional DNS-subdomain prefix and '/', then a 63-char name."""
    name_example = ("MyName", "my.name", "123-abc")
    errors: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part " + _max_len_error(253))
            if not _DNS1123_SUBDOMAIN_RE.match(prefix):
                errors.append(
                    "prefix part " + _regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com")
                )
    else:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, *name_example)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + _max_len_error(63))
    if not _QUALIFIED_NAME_RE.match(name):
        errors.append("name part " + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, *name_example))
    return errors


def _label_value_errors(value: str) -> list[str]:
    """validation.IsValidLabelValue."""
    errors: list[str] = []
    if len(value) > 63:
        errors.append(_max_len_error(63))
    if not _LABEL_VALUE_RE.match(value):
        errors.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def _parse_go_int64(text: str) -> int | None:
    if not _GO_INT_RE.match(text):
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _go_string_slice(values: tuple[str, ...]) -> str:
    """How Go's %#v prints a []string (what field.Invalid shows for a bad value set)."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(value) for value in values) + "}"


def _invalid(path: str, shown_value: str, detail: str) -> str:
    """The text of a field.Invalid error: `<path>: Invalid value: <value>: <detail>`."""
    return f"{path}: Invalid value: {shown_value}: {detail}"


def _aggregate(messages: list[str]) -> str:
    """utilerrors.Aggregate's text: one message alone, several de-duplicated inside brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _key_error(key: str, path: str) -> str | None:
    errors = _label_key_errors(key)
    return _invalid(path, _go_quote(key), "; ".join(errors)) if errors else None


# ---------------------------------------------------------------------------
# Label selectors
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """One condition of a label selector: `key <operator> values`."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        if self.operator in (Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if self.operator in (Operator.NOT_IN, Operator.NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if self.operator == Operator.EXISTS:
            return present
        if self.operator == Operator.DOES_NOT_EXIST:
            return not present
        if self.operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
            if not present or len(self.values) != 1:
                return False
            label_number = _parse_go_int64(labels[self.key])
            bound = _parse_go_int64(self.values[0])
            if label_number is None or bound is None:
                return False
            return label_number > bound if self.operator == Operator.GREATER_THAN else label_number < bound
        return False

    def __str__(self) -> str:
        if self.operator == Operator.EXISTS:
            return self.key
        if self.operator == Operator.DOES_NOT_EXIST:
            return "!" + self.key
        # Set values print sorted, so equal selectors print alike.
        joined = ",".join(sorted(self.values))
        if self.operator in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {self.operator.value} ({joined})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(self.operator, self.operator.value)
        return f"{self.key}{symbol}{joined}"


def _new_requirement(key: str, operator: Operator, values: Iterable[str]) -> Requirement:
    """labels.NewRequirement: checks the key, the value count for the operator, and every value."""
    values = tuple(values)
    errors: list[str] = []
    if (key_error := _key_error(key, "key")) is not None:
        errors.append(key_error)
    if operator in (Operator.IN, Operator.NOT_IN):
        if not values:
            errors.append(
                _invalid("values", _go_string_slice(values), "for 'in', 'notin' operators, values set can't be empty")
            )
    elif operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
        if len(values) != 1:
            errors.append(
                _invalid("values", _go_string_slice(values), "exact-match compatibility requires one single value")
            )
    elif operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        if values:
            errors.append(
                _invalid("values", _go_string_slice(values), "values set must be empty for exists and does not exist")
            )
    elif operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
        if len(values) != 1:
            errors.append(
                _invalid("values", _go_string_slice(values), "for 'Gt', 'Lt' operators, exactly one value is required")
            )
        for index, value in enumerate(values):
            if _parse_go_int64(value) is None:
                errors.append(
                    _invalid(
                        f"values[{index}]", _go_quote(value), "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    for index, value in enumerate(values):
        if value_errors := _label_value_errors(value):
            errors.append(_invalid(f"values[{index}][{key}]", _go_quote(value), "; ".join(value_errors)))
    if errors:
        raise ValueError(_aggregate(errors))
    return Requirement(key, operator, values)


class LabelSelector:
    """An AND of requirements; or, for a nil metav1.LabelSelector, a selector matching nothing."""

    def __init__(self, requirements: Iterable[Requirement] = (), *, selects_nothing: bool = False):
        # Kubernetes keeps requirements sorted by key for a deterministic string form.
        self.requirements: tuple[Requirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))
        self.selects_nothing = selects_nothing

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(selects_nothing=True)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (selects every object)."""
        return not self.selects_nothing and not self.requirements

    def matches(self, labels: dict[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)

    def __repr__(self) -> str:
        return "LabelSelector(<nothing>)" if self.selects_nothing else f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return (self.requirements, self.selects_nothing) == (other.requirements, other.selects_nothing)

    def __hash__(self) -> int:
        return hash((self.requirements, self.selects_nothing))


def selector_from_object(selector: dict | None) -> LabelSelector:
    """metav1.LabelSelectorAsSelector: None selects nothing, `{}` selects everything.

    Raises ValueError (with Kubernetes' text) for an unknown operator, a bad key or value.
    """
    if selector is None:
        return LabelSelector.nothing()
    match_labels = selector.get("matchLabels") or {}
    match_expressions = selector.get("matchExpressions") or []
    if not match_labels and not match_expressions:
        return LabelSelector.everything()
    requirements = [_new_requirement(key, Operator.EQUALS, [value]) for key, value in match_labels.items()]
    operators = {
        "In": Operator.IN,
        "NotIn": Operator.NOT_IN,
        "Exists": Operator.EXISTS,
        "DoesNotExist": Operator.DOES_NOT_EXIST,
    }
    for expression in match_expressions:
        operator = operators.get(expression.get("operator"))
        if operator is None:
            raise ValueError(
                f"{_go_quote(str(expression.get('operator') or ''))} is not a valid label selector operator"
            )
        requirements.append(_new_requirement(expression.get("key") or "", operator, expression.get("values") or []))
    return LabelSelector(requirements)


def selector_from_set(labels: dict[str, str] | None) -> LabelSelector:
    """labels.SelectorFromSet: `key=value` for every entry; an empty or missing set selects everything."""
    return LabelSelector(Requirement(key, Operator.EQUALS, (value,)) for key, value in (labels or {}).items())


# --- the query-string parser (labels/selector.go's Lexer and Parser) ---------

# Tokens: an operator or punctuation token is its own literal; words are identifiers.
_END, _IDENTIFIER = "end of string", "identifier"
_OPEN_PAR, _CLOSED_PAR, _COMMA, _NOT = "(", ")", ",", "!"
_EQUALS, _DOUBLE_EQUALS, _NOT_EQUALS, _GREATER, _LESS = "=", "==", "!=", ">", "<"
_IN, _NOT_IN = "in", "notin"
_LITERAL_TOKENS = {
    _OPEN_PAR,
    _CLOSED_PAR,
    _COMMA,
    _NOT,
    _EQUALS,
    _DOUBLE_EQUALS,
    _NOT_EQUALS,
    _GREATER,
    _LESS,
    _IN,
    _NOT_IN,
}
_SPECIAL_SYMBOLS = set("=!(),><")
_WHITESPACE = set(" \t\r\n")


def _lex(text: str) -> list[tuple[str, str]]:
    """Splits a selector into (token, literal) pairs, ending with the end-of-string token."""
    items: list[tuple[str, str]] = []
    position = 0
    while True:
        while position < len(text) and text[position] in _WHITESPACE:
            position += 1
        if position >= len(text):
            items.append((_END, ""))
            return items
        if text[position] in _SPECIAL_SYMBOLS:
            # Longest run of symbols that is still an operator ("!=" rather than "!").
            end = position + 1
            while end < len(text) and text[end] in _SPECIAL_SYMBOLS and text[position : end + 1] in _LITERAL_TOKENS:
                end += 1
            # Every single symbol is itself a token, so a run always yields one.
            items.append((text[position:end], text[position:end]))
            position = end
            continue
        end = position
        while end < len(text) and text[end] not in _SPECIAL_SYMBOLS and text[end] not in _WHITESPACE:
            end += 1
        literal = text[position:end]
        items.append((literal if literal in _LITERAL_TOKENS else _IDENTIFIER, literal))
        position = end


class _LabelSelectorParser:
    """A recursive-descent parser with Kubernetes' contexts: `in`/`notin` are plain words as values."""

    def __init__(self, text: str):
        self.items = _lex(text)
        self.position = 0

    def _token(self, index: int, *, as_value: bool) -> tuple[str, str]:
        token, literal = self.items[index]
        if as_value and token in (_IN, _NOT_IN):
            token = _IDENTIFIER
        return token, literal

    def lookahead(self, *, as_value: bool = True) -> tuple[str, str]:
        return self._token(self.position, as_value=as_value)

    def consume(self, *, as_value: bool = True) -> tuple[str, str]:
        self.position += 1
        return self._token(self.position - 1, as_value=as_value)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self.lookahead()
            if token == _END:
                return requirements
            if token not in (_IDENTIFIER, _NOT):
                raise ValueError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.parse_requirement())
            except ValueError as error:
                raise ValueError(f"unable to parse requirement: {error}") from None
            token, literal = self.consume()
            if token == _END:
                return requirements
            if token != _COMMA:
                raise ValueError(f"found '{literal}', expected: ',' or 'end of string'")
            next_token, next_literal = self.lookahead()
            if next_token not in (_IDENTIFIER, _NOT):
                raise ValueError(f"found '{next_literal}', expected: identifier after ','")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator is not None:
            return _new_requirement(key, operator, ())
        operator = self.parse_operator()
        if operator in (Operator.IN, Operator.NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        # Kubernetes collects values in a set and lists them sorted.
        return _new_requirement(key, operator, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, Operator | None]:
        operator = None
        token, literal = self.consume()
        if token == _NOT:
            operator = Operator.DOES_NOT_EXIST
            token, literal = self.consume()
        if token != _IDENTIFIER:
            raise ValueError(f"found '{literal}', expected: identifier")
        # The parser has no field path, which Kubernetes prints as "<nil>".
        if (key_error := _key_error(literal, "<nil>")) is not None:
            raise ValueError(key_error)
        if self.lookahead()[0] in (_END, _COMMA) and operator is None:
            operator = Operator.EXISTS
        return literal, operator

    def parse_operator(self) -> Operator:
        token, literal = self.consume(as_value=False)
        operators = {
            _IN: Operator.IN,
            _EQUALS: Operator.EQUALS,
            _DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
            _GREATER: Operator.GREATER_THAN,
            _LESS: Operator.LESS_THAN,
            _NOT_IN: Operator.NOT_IN,
            _NOT_EQUALS: Operator.NOT_EQUALS,
        }
        if token not in operators:
            expected = ", ".join(operator.value for operator in _BINARY_OPERATORS)
            raise ValueError(f"found '{literal}', expected: {expected}")
        return operators[token]

    def parse_values(self) -> set[str]:
        token, literal = self.consume()
        if token != _OPEN_PAR:
            raise ValueError(f"found '{literal}' expected: '('")
        token, literal = self.lookahead()
        if token in (_IDENTIFIER, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume()[0] != _CLOSED_PAR:
                raise ValueError(f"found '{literal}', expected: ')'")
            return values
        if token == _CLOSED_PAR:
            self.consume()
            return {""}
        raise ValueError(f"found '{literal}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        """A comma-separated list in which an empty place stands for the empty value: `(a,,b)`, `(,a)`."""
        values: set[str] = set()
        while True:
            token, literal = self.consume()
            if token == _IDENTIFIER:
                values.add(literal)
                next_token, next_literal = self.lookahead()
                if next_token == _COMMA:
                    continue
                if next_token == _CLOSED_PAR:
                    return values
                raise ValueError(f"found '{next_literal}', expected: ',' or ')'")
            if token == _COMMA:
                if not values:
                    values.add("")
                next_token, _ = self.lookahead()
                if next_token == _CLOSED_PAR:
                    values.add("")
                    return values
                if next_token == _COMMA:
                    values.add("")
                continue
            raise ValueError(f"found '{literal}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_END, _COMMA):
            return {""}
        token, literal = self.consume()
        if token == _IDENTIFIER:
            return {literal}
        raise ValueError(f"found '{literal}', expected: identifier")


def parse_label_selector(text: str | None) -> LabelSelector:
    """labels.Parse: the `?labelSelector=` syntax. Raises BadRequest with Kubernetes' message."""
    if not text:
        return LabelSelector.everything()
    try:
        return LabelSelector(_LabelSelectorParser(text).parse())
    except ValueError as error:
        raise BadRequest(str(error)) from None


# ---------------------------------------------------------------------------
# Field selectors
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    """One term of a field selector; `==` is stored as `=` as Kubernetes does."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: dict[str, str]) -> bool:
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == Operator.EQUALS else not equal

    def __str__(self) -> str:
        return f"{self.field}{self.operator.value}{escape_field_value(self.value)}"


class FieldSelector:
    """An AND of `field=value` / `field!=value` terms."""

    def __init__(self, requirements: Iterable[FieldRequirement] = ()):
        self.requirements: tuple[FieldRequirement, ...] = tuple(requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: dict[str, str]) -> bool:
        return all(requirement.matches(fields) for requirement in self.requirements)

    def value_for(self, field_name: str) -> str | None:
        """The value an `=` term requires of this field (RequiresExactMatch), else None."""
        for requirement in self.requirements:
            if requirement.field == field_name and requirement.operator == Operator.EQUALS:
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self.requirements == other.requirements

    def __hash__(self) -> int:
        return hash(self.requirements)


def escape_field_value(value: str) -> str:
    """fields.EscapeValue: backslash-escapes `\\`, `,` and `=`."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    unescaped: list[str] = []
    in_escape = False
    for character in value:
        if in_escape:
            if character not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence: \\{character}")
            unescaped.append(character)
            in_escape = False
        elif character == "\\":
            in_escape = True
        elif character in ",=":
            # Go prints the offending rune with %v, i.e. as its number.
            raise ValueError(f"invalid field selector: unescaped character in value: {ord(character)}")
        else:
            unescaped.append(character)
    if in_escape:
        raise ValueError("invalid field selector: invalid escape sequence: \\")
    return "".join(unescaped)


def _split_field_terms(text: str) -> list[str]:
    """Splits on commas that are not backslash-escaped; the escapes stay in the terms."""
    terms: list[str] = []
    start = 0
    in_escape = False
    for index, character in enumerate(text):
        if in_escape:
            in_escape = False
        elif character == "\\":
            in_escape = True
        elif character == ",":
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _split_field_term(term: str) -> tuple[str, str, str] | None:
    """The first operator splits the term; field names have no escaping."""
    for index in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, index):
                return term[:index], operator, term[index + len(operator) :]
    return None


def parse_field_selector(text: str | None) -> FieldSelector:
    """fields.ParseSelector: the `?fieldSelector=` syntax. Raises BadRequest with Kubernetes' message."""
    if not text:
        return FieldSelector()
    requirements: list[FieldRequirement] = []
    # Kubernetes sorts the raw terms, which fixes the order of the canonical string.
    for term in sorted(_split_field_terms(text)):
        if not term:
            continue
        split = _split_field_term(term)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, raw_value = split
        try:
            value = _unescape_field_value(raw_value)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        requirements.append(
            FieldRequirement(field, Operator.NOT_EQUALS if operator == "!=" else Operator.EQUALS, value)
        )
    return FieldSelector(requirements)


# --- selectable fields per resource (each registry strategy's GetAttrs) -------

_OBJECT_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})

# The field labels each kind's field-label conversion function accepts (pkg/apis/core/v1/conversion.go).
_SUPPORTED_FIELD_LABELS: dict[str, frozenset[str]] = {
    "pods": _OBJECT_META_FIELDS
    | {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    },
    "events": _OBJECT_META_FIELDS
    | {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    # Cluster-scoped kinds with their own conversion do not accept metadata.namespace.
    "nodes": frozenset({"metadata.name", "spec.unschedulable"}),
    "namespaces": frozenset({"metadata.name", "status.phase"}),
    "secrets": _OBJECT_META_FIELDS | {"type"},
    "services": _OBJECT_META_FIELDS | {"spec.clusterIP", "spec.type"},
    "replicationcontrollers": _OBJECT_META_FIELDS | {"status.replicas"},
    "replicasets": _OBJECT_META_FIELDS | {"status.replicas"},
}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _go_bool(value: object) -> str:
    return "true" if value else "false"


def _pod_fields(pod: dict) -> dict[str, str]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0] or {}).get("ip") if pod_ips else status.get("podIP")
    return {
        "spec.nodeName": _text(spec.get("nodeName")),
        "spec.restartPolicy": _text(spec.get("restartPolicy")),
        "spec.schedulerName": _text(spec.get("schedulerName")),
        "spec.serviceAccountName": _text(spec.get("serviceAccountName")),
        "spec.hostNetwork": _go_bool(spec.get("hostNetwork")),
        "status.phase": _text(status.get("phase")),
        "status.podIP": _text(pod_ip),
        "status.nominatedNodeName": _text(status.get("nominatedNodeName")),
    }


def _event_fields(event: dict) -> dict[str, str]:
    involved = event.get("involvedObject") or {}
    # `source` falls back to the reporting controller for events written through events.k8s.io.
    source = (event.get("source") or {}).get("component") or event.get("reportingComponent")
    return {
        "involvedObject.kind": _text(involved.get("kind")),
        "involvedObject.namespace": _text(involved.get("namespace")),
        "involvedObject.name": _text(involved.get("name")),
        "involvedObject.uid": _text(involved.get("uid")),
        "involvedObject.apiVersion": _text(involved.get("apiVersion")),
        "involvedObject.resourceVersion": _text(involved.get("resourceVersion")),
        "involvedObject.fieldPath": _text(involved.get("fieldPath")),
        "reason": _text(event.get("reason")),
        "reportingComponent": _text(event.get("reportingComponent")),
        "source": _text(source),
        "type": _text(event.get("type")),
    }


def _replicas_fields(controller: dict) -> dict[str, str]:
    return {"status.replicas": str((controller.get("status") or {}).get("replicas") or 0)}


_RESOURCE_FIELDS = {
    "pods": _pod_fields,
    "events": _event_fields,
    "nodes": lambda node: {"spec.unschedulable": _go_bool((node.get("spec") or {}).get("unschedulable"))},
    "secrets": lambda secret: {"type": _text(secret.get("type"))},
    "namespaces": lambda namespace: {"status.phase": _text((namespace.get("status") or {}).get("phase"))},
    "services": lambda service: {
        "spec.clusterIP": _text((service.get("spec") or {}).get("clusterIP")),
        "spec.type": _text((service.get("spec") or {}).get("type")),
    },
    "replicasets": _replicas_fields,
    "replicationcontrollers": _replicas_fields,
}


def field_set(resource: str, obj: dict) -> dict[str, str]:
    """The selectable fields of an object of the given plural resource, missing values as ""."""
    metadata = obj.get("metadata") or {}
    fields = {
        "metadata.name": _text(metadata.get("name")),
        "metadata.namespace": _text(metadata.get("namespace")),
    }
    resource_fields = _RESOURCE_FIELDS.get(resource)
    if resource_fields is not None:
        fields.update(resource_fields(obj))
    return fields


def check_field_selector(resource: str, selector: FieldSelector) -> None:
    """Refuses field labels the resource cannot select on, with Kubernetes' BadRequest message."""
    supported = _SUPPORTED_FIELD_LABELS.get(resource)
    for requirement in selector.requirements:
        if supported is not None:
            if requirement.field not in supported:
                raise BadRequest(f"field label not supported: {requirement.field}")
        elif requirement.field not in _OBJECT_META_FIELDS:
            # runtime.DefaultMetaV1FieldSelectorConversion, for kinds without their own table.
            raise BadRequest(
                f'{_go_quote(requirement.field)} is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
