"""Tests for orchestrator.apiserver.auth: kube-apiserver token-file parsing and bearer authentication."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.apiserver.auth import (
    AUTHENTICATED_GROUP,
    UserInfo,
    authenticate,
    bearer_token,
    load_token_file,
    parse_tokens,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            'abc,admin,admin,"system:masters"\n',
            {"abc": UserInfo(name="admin", uid="admin", groups=("system:masters",))},
            id="quoted-single-group",
        ),
        pytest.param(
            'abc,alice,1,"dev,ops"\n',
            {"abc": UserInfo(name="alice", uid="1", groups=("dev", "ops"))},
            id="quoted-group-list",
        ),
        pytest.param(
            "abc,alice,1,dev\n",
            {"abc": UserInfo(name="alice", uid="1", groups=("dev",))},
            id="unquoted-group",
        ),
        pytest.param(
            "abc,alice,1",
            {"abc": UserInfo(name="alice", uid="1")},
            id="no-groups-no-final-newline",
        ),
        pytest.param(
            "abc,alice,1,dev,extra-ignored\n",
            {"abc": UserInfo(name="alice", uid="1", groups=("dev",))},
            id="extra-columns-ignored",
        ),
        pytest.param(
            "# tokens of the cluster\n\nabc,alice,1\n\n# more\ndef,bob,2\n",
            {"abc": UserInfo(name="alice", uid="1"), "def": UserInfo(name="bob", uid="2")},
            id="comments-and-blank-lines",
        ),
        pytest.param(
            "abc,alice,1\r\ndef,bob,2\r\n",
            {"abc": UserInfo(name="alice", uid="1"), "def": UserInfo(name="bob", uid="2")},
            id="crlf",
        ),
        pytest.param(
            'abc,"a ""quoted"" name",1\n',
            {"abc": UserInfo(name='a "quoted" name', uid="1")},
            id="doubled-quote-in-quoted-field",
        ),
        pytest.param(
            'abc,alice,1,"dev,\nops"\ndef,bob,2\n',
            {"abc": UserInfo(name="alice", uid="1", groups=("dev", "\nops")), "def": UserInfo(name="bob", uid="2")},
            id="quoted-field-spans-lines",
        ),
        pytest.param(",alice,1\nabc,bob,2\n", {"abc": UserInfo(name="bob", uid="2")}, id="empty-token-skipped"),
        pytest.param(
            "abc,alice,1\nabc,bob,2\n", {"abc": UserInfo(name="bob", uid="2")}, id="duplicate-token-last-wins"
        ),
        pytest.param("abc,alice,1,\n", {"abc": UserInfo(name="alice", uid="1", groups=("",))}, id="empty-groups"),
        pytest.param("", {}, id="empty-file"),
    ],
)
def test_parse_tokens(text: str, expected: dict[str, UserInfo]) -> None:
    assert parse_tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "abc,alice\n",
            "line 1: must have at least 3 columns (token, user name, user uid), found 2",
            id="two-columns",
        ),
        pytest.param("abc,alice,1\n\nonlytoken\n", "line 3: must have at least 3 columns", id="one-column-third-line"),
        pytest.param('abc,al"ice,1\n', 'line 1: bare " in non-quoted-field', id="bare-quote"),
        pytest.param('abc,"alice"x,1\n', 'line 1: extraneous or missing " in quoted-field', id="text-after-quote"),
        pytest.param(
            'ok,a,1\nabc,"alice,1\n', 'line 2: extraneous or missing " in quoted-field', id="unterminated-quote"
        ),
    ],
)
def test_parse_tokens_rejects_malformed_lines(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="line") as raised:
        parse_tokens(text, source="tokens.csv")
    assert message in str(raised.value)
    assert "'tokens.csv'" in str(raised.value)


def test_load_token_file_names_the_file(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.csv"
    token_file.write_text('abc,admin,admin,"system:masters"\nbroken\n')
    with pytest.raises(ValueError, match=rf"{token_file}.*line 2"):
        load_token_file(token_file)


def test_load_token_file_reads_users(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.csv"
    token_file.write_text('abc,admin,admin,"system:masters"\n')
    assert load_token_file(token_file) == {"abc": UserInfo(name="admin", uid="admin", groups=("system:masters",))}


TOKENS = {
    "secret": UserInfo(name="admin", uid="admin", groups=("system:masters",)),
    "already": UserInfo(name="bob", uid="bob", groups=(AUTHENTICATED_GROUP,)),
}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            "Bearer secret",
            UserInfo(name="admin", uid="admin", groups=("system:masters", AUTHENTICATED_GROUP)),
            id="bearer",
        ),
        pytest.param(
            "  bEaReR secret  ",
            UserInfo(name="admin", uid="admin", groups=("system:masters", AUTHENTICATED_GROUP)),
            id="scheme-case-and-outer-spaces",
        ),
        pytest.param(
            "Bearer already", UserInfo(name="bob", uid="bob", groups=(AUTHENTICATED_GROUP,)), id="group-not-doubled"
        ),
        pytest.param(None, None, id="no-header"),
        pytest.param("", None, id="empty-header"),
        pytest.param("Bearer", None, id="no-token"),
        pytest.param("Bearer  secret", None, id="two-spaces-empty-token"),
        pytest.param("Bearer wrong", None, id="unknown-token"),
        pytest.param("Basic c2VjcmV0", None, id="basic-scheme"),
    ],
)
def test_authenticate(header: str | None, expected: UserInfo | None) -> None:
    assert authenticate(header, TOKENS) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("Bearer abc", "abc", id="token"),
        pytest.param("Bearer abc trailing", "abc", id="extra-words-ignored"),
        pytest.param("Token abc", None, id="other-scheme"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected
