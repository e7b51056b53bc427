"""Fixtures for the `orc` client's acceptance tests: run `orc` and real kubectl side by side.

`orc(...)` runs `python -m cli.main ARGS` against the module's apiserver (through `$KUBECONFIG`, as a
user would), with its own discovery cache; `both(...)` runs the same arguments through orc and
kubectl and returns both results; `namespace` is a fresh namespace per test.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import mask_ages

REPOSITORY = Path(__file__).resolve().parents[3]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_command(argv: list[str], *, env: dict[str, str], input: str | None = None, timeout: float = 60) -> Run:
    result = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=env,
                            cwd=REPOSITORY)
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def cli_env(apiserver, tmp_path_factory) -> dict[str, str]:
    import os

    cache = tmp_path_factory.mktemp("orc-cache")
    return {**os.environ, "KUBECONFIG": str(apiserver.kubeconfig), "ORC_CACHE_DIR": str(cache),
            "HOME": os.environ.get("HOME", str(cache))}


@pytest.fixture
def orc(cli_env) -> Callable[..., Run]:
    """Run `orc ARGS...`; `check=True` fails the test on a non-zero exit."""

    def run(*args: str, input: str | None = None, check: bool = False, env: dict | None = None,
            timeout: float = 60) -> Run:
        result = run_command([sys.executable, "-m", "cli.main", *args], env={**cli_env, **(env or {})}, input=input,
                             timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"orc {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
        return result

    return run


@pytest.fixture
def kubectl_env(cli_env, kubectl) -> Callable[..., Run]:
    """Run real kubectl with the same $KUBECONFIG as orc (so relative paths and stdin behave alike)."""

    def run(*args: str, input: str | None = None, check: bool = False, env: dict | None = None,
            timeout: float = 60) -> Run:
        result = run_command(["kubectl", *args], env={**cli_env, **(env or {})}, input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    return run


@pytest.fixture
def both(orc, kubectl_env) -> Callable[..., tuple[Run, Run]]:
    """Run the same arguments through orc and kubectl: (orc result, kubectl result)."""

    def run(*args: str, input: str | None = None) -> tuple[Run, Run]:
        return orc(*args, input=input), kubectl_env(*args, input=input)

    return run


@pytest.fixture
def same_output(both) -> Callable[..., Run]:
    """Assert orc prints what kubectl prints (stdout, stderr, exit code), AGE cells aside.

    Ages can tick between the two runs and change column widths, so a mismatch is retried a few times
    before it fails.
    """

    def check(*args: str, input: str | None = None, stdout_only: bool = False) -> Run:
        for attempt in range(4):
            ours, theirs = both(*args, input=input)
            same = (ours.stdout == theirs.stdout and ours.returncode == theirs.returncode
                    and (stdout_only or ours.stderr == theirs.stderr))
            if same:
                return ours
            if attempt < 3:
                # Ages tick and controllers write between the two runs; compare again a moment later.
                time.sleep(1)
                continue
            break
        if (mask_ages(ours.stdout) == mask_ages(theirs.stdout) and ours.returncode == theirs.returncode
                and (stdout_only or mask_ages(ours.stderr) == mask_ages(theirs.stderr))):
            # Every retry straddled an AGE tick: the outputs agree on everything else.
            return ours
        assert ours.returncode == theirs.returncode, (args, ours, theirs)
        assert ours.stdout == theirs.stdout, f"orc {' '.join(args)} (-kubectl +orc):\n" + "".join(
            difflib.unified_diff(theirs.stdout.splitlines(True), ours.stdout.splitlines(True)))
        if not stdout_only:
            assert ours.stderr == theirs.stderr, f"orc:\n{ours.stderr}\nkubectl:\n{theirs.stderr}"
        return ours

    return check


@pytest.fixture
def namespace(kubectl) -> str:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name
