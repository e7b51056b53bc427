"""Static bearer-token authentication, as kube-apiserver's `--token-auth-file`.

`orc up` writes the token file (orchestrator.cluster.pki.ensure_tokens); the apiserver loads it once
with `load_token_file` and its authentication middleware calls `bearer_token`/`authenticate` on every
request. Everything here is pure: no HTTP framework, no I/O besides reading the file.

The file format is kube-apiserver's: one CSV record `token,user,uid[,"group1,group2"]` per line,
parsed with the rules of Go's encoding/csv (quoted fields may hold commas, `""` is a quote, a quote
inside an unquoted field is an error, blank lines are skipped). One addition: lines starting with
`#` are comments; kube-apiserver has none, but no token we write starts with `#`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

# Added to every authenticated user, as kube-apiserver's AuthenticatedGroupAdder does.
AUTHENTICATED_GROUP = "system:authenticated"


@dataclass(frozen=True)
class UserInfo:
    """Who a request comes from (Kubernetes' user.Info)."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()


class _CsvError(ValueError):
    def __init__(self, line_number: int, reason: str):
        super().__init__(reason)
        self.line_number = line_number
        self.reason = reason


def _parse_csv(text: str) -> list[tuple[int, list[str]]]:
    """Records of `text` with the line each starts on, following Go's encoding/csv (non-lazy quotes)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's final newline ends the last record, it does not start a new one
    lines = [line.removesuffix("\r") for line in lines]
    records: list[tuple[int, list[str]]] = []
    index = 0
    while index < len(lines):
        first_line_number = index + 1
        line = lines[index]
        if line == "" or line.startswith("#"):
            index += 1
            continue
        fields: list[str] = []
        position = 0
        while True:
            if line.startswith('"', position):
                position += 1
                value_parts: list[str] = []
                while True:
                    quote = line.find('"', position)
                    if quote == -1:
                        # A quoted field runs on to the next line, keeping the newline.
                        value_parts.append(line[position:] + "\n")
                        index += 1
                        if index >= len(lines):
                            raise _CsvError(first_line_number, 'extraneous or missing " in quoted-field')
                        line, position = lines[index], 0
                        continue
                    value_parts.append(line[position:quote])
                    position = quote + 1
                    if line.startswith('"', position):
                        value_parts.append('"')
                        position += 1
                        continue
                    break
                fields.append("".join(value_parts))
                if position == len(line):
                    break
                if line[position] != ",":
                    raise _CsvError(index + 1, 'extraneous or missing " in quoted-field')
                position += 1
            else:
                comma = line.find(",", position)
                raw_field = line[position:] if comma == -1 else line[position:comma]
                if '"' in raw_field:
                    raise _CsvError(index + 1, 'bare " in non-quoted-field')
                fields.append(raw_field)
                if comma == -1:
                    break
                position = comma + 1
        records.append((first_line_number, fields))
        index += 1
    return records


def parse_tokens(text: str, *, source: str = "<string>") -> dict[str, UserInfo]:
    """Tokens of a token-file text, keyed by token; `source` names the file in error messages."""
    try:
        records = _parse_csv(text)
    except _CsvError as error:
        raise ValueError(f"token file {source!r} line {error.line_number}: {error.reason}") from None
    users_by_token: dict[str, UserInfo] = {}
    for line_number, record in records:
        if len(record) < 3:
            raise ValueError(
                f"token file {source!r} line {line_number}: must have at least 3 columns "
                f"(token, user name, user uid), found {len(record)}"
            )
        token, name, uid = record[0], record[1], record[2]
        if token == "":
            continue  # kube-apiserver skips (and warns about) records with an empty token
        # As kube-apiserver: a later record with the same token replaces an earlier one,
        # and the groups column is split on commas as it is (an empty column is one empty group).
        groups = tuple(record[3].split(",")) if len(record) >= 4 else ()
        users_by_token[token] = UserInfo(name=name, uid=uid, groups=groups)
    return users_by_token


def load_token_file(path: Path) -> dict[str, UserInfo]:
    """The users of a kube-apiserver static token file, keyed by token. Malformed → ValueError naming the line."""
    return parse_tokens(Path(path).read_text(encoding="utf-8"), source=str(path))


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when the header carries no bearer token.

    The middleware uses it to tell an anonymous request (None) from one with a wrong token (401).
    """
    if authorization_header is None:
        return None
    authorization = authorization_header.strip()
    parts = authorization.split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    return parts[1] or None


def authenticate(authorization_header: str | None, tokens: dict[str, UserInfo]) -> UserInfo | None:
    """The user a request's Authorization header identifies, or None (no bearer token, or an unknown one).

    The returned user is in the `system:authenticated` group, as every authenticated Kubernetes user is.
    """
    token = bearer_token(authorization_header)
    if token is None:
        return None
    user = tokens.get(token)
    if user is None:
        return None
    if AUTHENTICATED_GROUP in user.groups:
        return user
    return replace(user, groups=(*user.groups, AUTHENTICATED_GROUP))
