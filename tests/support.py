"""Small helpers shared by test modules (import as `from tests.support import ...`)."""

from __future__ import annotations

import functools
import re
import subprocess

import pytest


@functools.cache
def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# `pytestmark = requires_docker` in a module whose tests need a running Docker engine.
requires_docker = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="needs a running Docker engine (`docker info` failed)"),
]


# AGE cells ("5s", "2m3s", "10d") move with the clock; outputs are compared with them masked.
AGE_PATTERN = re.compile(r"(?<![\w.:/-])(\d+[smhdy])(\d+[smh])?(?![\w.:/-])")


def mask_ages(text: str) -> str:
    """The text with AGE cells masked and runs of spaces collapsed (an age can change a column's width)."""
    return re.sub(r" {2,}", "  ", AGE_PATTERN.sub("<age>", text))
