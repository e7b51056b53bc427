"""The controller's side effects with a fake nginx: missing binary, atomic writes, reload only on change (main.py)."""

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


class FakeNginx:
    """Stands in for the nginx child: counts starts and reloads, accepts or refuses configs."""

    def __init__(self, prefix: Path, refuse: bool = False):
        self.conf = prefix / "nginx.conf"
        self.starts = self.reloads = 0
        self.refuse = refuse
        self.process = self

    def test(self):
        return "bad config" if self.refuse else None

    def running(self):
        return self.starts > 0

    def start(self):
        self.starts += 1

    def wait(self, timeout):
        raise ingress_main.subprocess.TimeoutExpired("nginx", timeout)

    def reload(self):
        self.reloads += 1


def test_nginx_is_reloaded_only_when_the_text_changes_and_a_refused_config_is_rolled_back(tmp_path):
    from orchestrator.ingress.render import Rendered

    nginx = FakeNginx(tmp_path)
    controller = ingress_main.IngressController(client=None, data_dir=tmp_path, nginx=nginx)
    controller.apply(Rendered(text="one", files={"tls/a.key": "KEY"}))
    controller.apply(Rendered(text="one", files={"tls/a.key": "KEY"}))
    controller.apply(Rendered(text="two", files={}))
    assert (nginx.starts, nginx.reloads) == (1, 1)
    assert ((tmp_path / "tls" / "a.key").stat().st_mode & 0o777) == 0o600

    nginx.refuse = True
    with pytest.raises(RuntimeError, match="bad config"):
        controller.apply(Rendered(text="three", files={}))
    assert nginx.conf.read_text() == "two" and nginx.reloads == 1
