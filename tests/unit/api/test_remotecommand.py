"""Unit tests of orchestrator/api/remotecommand.py: frames, subprotocols, exec options and the final Status."""

from __future__ import annotations

import json

import pytest

from orchestrator.api import errors, remotecommand
from orchestrator.api.remotecommand import ExecOptions, Outcome


@pytest.mark.parametrize(("channel", "data", "wire"), [
    pytest.param(remotecommand.STDIN, b"hello\n", b"\x00hello\n", id="stdin"),
    pytest.param(remotecommand.STDOUT, b"", b"\x01", id="empty-stdout-announces-the-stream"),
    pytest.param(remotecommand.STDERR, b"\xff\x00", b"\x02\xff\x00", id="binary-payload"),
])
def test_frames_round_trip(channel: int, data: bytes, wire: bytes) -> None:
    assert remotecommand.encode_frame(channel, data) == wire
    assert remotecommand.decode_frame(wire) == (channel, data)


def test_an_empty_message_is_not_a_frame() -> None:
    with pytest.raises(ValueError):
        remotecommand.decode_frame(b"")


def test_v5_closes_stdin_with_channel_255() -> None:
    assert remotecommand.close_frame(remotecommand.STDIN) == b"\xff\x00"


def test_resize_frames_carry_kubectls_json() -> None:
    frame = remotecommand.resize_frame(width=120, height=40)
    channel, payload = remotecommand.decode_frame(frame)
    assert channel == remotecommand.RESIZE
    assert json.loads(payload) == {"Width": 120, "Height": 40}
    assert remotecommand.parse_resize(payload) == (120, 40)


@pytest.mark.parametrize("payload", [
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"[80, 24]", id="not-an-object"),
    pytest.param(b'{"Width": -1, "Height": 24}', id="negative"),
    pytest.param(b'{"Width": "80"}', id="wrong-types"),
])
def test_bad_resize_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        remotecommand.parse_resize(payload)


@pytest.mark.parametrize(("header_values", "chosen"), [
    pytest.param(["v5.channel.k8s.io"], "v5.channel.k8s.io", id="kubectl-1.32"),
    pytest.param(["v4.channel.k8s.io, v5.channel.k8s.io"], "v4.channel.k8s.io", id="the-clients-order-wins"),
    pytest.param(["base64.channel.k8s.io", "v4.channel.k8s.io"], "v4.channel.k8s.io", id="several-headers"),
    pytest.param(["channel.k8s.io"], None, id="v1-is-not-spoken"),
    pytest.param([], None, id="none-offered"),
])
def test_negotiate_protocol(header_values: list[str], chosen: str | None) -> None:
    assert remotecommand.negotiate_protocol(remotecommand.offered_protocols(header_values)) == chosen


def test_success_status_is_the_kubelets() -> None:
    status = remotecommand.exit_status(0, command=["echo", "hi"])
    assert status == {"metadata": {}, "status": "Success"}
    assert remotecommand.encode_status(status) == b'\x03{"metadata":{},"status":"Success"}'


def test_non_zero_exit_status_names_the_code_as_a_cause() -> None:
    status = remotecommand.exit_status(3, command=["sh", "-c", "exit 3"])
    assert status == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


def test_error_status_is_an_internal_error() -> None:
    status = remotecommand.error_status("no such container")
    assert (status["status"], status["reason"], status["code"]) == ("Failure", "InternalError", 500)
    assert status["message"] == "Internal error occurred: error executing command in container: no such container"


@pytest.mark.parametrize(("payload", "outcome"), [
    pytest.param(json.dumps(remotecommand.exit_status(0, command=["true"])).encode(), Outcome(0, None), id="success"),
    pytest.param(json.dumps(remotecommand.exit_status(3, command=["false"])).encode(),
                 Outcome(3, "command terminated with exit code 3"), id="exit-code"),
    pytest.param(json.dumps(remotecommand.error_status("boom")).encode(),
                 Outcome(1, "Internal error occurred: error executing command in container: boom"), id="error"),
    pytest.param(b"", Outcome(0, None), id="no-status"),
    pytest.param(b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}',
                 Outcome(1, "error stream protocol error: invalid exit code value None"), id="no-exit-code-cause"),
    pytest.param(b"oops", Outcome(1, "error stream protocol error: oops"), id="not-json"),
])
def test_outcome_of_the_final_status(payload: bytes, outcome: Outcome) -> None:
    assert remotecommand.outcome_of(payload) == outcome


def test_exec_options_default_like_kubernetes() -> None:
    options = remotecommand.parse_exec_options({}, ["ls", "-l"])
    assert options == ExecOptions(command=("ls", "-l"), container=None, stdin=False, stdout=True, stderr=True,
                                  tty=False)


def test_a_tty_merges_stderr_into_stdout() -> None:
    options = remotecommand.parse_exec_options({"stdin": "true", "tty": "true", "stderr": "true"}, ["sh"])
    assert (options.stdin, options.tty, options.stderr) == (True, True, False)


@pytest.mark.parametrize(("params", "commands", "message"), [
    pytest.param({}, [], "you must specify at least one command for the container", id="no-command"),
    pytest.param({"stdout": "false", "stderr": "false"}, ["true"],
                 "you must specify at least 1 of stdin, stdout, stderr", id="no-stream"),
])
def test_exec_options_refusals(params: dict, commands: list[str], message: str) -> None:
    with pytest.raises(errors.BadRequest) as refused:
        remotecommand.parse_exec_options(params, commands)
    assert refused.value.message == message


def test_exec_options_query_round_trips() -> None:
    options = ExecOptions(command=("sh", "-c", "echo a b"), container="main", stdin=True, stdout=True, stderr=False,
                          tty=True)
    query = options.query()
    params = dict(query)
    commands = [value for name, value in query if name == "command"]
    assert remotecommand.parse_exec_options(params, commands) == options
