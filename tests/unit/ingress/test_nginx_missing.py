"""Without an nginx binary the controller refuses to start with a clear message (orchestrator/ingress/main.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from orchestrator.ingress import main as ingress_main


def test_missing_nginx_exits_non_zero_with_a_clear_error(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(ingress_main.shutil, "which", lambda name: None)
    monkeypatch.setattr(ingress_main.os.path, "exists", lambda path: False)

    with pytest.raises(SystemExit) as exited:
        asyncio.run(ingress_main.main(kubeconfig=None, server="http://127.0.0.1:1", data_dir=str(tmp_path)))

    assert exited.value.code == 1
    assert "nginx is not installed" in caplog.text


def test_files_are_written_atomically_with_their_mode(tmp_path: Path):
    path = tmp_path / "tls" / "a.key"
    ingress_main.write_atomically(path, "KEY", 0o600)
    assert path.read_text() == "KEY" and (path.stat().st_mode & 0o777) == 0o600
    assert list(path.parent.iterdir()) == [path]
