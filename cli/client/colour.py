"""Colour for people at a terminal: bold table headers, status words in traffic-light colours, red errors.

Applied after alignment, so columns line up exactly as kubectl's (escape codes take no width), and
only when the stream is a terminal — piped output stays byte-identical to kubectl's. `NO_COLOR`
(https://no-color.org) or `TERM=dumb` turn it off; `ORC_COLOR=always|never` overrides the guess.

Used by cli/client/printers.py (`TablePrinter.flush`) and cli/client/errors.py (`handle_errors`).
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from typing import TextIO

BOLD, RED, GREEN, YELLOW, RESET = "\033[1m", "\033[31m", "\033[32m", "\033[33m", "\033[0m"

_GOOD = ("Running", "Ready", "Active", "Completed", "Succeeded", "Bound", "Available", "True")
_PENDING = ("Pending", "ContainerCreating", "PodInitializing", "Terminating", "Unknown", "SchedulingDisabled",
            "Progressing")
_BAD = ("Error", "Failed", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
        "CreateContainerConfigError", "CreateContainerError", "OOMKilled", "NotReady", "Evicted", "False")
# Patterns (compiled on first use: piped output, the common case, never needs them).
_STATUS_WORD = r"(?<![\w./-])(" + "|".join(_BAD + _PENDING + _GOOD) + r")(?![\w./-])"
_COLOUR_OF = {**{word: GREEN for word in _GOOD}, **{word: YELLOW for word in _PENDING},
              **{word: RED for word in _BAD}}
_HEADER_LINE = r"^[A-Z][A-Z0-9()/_. -]*$"


def enabled(stream: TextIO) -> bool:
    choice = os.environ.get("ORC_COLOR", "").lower()
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_table(text: str) -> str:
    """Aligned table text with its header lines bold and its status words coloured."""
    header_line, status_word = re.compile(_HEADER_LINE), re.compile(_STATUS_WORD)  # cached by re
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line and header_line.match(line):
            lines[index] = f"{BOLD}{line}{RESET}"
        elif line:
            lines[index] = status_word.sub(lambda match: f"{_COLOUR_OF[match[1]]}{match[1]}{RESET}", line)
    return "\n".join(lines)


def colour_error(text: str) -> str:
    return f"{RED}{text}{RESET}"
