"""The errors of the `orc` client verbs and how they are shown: exactly as kubectl shows them.

Verbs raise `CliError` (a message kubectl would print as `error: ...`), `ServerError` (the
apiserver answered with a `kind: Status`), `ConnectionFailed` (no answer at all) or
`ErrorList` (several independent failures, e.g. one per document of `apply -f`). The one edge
that prints them is `handle_errors`, used by every verb through `cli.client.options.verb`;
the messages follow kubectl's cmdutil.CheckErr and StandardErrorMessage word for word:

    Error from server (NotFound): pods "x" not found
    The Deployment "web" is invalid: spec.selector: Invalid value: ...: field is immutable
    error: the server doesn't have a resource type "deploymnt"
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from typing import Any

DEFAULT_ERROR_EXIT_CODE = 1


class CliError(Exception):
    """A client-side failure, printed as `error: <message>` (unless it already says how it reads)."""

    def __init__(self, message: str, *, exit_code: int = DEFAULT_ERROR_EXIT_CODE, prefixed: bool = True):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        # Some of kubectl's messages (an aggregate of several errors) come without the `error: `.
        self.prefixed = prefixed

    def render(self) -> str:
        if not self.prefixed or self.message.startswith("error: "):
            return self.message
        return f"error: {self.message}"


class ServerError(Exception):
    """The apiserver answered with an error `Status` (or something that is not one)."""

    def __init__(self, status: dict[str, Any], *, http_code: int):
        self.status = status
        self.http_code = http_code
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        return self.status.get("reason") or ""

    @property
    def code(self) -> int:
        return int(self.status.get("code") or self.http_code)

    @property
    def message(self) -> str:
        return self.status.get("message") or f"the server responded with HTTP {self.http_code}"

    @property
    def details(self) -> dict[str, Any] | None:
        return self.status.get("details")

    @property
    def is_not_found(self) -> bool:
        return self.reason == "NotFound" or (not self.reason and self.code == 404)

    @property
    def is_conflict(self) -> bool:
        return self.reason == "Conflict" or (not self.reason and self.code == 409)

    def with_source(self, verb: str, source: str) -> ServerError:
        """The same error saying which file it came from (kubectl's cmdutil.AddSourceToErr)."""
        if not source:
            return self
        status = {**self.status, "message": f"error when {verb} {_go_quote(source)}: {self.message}"}
        return ServerError(status, http_code=self.http_code)

    def render(self, *, standalone: bool = True) -> str:
        """kubectl's text for the error; within a list of errors, Invalid reads like the others."""
        if self.reason == "Invalid" and standalone:
            return _render_invalid(self)
        if self.reason == "Unauthorized":
            return f"error: You must be logged in to the server ({self.message})"
        if self.reason:
            return f"Error from server ({self.reason}): {self.message}"
        return f"Error from server: {self.message}"


class ConnectionFailed(Exception):
    """The apiserver could not be reached."""

    def __init__(self, host: str, *, refused: bool, detail: str = ""):
        self.host = host
        self.refused = refused
        self.detail = detail
        super().__init__(self.render())

    def render(self) -> str:
        if self.refused:
            return f"The connection to the server {self.host} was refused - did you specify the right host or port?"
        return f"Unable to connect to the server: {self.detail}"


class ErrorList(Exception):
    """Several failures reported together, one line each (kubectl's utilerrors.Aggregate)."""

    def __init__(self, errors: list[Exception]):
        self.errors = errors
        super().__init__("\n".join(render_error(error, standalone=False) for error in errors))


def _go_quote(text: str) -> str:
    """Go's %q for the plain strings that appear in messages (file names, kinds)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _render_invalid(error: ServerError) -> str:
    """kubectl's CheckErr for an Invalid status: `The <Kind> "<name>" is invalid: <field>: <message>`."""
    details = error.details
    summary = "The request is invalid"
    if details is None:
        return f"{summary}: {error.message}" if error.status.get("message") else summary
    causes = details.get("causes") or []
    if details.get("kind") or details.get("name"):
        summary = f"The {details.get('kind', '')} {_go_quote(details.get('name', ''))} is invalid"
    elif error.status.get("message") and not causes:
        summary += f": {error.message}"
    if not causes:
        return summary
    cause_messages: list[str] = []
    for cause in causes:
        message = f"{cause.get('field', '')}: {cause.get('message', '')}"
        if message not in cause_messages:
            cause_messages.append(message)
    if len(cause_messages) == 1:
        return f"{summary}: {cause_messages[0]}"
    return f"{summary}: \n" + "\n".join(f"* {message}" for message in cause_messages)


def render_error(error: BaseException, *, standalone: bool = True) -> str:
    """The text kubectl would print for `error` (without the trailing newline)."""
    if isinstance(error, ServerError):
        return error.render(standalone=standalone)
    if isinstance(error, (CliError, ConnectionFailed)):
        return error.render()
    if isinstance(error, ErrorList):
        return str(error)
    return f"error: {error}"


def exit_code_of(error: BaseException) -> int:
    if isinstance(error, CliError):
        return error.exit_code
    return DEFAULT_ERROR_EXIT_CODE


@contextmanager
def handle_errors() -> Iterator[None]:
    """Print any verb failure the way kubectl does and exit with its code; Ctrl-C exits quietly with 130."""
    try:
        yield
    except (CliError, ServerError, ConnectionFailed, ErrorList) as error:
        sys.stdout.flush()
        from cli.client import colour

        message = render_error(error)
        sys.stderr.write((colour.colour_error(message) if colour.enabled(sys.stderr) else message) + "\n")
        raise SystemExit(exit_code_of(error)) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except BrokenPipeError:
        # `orc get pods | head`: the reader went away; nothing more to say.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
