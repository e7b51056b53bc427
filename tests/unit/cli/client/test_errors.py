"""kubectl's error messages (cli/client/errors.py)."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError, ConnectionFailed, ErrorList, ServerError, render_error


def invalid(causes: list[dict], **details) -> ServerError:
    return ServerError({"kind": "Status", "reason": "Invalid", "code": 422, "message": "whatever the server said",
                        "details": {"kind": "Deployment", "name": "web", **details, "causes": causes}}, http_code=422)


@pytest.mark.parametrize("error, expected", [
    pytest.param(ServerError({"reason": "NotFound", "message": 'pods "x" not found'}, http_code=404),
                 'Error from server (NotFound): pods "x" not found', id="not-found"),
    pytest.param(ServerError({"reason": "Unauthorized", "message": "Unauthorized"}, http_code=401),
                 "error: You must be logged in to the server (Unauthorized)", id="unauthorized"),
    pytest.param(ServerError({"message": "boom"}, http_code=500), "Error from server: boom", id="no-reason"),
    pytest.param(invalid([{"field": "spec.selector", "message": "Invalid value: x: field is immutable"}]),
                 'The Deployment "web" is invalid: spec.selector: Invalid value: x: field is immutable',
                 id="invalid-one-cause"),
    pytest.param(invalid([{"field": "a", "message": "Required value"}, {"field": "b", "message": "Required value"}]),
                 'The Deployment "web" is invalid: \n* a: Required value\n* b: Required value', id="invalid-causes"),
    pytest.param(CliError("no objects passed to apply"), "error: no objects passed to apply", id="cli"),
    pytest.param(ConnectionFailed("127.0.0.1:6443", refused=True),
                 "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
                 id="refused"),
])
def test_messages(error, expected):
    assert render_error(error) == expected


def test_errors_of_several_documents_read_one_per_line():
    source_error = invalid([{"field": "spec", "message": "bad"}]).with_source("creating", "app.yaml")
    listed = ErrorList([CliError("first"), source_error])
    assert str(listed) == ('error: first\nError from server (Invalid): error when creating "app.yaml": '
                           "whatever the server said")
