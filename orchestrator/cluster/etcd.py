"""A real etcd server as a child process, for `orc up` and for tests that need storage.

`orc up` runs one for the cluster's lifetime with etcd's safe defaults; integration tests start one
per test (or per module) with `fast=True`. The server listens on loopback only, writes its log to
`<data_dir>/etcd.log`, and is ready once its `/health` endpoint says so.

    with EtcdProcess(tmp_path / "etcd", fast=True) as etcd:
        ...  # aetcd.Client(host=etcd.host, port=etcd.client_port)
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from orchestrator.cluster.ports import free_port

LOOPBACK = "127.0.0.1"
DEFAULT_ETCD_BINARY = "/usr/bin/etcd"
STOP_GRACE_SECONDS = 10.0
LOG_TAIL_LINES = 30
# A port picked by free_port can be taken by someone else before etcd binds it; try again then.
PORT_RACE_ATTEMPTS = 3

# etcd 3.4 has no --unsafe-no-fsync, so `fast` puts the data on tmpfs (where fsync is free) and
# shortens raft's ticks so that the single member elects itself within milliseconds of starting.
FAST_FLAGS = ("--heartbeat-interval=10", "--election-timeout=100")
TMPFS = Path("/dev/shm")


def _find_etcd_binary() -> str:
    found = shutil.which("etcd")
    if found:
        return found
    if Path(DEFAULT_ETCD_BINARY).exists():
        return DEFAULT_ETCD_BINARY
    raise RuntimeError("etcd is not installed (apt-get install -y etcd-server)")


class EtcdProcess:
    """One single-member etcd server listening on loopback, run as a child process."""

    def __init__(
        self,
        data_dir: Path,
        *,
        client_port: int | None = None,
        peer_port: int | None = None,
        name: str = "default",
        fast: bool = False,
        etcd_binary: str | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.name = name
        self.fast = fast
        self.etcd_binary = etcd_binary
        self._requested_client_port = client_port
        self._requested_peer_port = peer_port
        self.client_port: int | None = client_port
        self.peer_port: int | None = peer_port
        self._process: subprocess.Popen[bytes] | None = None
        self._tmpfs_data_dir: Path | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "etcd.log"

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def client_url(self) -> str:
        if self.client_port is None:
            raise RuntimeError("etcd has no client port before start()")
        return f"http://{LOOPBACK}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        if self.peer_port is None:
            raise RuntimeError("etcd has no peer port before start()")
        return f"http://{LOOPBACK}:{self.peer_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _storage_dir(self) -> Path:
        """Where etcd keeps its data: `data_dir`, or with `fast` a fresh tmpfs directory dropped on stop()."""
        if not self.fast:
            return self.data_dir
        if self._tmpfs_data_dir is None:
            parent = TMPFS if TMPFS.is_dir() and os.access(TMPFS, os.W_OK) else None
            self._tmpfs_data_dir = Path(tempfile.mkdtemp(prefix="orc-etcd-", dir=parent))
        return self._tmpfs_data_dir

    def _command(self) -> list[str]:
        command = [
            self.etcd_binary or _find_etcd_binary(),
            f"--name={self.name}",
            f"--data-dir={self._storage_dir()}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={self.name}={self.peer_url}",
            "--logger=zap",
            "--log-outputs=stderr",
        ]
        if self.fast:
            command += FAST_FLAGS
        return command

    def start(self, timeout: float = 20) -> None:
        """Start etcd and return once it is healthy; RuntimeError with the end of its log if it is not."""
        if self.is_running():
            raise RuntimeError(f"etcd is already running (pid {self.pid})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports_are_ours = self._requested_client_port is None or self._requested_peer_port is None
        attempts = PORT_RACE_ATTEMPTS if ports_are_ours else 1
        for attempt in range(1, attempts + 1):
            self.client_port = self._requested_client_port or free_port(LOOPBACK)
            self.peer_port = self._requested_peer_port or free_port(LOOPBACK)
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._spawn()
            try:
                self._wait_until_healthy(timeout=timeout)
                return
            except RuntimeError:
                self.stop()
                if attempt < attempts and "address already in use" in self._log_tail(since=log_offset):
                    continue
                raise

    def _spawn(self) -> None:
        with open(self.log_path, "ab") as log_file:
            # A session of its own: a Ctrl-C meant for `orc up` must not kill etcd before the
            # components that write to it have stopped; `orc up` stops etcd last.
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self._kill_at_exit)

    def _wait_until_healthy(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health_url = f"{self.client_url}/health"
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"etcd exited with code {self._process.returncode} while starting; "
                    f"end of {self.log_path}:\n{self._log_tail()}"
                )
            if _is_healthy(health_url):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"etcd was not healthy at {health_url} within {timeout:g}s; end of {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(0.05)

    def _log_tail(self, *, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as log_file:
                log_file.seek(since)
                lines = log_file.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def stop(self) -> None:
        """Stop etcd: SIGTERM, then SIGKILL if it has not exited after 10 s. Safe to call twice.

        With `fast`, the tmpfs data goes too: a fast etcd starts empty every time.
        """
        process = self._process
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self._process = None
            atexit.unregister(self._kill_at_exit)
        self._drop_tmpfs_data()

    def _drop_tmpfs_data(self) -> None:
        if self._tmpfs_data_dir is not None:
            shutil.rmtree(self._tmpfs_data_dir, ignore_errors=True)
            self._tmpfs_data_dir = None

    def _kill_at_exit(self) -> None:
        # Last resort when the owner forgot stop(): an orphaned etcd would hold its ports forever.
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._drop_tmpfs_data()

    def __enter__(self) -> EtcdProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _is_healthy(health_url: str) -> bool:
    try:
        with urllib.request.urlopen(health_url, timeout=1) as response:
            return json.loads(response.read()).get("health") == "true"
    except (OSError, ValueError):
        return False
