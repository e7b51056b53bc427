"""Kubernetes' remote-command stream protocol (`pods/exec` over WebSocket), as pure functions.

kubectl (≥ 1.30) opens `GET pods/NAME/exec?command=..&stdin=..&tty=..` as a WebSocket with the
subprotocol `v5.channel.k8s.io`. Every binary message starts with a channel byte: 0 stdin, 1 stdout,
2 stderr, 3 error (the final `Status` JSON), 4 resize (`{"Width": w, "Height": h}`); v5 adds 255
followed by a channel number, "that channel is closed" (kubectl closes stdin with `[255, 0]`). When
the command ends the server writes a `Status` on channel 3 and closes the WebSocket: `Success`, or
`Failure` with reason `NonZeroExitCode` and the exit code as the `ExitCode` cause, which kubectl
turns into `command terminated with exit code N` and its own exit code.

Shared by the apiserver (parameters, subprotocol), the kubelet (which speaks the protocol) and
`orc exec` (the client side). No I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.api import errors

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255  # v5: `[CLOSE, channel]` closes one channel (half-close of stdin)

PROTOCOL_V5 = "v5.channel.k8s.io"
PROTOCOL_V4 = "v4.channel.k8s.io"
# In the order this side prefers them; v4 has no CLOSE signal, so its stdin never reaches end of file.
SUPPORTED_PROTOCOLS = (PROTOCOL_V5, PROTOCOL_V4)

NON_ZERO_EXIT_CODE_REASON = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"


def offered_protocols(header_values: Iterable[str]) -> list[str]:
    """The subprotocols of `Sec-WebSocket-Protocol` headers (each may hold a comma-separated list)."""
    return [name.strip() for value in header_values for name in value.split(",") if name.strip()]


def negotiate_protocol(offered: Sequence[str]) -> str | None:
    """The first subprotocol the client offers that this server speaks (the client's order wins, as
    Kubernetes' wsstream handshake does), or None."""
    return next((name for name in offered if name in SUPPORTED_PROTOCOLS), None)


def unsupported_protocols_message(offered: Sequence[str]) -> str:
    return f"requested protocol(s) are not supported: {list(offered)}; supports {list(SUPPORTED_PROTOCOLS)}"


def encode_frame(channel: int, data: bytes = b"") -> bytes:
    return bytes((channel,)) + data


def decode_frame(message: bytes) -> tuple[int, bytes]:
    """(channel, payload); an empty message is refused (every frame names its channel)."""
    if not message:
        raise ValueError("empty remote-command frame")
    return message[0], message[1:]


def close_frame(channel: int) -> bytes:
    return bytes((CLOSE, channel))


def resize_frame(*, width: int, height: int) -> bytes:
    return encode_frame(RESIZE, json.dumps({"Width": width, "Height": height}).encode())


def parse_resize(payload: bytes) -> tuple[int, int]:
    """(width, height) of a resize frame's payload; raises ValueError on anything else."""
    size = json.loads(payload)
    if not isinstance(size, dict):
        raise ValueError(f"a terminal size is a JSON object, not {payload!r}")
    width, height = size.get("Width"), size.get("Height")
    if not isinstance(width, int) or not isinstance(height, int) or width < 0 or height < 0:
        raise ValueError(f"invalid terminal size {payload!r}")
    return width, height


def exit_status(exit_code: int, *, command: Sequence[str]) -> dict:
    """The channel-3 `Status` for a finished command (the kubelet's, field for field)."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command [{' '.join(command)}], "
                   f"exit code {exit_code}",
        "reason": NON_ZERO_EXIT_CODE_REASON,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(exit_code)}]},
    }


def error_status(message: str) -> dict:
    """The channel-3 `Status` when the command could not be run at all (an InternalError, as the kubelet's)."""
    cause = f"error executing command in container: {message}"
    error = errors.InternalError(f"Internal error occurred: {cause}", details={"causes": [{"message": cause}]})
    return error.to_status()


def encode_status(status: Mapping) -> bytes:
    return encode_frame(ERROR, json.dumps(status, separators=(",", ":")).encode())


@dataclass(frozen=True)
class Outcome:
    """What a client makes of the final `Status`: the exit code and the message to print (None: silent)."""

    exit_code: int
    message: str | None


def outcome_of(payload: bytes) -> Outcome:
    """Decode the channel-3 payload as kubectl's errorDecoderV4 does."""
    if not payload:
        return Outcome(0, None)
    try:
        status = json.loads(payload)
    except ValueError:
        return Outcome(1, f"error stream protocol error: {payload.decode(errors='replace')}")
    if status.get("status") == "Success":
        return Outcome(0, None)
    if status.get("reason") == NON_ZERO_EXIT_CODE_REASON:
        causes = (status.get("details") or {}).get("causes") or []
        code = next((c.get("message") for c in causes if c.get("reason") == EXIT_CODE_CAUSE), None)
        if code is None or not str(code).isdigit() or int(code) > 255:
            return Outcome(1, f"error stream protocol error: invalid exit code value {code!r}")
        return Outcome(int(code), f"command terminated with exit code {int(code)}")
    return Outcome(1, status.get("message") or "error stream protocol error: unknown error")


@dataclass(frozen=True)
class ExecOptions:
    """The `PodExecOptions` of one request (`?command=..&container=..&stdin=..&stdout=..&stderr=..&tty=..`)."""

    command: tuple[str, ...]
    container: str | None
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    def query(self) -> list[tuple[str, str]]:
        """The query string again (with the container settled), for the next hop."""
        flags = [(name, "true" if getattr(self, name) else "false") for name in ("stdin", "stdout", "stderr", "tty")]
        container = [("container", self.container)] if self.container else []
        return [*container, *(("command", part) for part in self.command), *flags]


def _flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes")


def parse_exec_options(params: Mapping[str, str], commands: Sequence[str]) -> ExecOptions:
    """Validate exec's query as the kubelet does; raises `errors.BadRequest`.

    `params` gives single values, `commands` every `command` parameter. As Kubernetes: stdout and
    stderr default to true, a TTY merges stderr into stdout, and at least one stream is needed."""
    if not commands:
        raise errors.BadRequest("you must specify at least one command for the container")
    tty = _flag(params, "tty", False)
    options = ExecOptions(command=tuple(commands), container=params.get("container") or None,
                          stdin=_flag(params, "stdin", False), stdout=_flag(params, "stdout", True),
                          stderr=_flag(params, "stderr", True) and not tty, tty=tty)
    if not (options.stdin or options.stdout or options.stderr):
        raise errors.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    return options
