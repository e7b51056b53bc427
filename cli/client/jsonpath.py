"""kubectl's JSONPath templates (`-o jsonpath=...`, `custom-columns`, `--sort-by`, `wait --for=jsonpath`).

The dialect is client-go's util/jsonpath: text with `{...}` actions, paths such as
`{.items[*].metadata.name}`, `{.items[0].status.podIP}`, `{..image}`, `{.items[-1:]}`,
`{.spec.containers[?(@.name=="web")].image}`, `{['metadata']['name']}`, unions `[0,2]`,
`{range .items[*]}{.metadata.name}{"\\n"}{end}` and string literals `{"\\t"}`. Several results of
one action are joined by spaces; maps and lists print as compact JSON; missing keys print nothing
(kubectl's default `--allow-missing-template-keys=true`).

`JSONPath(template).render(data)` returns the text; `JSONPath(template).find(data)` the values of a
single-action template (custom columns and sorting use it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cli.client.errors import CliError

_MISSING = object()


# --- the syntax tree -----------------------------------------------------------------------------

@dataclass
class _Field:
    name: str  # "*" is every value of a map


@dataclass
class _Recursive:
    name: str  # `..name`; "*" is every value below


@dataclass
class _Index:
    # Each entry is an int, a (start, stop, step) slice, or a str (a bracketed key).
    entries: list[Any]


@dataclass
class _Wildcard:
    pass


@dataclass
class _Filter:
    left: list[Any]
    operator: str | None
    right: Any  # a literal, or a path (list of steps) when right_is_path
    right_is_path: bool = False


@dataclass
class _Path:
    steps: list[Any]
    from_root: bool = False


@dataclass
class _Text:
    text: str


@dataclass
class _Range:
    path: _Path
    body: list[Any] = field(default_factory=list)


# --- parsing -------------------------------------------------------------------------------------

_LITERAL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "'":
        return body.replace("\\'", "'")
    return re.sub(r"\\(.)", lambda match: _LITERAL_ESCAPES.get(match.group(1), match.group(0)), body)


def _split_actions(template: str) -> list[tuple[str, str]]:
    """("text", ...) and ("action", ...) pieces; quotes inside an action may contain braces."""
    pieces: list[tuple[str, str]] = []
    position = 0
    while position < len(template):
        start = template.find("{", position)
        if start < 0:
            pieces.append(("text", template[position:]))
            break
        if start > position:
            pieces.append(("text", template[position:start]))
        index = start + 1
        quote = None
        while index < len(template):
            character = template[index]
            if quote:
                if character == "\\":
                    index += 1
                elif character == quote:
                    quote = None
            elif character in "\"'":
                quote = character
            elif character == "}":
                break
            index += 1
        else:
            raise CliError(f'error parsing jsonpath {template}, unclosed action')
        pieces.append(("action", template[start + 1:index].strip()))
        position = index + 1
    return pieces


class _PathParser:
    def __init__(self, text: str, template: str):
        self.text = text
        self.template = template
        self.position = 0

    def fail(self, problem: str) -> CliError:
        return CliError(f"error parsing jsonpath {self.template}, {problem}")

    def peek(self, count: int = 1) -> str:
        return self.text[self.position:self.position + count]

    def parse(self) -> _Path:
        path = _Path(steps=[])
        if self.peek() in ("$", "@"):
            path.from_root = self.peek() == "$"
            self.position += 1
        path.steps = self.steps(stop="")
        if self.position < len(self.text):
            raise self.fail(f"unrecognized character in action: {self.text[self.position:]!r}")
        return path

    def steps(self, *, stop: str) -> list[Any]:
        steps: list[Any] = []
        while self.position < len(self.text) and self.peek() not in stop:
            if self.peek(2) == "..":
                self.position += 2
                steps.append(_Recursive(self.name() or "*"))
            elif self.peek() == ".":
                self.position += 1
                if self.peek() == "[" or self.position >= len(self.text):
                    continue
                steps.append(_Field(self.name()))
            elif self.peek() == "[":
                steps.append(self.bracket())
            elif self.peek().isspace():
                break
            else:
                steps.append(_Field(self.name()))
        return steps

    def name(self) -> str:
        start = self.position
        characters: list[str] = []
        while self.position < len(self.text):
            character = self.text[self.position]
            if character == "\\" and self.position + 1 < len(self.text):
                characters.append(self.text[self.position + 1])
                self.position += 2
                continue
            if character in ".[]()=!<>, \t\"'":
                break
            characters.append(character)
            self.position += 1
        if self.position == start and self.peek() not in ("", "."):
            raise self.fail(f"unrecognized character in action: {self.text[start:]!r}")
        return "".join(characters)

    def bracket(self) -> Any:
        end = self._closing_bracket()
        inner = self.text[self.position + 1:end].strip()
        self.position = end + 1
        if inner == "*":
            return _Wildcard()
        if inner.startswith("?(") and inner.endswith(")"):
            return self._filter(inner[2:-1].strip())
        entries: list[Any] = []
        for part in _split_outside_quotes(inner, ","):
            part = part.strip()
            if part[:1] in ("'", '"'):
                entries.append(_unquote(part))
            elif ":" in part:
                bounds = [bound.strip() for bound in part.split(":")]
                if len(bounds) > 3:
                    raise self.fail(f"invalid array index {part}")
                try:
                    numbers = [int(bound) if bound else None for bound in bounds]
                except ValueError:
                    raise self.fail(f"invalid array index {part}") from None
                entries.append(tuple(numbers + [None] * (3 - len(numbers))))
            else:
                try:
                    entries.append(int(part))
                except ValueError:
                    raise self.fail(f"invalid array index {part}") from None
        return _Index(entries)

    def _closing_bracket(self) -> int:
        depth = 0
        quote = None
        for index in range(self.position, len(self.text)):
            character = self.text[index]
            if quote:
                if character == quote:
                    quote = None
            elif character in "\"'":
                quote = character
            elif character == "[":
                depth += 1
            elif character == "]":
                depth -= 1
                if depth == 0:
                    return index
        raise self.fail("unterminated array")

    def _filter(self, condition: str) -> _Filter:
        match = re.match(r"^(.*?)\s*(==|!=|<=|>=|<|>|=~)\s*(.*)$", condition)
        left_text, operator, right_text = (match.groups() if match else (condition, None, None))
        left = _PathParser(left_text.strip(), self.template).parse().steps
        if operator is None:
            return _Filter(left, None, None)
        right_text = right_text.strip()
        if right_text[:1] in ("'", '"'):
            return _Filter(left, operator, _unquote(right_text))
        if right_text.startswith("@") or right_text.startswith("$"):
            return _Filter(left, operator, _PathParser(right_text, self.template).parse().steps, right_is_path=True)
        for convert in (int, float):
            try:
                return _Filter(left, operator, convert(right_text))
            except ValueError:
                pass
        if right_text in ("true", "false"):
            return _Filter(left, operator, right_text == "true")
        return _Filter(left, operator, right_text)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = None
    for character in text:
        if quote:
            if character == quote:
                quote = None
        elif character in "\"'":
            quote = character
        elif character == separator:
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    parts.append("".join(current))
    return parts


def _parse(template: str) -> list[Any]:
    root: list[Any] = []
    stack = [root]
    for kind, content in _split_actions(template):
        if kind == "text":
            stack[-1].append(_Text(content))
        elif content[:1] in ("'", '"') and content[-1:] == content[:1] and len(content) >= 2:
            stack[-1].append(_Text(_unquote(content)))
        elif content == "end":
            if len(stack) == 1:
                raise CliError(f"error parsing jsonpath {template}, not in range, nothing to end")
            stack.pop()
        elif content.startswith("range ") or content.startswith("range\t"):
            node = _Range(_PathParser(content[5:].strip(), template).parse())
            stack[-1].append(node)
            stack.append(node.body)
        elif content:
            stack[-1].append(_PathParser(content, template).parse())
    if len(stack) != 1:
        raise CliError(f"error parsing jsonpath {template}, unclosed range")
    return root


# --- evaluation ----------------------------------------------------------------------------------

def _step(values: list[Any], step: Any, root: Any) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if isinstance(step, _Field):
            if isinstance(value, dict):
                if step.name == "*":
                    found.extend(value[key] for key in sorted(value))
                elif step.name in value:
                    found.append(value[step.name])
        elif isinstance(step, _Wildcard):
            if isinstance(value, list):
                found.extend(value)
            elif isinstance(value, dict):
                found.extend(value[key] for key in sorted(value))
        elif isinstance(step, _Index):
            found.extend(_index(value, step.entries))
        elif isinstance(step, _Recursive):
            found.extend(_descend(value, step.name))
        elif isinstance(step, _Filter):
            if isinstance(value, list):
                found.extend(item for item in value if _matches(item, step, root))
            elif isinstance(value, dict) and _matches(value, step, root):
                found.append(value)
    return found


def _index(value: Any, entries: list[Any]) -> list[Any]:
    found: list[Any] = []
    for entry in entries:
        if isinstance(entry, str):
            if isinstance(value, dict) and entry in value:
                found.append(value[entry])
        elif not isinstance(value, list):
            continue
        elif isinstance(entry, tuple):
            start, stop, step = entry
            found.extend(value[slice(start, stop, step or 1)])
        elif -len(value) <= entry < len(value):
            found.append(value[entry])
    return found


def _descend(value: Any, name: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for key in sorted(value):
            if name in ("*", key):
                found.append(value[key])
            found.extend(_descend(value[key], name))
    elif isinstance(value, list):
        for item in value:
            if name == "*":
                found.append(item)
            found.extend(_descend(item, name))
    return found


def _evaluate(steps: list[Any], current: Any, root: Any) -> list[Any]:
    values = [current]
    for step in steps:
        values = _step(values, step, root)
    return values


def _matches(item: Any, condition: _Filter, root: Any) -> bool:
    left_values = _evaluate(condition.left, item, root)
    if condition.operator is None:
        return bool(left_values) and all(value not in (None, False, "", 0) for value in left_values)
    if condition.right_is_path:
        right_values = _evaluate(condition.right, item, root)
        if not right_values:
            return False
        right = right_values[0]
    else:
        right = condition.right
    for left in left_values:
        try:
            if condition.operator == "==" and _loosely_equal(left, right):
                return True
            if condition.operator == "!=" and not _loosely_equal(left, right):
                return True
            if condition.operator == "<" and left < right:
                return True
            if condition.operator == ">" and left > right:
                return True
            if condition.operator == "<=" and left <= right:
                return True
            if condition.operator == ">=" and left >= right:
                return True
            if condition.operator == "=~" and isinstance(left, str) and re.search(str(right), left):
                return True
        except TypeError:
            continue
    return False


def _loosely_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right or str(left).lower() == str(right).lower()
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    return str(left) == str(right) if isinstance(right, str) or isinstance(left, str) else left == right


def format_value(value: Any) -> str:
    """One result as kubectl prints it: strings raw, maps and lists as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return format_go_float(value)
    if isinstance(value, (dict, list)):
        from cli.client.printers import go_json

        return go_json(value)
    return str(value)


def format_go_float(value: float) -> str:
    """Go's %v of a float64: `3` for integral values, `1.5`, exponent form for very large/small ones."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


class JSONPath:
    """A parsed template."""

    def __init__(self, template: str):
        self.template = template
        self.nodes = _parse(template)

    def render(self, data: Any) -> str:
        output: list[str] = []
        self._render(self.nodes, data, data, output)
        return "".join(output)

    def _render(self, nodes: list[Any], current: Any, root: Any, output: list[str]) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                output.append(node.text)
            elif isinstance(node, _Range):
                for item in _evaluate(node.path.steps, root if node.path.from_root else current, root):
                    self._render(node.body, item, root, output)
            else:
                values = _evaluate(node.steps, root if node.from_root else current, root)
                output.append(" ".join(format_value(value) for value in values))

    def find(self, data: Any) -> list[Any]:
        """The values of every action of the template, in order (for custom columns and sorting)."""
        values: list[Any] = []
        for node in self.nodes:
            if isinstance(node, _Path):
                values.extend(_evaluate(node.steps, data, data))
        return values


def relaxed(expression: str) -> str:
    """kubectl's RelaxedJSONPathExpression: `.metadata.name`, `metadata.name` or `{...}` -> `{.metadata.name}`."""
    expression = expression.strip()
    if expression.startswith("{") and expression.endswith("}"):
        return expression
    if not expression.startswith(".") and not expression.startswith("["):
        expression = "." + expression
    return "{" + expression + "}"
