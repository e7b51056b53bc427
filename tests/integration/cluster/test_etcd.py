"""Integration tests for orchestrator.cluster.etcd: a real etcd child process, used through aetcd."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import aetcd
import pytest

from orchestrator.cluster.etcd import EtcdProcess

pytestmark = pytest.mark.skipif(
    shutil.which("etcd") is None and not Path("/usr/bin/etcd").exists(), reason="etcd is not installed"
)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purpose once its state is Z or it is reaped.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


async def put_then_get(etcd: EtcdProcess, key: bytes, value: bytes) -> bytes | None:
    async with aetcd.Client(host=etcd.host, port=etcd.client_port) as client:
        await client.put(key, value)
        result = await client.get(key)
        return result.value if result is not None else None


@pytest.mark.parametrize("fast", [pytest.param(True, id="fast"), pytest.param(False, id="safe-defaults")])
async def test_put_get_then_stop(tmp_path: Path, fast: bool) -> None:
    etcd = EtcdProcess(tmp_path / "etcd", fast=fast)
    etcd.start()
    pid = etcd.pid
    assert pid is not None
    try:
        assert etcd.client_url == f"http://127.0.0.1:{etcd.client_port}"
        assert await put_then_get(etcd, b"/registry/greeting", b"hello") == b"hello"
    finally:
        etcd.stop()
    assert not process_exists(pid)
    assert not etcd.is_running()
    assert (tmp_path / "etcd" / "etcd.log").stat().st_size > 0
    # Only the safe mode keeps data in data_dir; the fast one used tmpfs and dropped it.
    assert (tmp_path / "etcd" / "member").is_dir() is (not fast)


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    with EtcdProcess(tmp_path / "etcd") as etcd:
        await put_then_get(etcd, b"/k", b"kept")
    with EtcdProcess(tmp_path / "etcd") as etcd:
        async with aetcd.Client(host=etcd.host, port=etcd.client_port) as client:
            assert (await client.get(b"/k")).value == b"kept"


def test_context_manager_stops_the_process(tmp_path: Path) -> None:
    with EtcdProcess(tmp_path / "etcd", fast=True) as etcd:
        pid = etcd.pid
        assert etcd.is_running()
    assert pid is not None and not process_exists(pid)
    etcd.stop()  # a second stop is harmless


def test_start_failure_reports_the_log(tmp_path: Path) -> None:
    # A port someone else holds, given explicitly: etcd cannot bind and must say so.
    with socket.create_server(("127.0.0.1", 0)) as occupier:
        taken_port = occupier.getsockname()[1]
        etcd = EtcdProcess(tmp_path / "etcd", client_port=taken_port, fast=True)
        with pytest.raises(RuntimeError, match="address already in use"):
            etcd.start(timeout=20)
    assert not etcd.is_running()
