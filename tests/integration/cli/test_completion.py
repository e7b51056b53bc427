"""`source <(orc completion bash)` completes verbs and flags in bash, as kubectl's completion does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_verbs():
    orc = Path(sys.executable).parent / "orc"
    if not orc.exists():
        pytest.skip("the orc console script is not installed in this environment")
    script = (f'source <("{orc}" completion bash); COMP_WORDS=(orc ge); COMP_CWORD=1; '
              f'PATH="{orc.parent}:$PATH" _orc_completion orc; echo "${{COMPREPLY[@]}}"')
    completed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert completed.stdout.split() == ["get"], completed.stderr


def test_unknown_shell_is_an_error():
    completed = subprocess.run([sys.executable, "-m", "cli.main", "completion", "tcsh"], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 1
    assert 'Unsupported shell type "tcsh"' in completed.stderr
