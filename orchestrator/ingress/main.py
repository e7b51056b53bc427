"""`orc ingress-controller`: serves networking.k8s.io/v1 Ingresses with a real nginx child process.

Informers on Ingresses, IngressClasses, Services, EndpointSlices and Secrets only mark the state
dirty; one sync renders the whole nginx.conf from the caches (render.py, pure), writes it and the
TLS files atomically (keys 0600) under `--data-dir`, checks it with `nginx -t`, and reloads nginx
(`nginx -s reload`: graceful, old workers finish their connections) only when the text changed.
nginx runs with its own prefix under the data dir, never the system service. The sync also sets
status.loadBalancer of the Ingresses it serves (the node IP, or 127.0.0.1) through the status
subresource. A burst of events costs two syncs, not one per event.

Started by `orc ingress-controller` (cli/components.py) and by `orc up` (cluster/up.py). Without an
nginx binary it logs why and exits non-zero; the rest of the cluster is unaffected.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import shutil
import subprocess
from pathlib import Path

from orchestrator.client.config import load_client_config
from orchestrator.client.informer import Informer
from orchestrator.client.resources import ENDPOINTSLICES, SECRETS, SERVICES, Resource
from orchestrator.client.rest import ApiClient
from orchestrator.ingress.render import Objects, Rendered, Settings, render, served_ingresses

log = logging.getLogger(__name__)

INGRESSES = Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True)
INGRESS_CLASSES = Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False)
SYNC_PERIOD = 30.0
RETRY_DELAY = 1.0


class NginxNotFound(RuntimeError):
    pass


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


class Nginx:
    """One nginx master with prefix `prefix` (its pid file, logs and temp dirs live there)."""

    def __init__(self, prefix: Path, binary: str | None = None):
        self.prefix = prefix
        self.binary = binary or shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not self.binary:
            raise NginxNotFound("nginx is not installed (apt-get install nginx-light, or run scripts/setup)")
        self.process: subprocess.Popen | None = None
        self.conf = prefix / "nginx.conf"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, "-p", str(self.prefix), "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=30)

    def test(self) -> str | None:
        result = self._run("-t")
        return None if result.returncode == 0 else result.stderr.strip()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        for name in ("logs", "temp"):
            (self.prefix / name).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([self.binary, "-p", str(self.prefix), "-c", str(self.conf),
                                         "-g", "daemon off; master_process on;"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.prefix / "logs" / "nginx.stderr", "ab"))

    def reload(self) -> None:
        if self.process is not None:
            import signal

            self.process.send_signal(signal.SIGHUP)  # what `nginx -s reload` sends: a graceful reload

    def stop(self) -> None:
        if self.running():
            import signal

            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class IngressController:
    def __init__(self, client, *, data_dir: Path, http_port: int = 80, https_port: int = 443,
                 address: str = "127.0.0.1", nginx: Nginx | None = None):
        self.client = client
        self.prefix = data_dir.resolve()
        self.settings = Settings(prefix=str(self.prefix), http_port=http_port, https_port=https_port)
        self.address = address
        self.nginx = nginx or Nginx(self.prefix)
        self.informers = {name: Informer(client, resource) for name, resource in (
            ("ingresses", INGRESSES), ("ingress_classes", INGRESS_CLASSES), ("services", SERVICES),
            ("endpoint_slices", ENDPOINTSLICES), ("secrets", SECRETS))}
        self._changed = asyncio.Event()
        self.applied_text: str | None = None
        for informer in self.informers.values():
            informer.add_handler(on_add=self._mark, on_update=lambda old, new: self._mark(), on_delete=self._mark)

    def _mark(self, _obj: dict | None = None) -> None:
        self._changed.set()  # the whole config is rendered at once: the "key" is the config

    def objects(self) -> Objects:
        return Objects(**{name: informer.list() for name, informer in self.informers.items()})

    async def run(self) -> None:
        tasks = [asyncio.create_task(i.run(), name=f"informer-{i.resource.plural}") for i in self.informers.values()]
        try:
            for informer in self.informers.values():
                await informer.wait_synced()
            log.info("ingress controller: caches synced, nginx on ports %d/%d",
                     self.settings.http_port, self.settings.https_port)
            self._changed.set()
            while True:
                try:
                    await asyncio.wait_for(self._changed.wait(), SYNC_PERIOD)
                except TimeoutError:
                    pass
                self._changed.clear()
                try:
                    await self.sync()
                except Exception as error:  # one bad object or a failed write must not end the controller
                    log.error("sync failed, retrying in %.0fs: %s", RETRY_DELAY, error)
                    await asyncio.sleep(RETRY_DELAY)
                    self._changed.set()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(self.nginx.stop)

    async def sync(self) -> None:
        objects = self.objects()
        rendered = render(objects, self.settings)
        await asyncio.to_thread(self.apply, rendered)
        await self.update_statuses(served_ingresses(objects, self.settings.controller))

    def apply(self, rendered: Rendered) -> None:
        """Write files and config, then start or gracefully reload nginx if the text changed."""
        for relative, content in rendered.files.items():
            path = self.prefix / relative
            if not path.exists() or path.read_text() != content:
                write_atomically(path, content, 0o600)
        if rendered.text == self.applied_text and self.nginx.running():
            return
        previous = self.nginx.conf.read_text() if self.nginx.conf.exists() else None
        write_atomically(self.nginx.conf, rendered.text)
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "temp").mkdir(parents=True, exist_ok=True)
        problem = self.nginx.test()
        if problem:
            if previous is not None:
                write_atomically(self.nginx.conf, previous)  # keep serving the last good config
            raise RuntimeError(f"nginx refused the rendered config: {problem}")
        if self.nginx.running():
            self.nginx.reload()
            log.info("nginx reloaded")
        else:
            self.nginx.start()
            try:
                self.nginx.process.wait(timeout=0.5)  # a port in use ends nginx at once: say so, retry later
            except subprocess.TimeoutExpired:
                log.info("nginx started (prefix %s)", self.prefix)
            else:
                stderr = (self.prefix / "logs" / "nginx.stderr").read_text(errors="replace").strip().splitlines()
                raise RuntimeError(f"nginx exited at start: {stderr[-1] if stderr else 'see ' + str(self.prefix)}")
        self.applied_text = rendered.text

    async def update_statuses(self, ingresses: list[dict]) -> None:
        wanted = {"ingress": [{"ip": self.address}]}
        for ingress in ingresses:
            if (ingress.get("status") or {}).get("loadBalancer") == wanted:
                continue
            body = copy.deepcopy(ingress)
            body.setdefault("status", {})["loadBalancer"] = wanted
            try:
                await self.client.update(INGRESSES, body, subresource="status")
            except Exception as error:  # a conflict: the next event brings the fresh object
                log.info("status of ingress %s/%s not written: %s", ingress["metadata"].get("namespace"),
                         ingress["metadata"]["name"], error)


async def main(*, kubeconfig: str | None, server: str | None, data_dir: str, http_port: int = 80,
               https_port: int = 443, address: str = "127.0.0.1") -> None:
    """The `orc ingress-controller` command."""
    try:
        nginx = Nginx(Path(data_dir).resolve())
    except NginxNotFound as error:
        log.error("%s", error)
        raise SystemExit(1) from error
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    async with ApiClient(config) as client:
        controller = IngressController(client, data_dir=Path(data_dir), http_port=http_port, https_port=https_port,
                                       address=address, nginx=nginx)
        await controller.run()
