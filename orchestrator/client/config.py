"""The client side of kubeconfig: write one, and resolve where and how to reach the apiserver.

`orc up` calls `write_kubeconfig`; the `orc` CLI, every component (scheduler, controller-manager,
kubelet, proxy) and the tests call `load_client_config` with their `--kubeconfig`/`--server`/
`--context`/`--token` flags and hand the resulting `ClientConfig` to the HTTP client.

Resolution follows kubectl (client-go's clientcmd), for the subset of kubeconfig this project uses:
the file is `--kubeconfig`, else the first existing file of `$KUBECONFIG`, else `~/.kube/config`;
the context is `--context`, else `current-context`; `--server`/`--token` override the file. As in
client-go, credentials (token, client certificate) are only used over https: kubectl sends none to an
`http://` server, so neither do we.

Loading imports nothing heavy (no pathlib, dataclasses, urllib or PyYAML when the parsed file is cached):
the `orc` CLI pays for every import on each command.
"""

from __future__ import annotations

import base64
import os
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    import ssl
    from pathlib import Path
    from typing import Any

DEFAULT_NAMESPACE = "default"


def write_file_atomically(path: str | Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` in one step, the file having `mode` from its first byte.

    Readers (a restarted apiserver, kubectl) never see a half-written key or kubeconfig, and a
    secret is never readable by others, not even briefly. Used for keys, token files and kubeconfigs.
    """
    from pathlib import Path  # lazily, as tempfile: the CLI's start-up time matters

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # lazily: the CLI's start-up time matters

    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as temporary_file:
            temporary_file.write(data)
            temporary_file.flush()
            os.fsync(temporary_file.fileno())
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_pem: bytes | None,
    token: str | None,
    cluster_name: str = "orc",
    user_name: str = "admin",
    namespace: str | None = None,
) -> None:
    """Write a standard kubeconfig (one cluster, user and context, the context named after the cluster), mode 0600."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    user: dict[str, Any] = {}
    if token is not None:
        user["token"] = token
    context: dict[str, Any] = {"cluster": cluster_name, "user": user_name}
    if namespace is not None:
        context["namespace"] = namespace
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": cluster_name, "context": context}],
        "current-context": cluster_name,
        "preferences": {},
    }
    import yaml

    write_file_atomically(path, yaml.safe_dump(kubeconfig, sort_keys=False).encode("utf-8"), mode=0o600)


class ClientConfig:
    """Where the apiserver is and how to authenticate to it: what the HTTP clients need.

    A plain class, not a dataclass: importing dataclasses and building one costs the `orc` CLI's
    start-up several milliseconds. Its repr leaves the credentials out.
    """

    __slots__ = ("server", "token", "ca_pem", "insecure", "namespace", "client_cert_pem", "client_key_pem")

    def __init__(self, server: str, token: str | None = None, ca_pem: bytes | None = None, insecure: bool = False,
                 namespace: str = DEFAULT_NAMESPACE, client_cert_pem: bytes | None = None,
                 client_key_pem: bytes | None = None):
        self.server = server
        self.token = token
        self.ca_pem = ca_pem
        self.insecure = insecure
        self.namespace = namespace
        self.client_cert_pem = client_cert_pem
        self.client_key_pem = client_key_pem

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientConfig):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return (f"ClientConfig(server={self.server!r}, namespace={self.namespace!r}, insecure={self.insecure}, "
                f"token={'<set>' if self.token else None}, ca_pem={'<set>' if self.ca_pem else None}, "
                f"client_cert_pem={'<set>' if self.client_cert_pem else None})")

    @property
    def is_https(self) -> bool:
        scheme, separator, _ = self.server.partition("://")
        return bool(separator) and scheme.lower() == "https"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings for an https server (None for http): trust the CA (or the system's), present the client cert."""
        if not self.is_https:
            return None
        import ssl

        if self.ca_pem is not None:
            context = ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))
        else:
            context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert_pem is not None and self.client_key_pem is not None:
            _load_client_certificate(context, cert_pem=self.client_cert_pem, key_pem=self.client_key_pem)
        return context


def _load_client_certificate(context: ssl.SSLContext, *, cert_pem: bytes, key_pem: bytes) -> None:
    # ssl only loads certificate chains from files, so the PEMs pass through a private temporary
    # file that is gone as soon as they are loaded.
    import tempfile  # lazily: the CLI's start-up time matters

    with tempfile.TemporaryDirectory(prefix="orc-client-cert-") as directory:
        cert_path = os.path.join(directory, "client.crt")
        key_path = os.path.join(directory, "client.key")
        write_file_atomically(cert_path, cert_pem)
        write_file_atomically(key_path, key_pem)
        context.load_cert_chain(certfile=cert_path, keyfile=key_path)


def _kubeconfig_path(explicit: str | None) -> str | None:
    """The kubeconfig file to read: --kubeconfig (must exist), else $KUBECONFIG's first existing file, else ~/.kube/config."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ValueError(f"kubeconfig file {path!r} does not exist")
        return path
    environment_value = os.environ.get("KUBECONFIG", "")
    for entry in environment_value.split(os.pathsep):
        if entry and os.path.isfile(os.path.expanduser(entry)):
            return os.path.expanduser(entry)
    default_path = os.path.join(os.path.expanduser("~"), ".kube", "config")
    if os.path.isfile(default_path):
        return default_path
    return None


# A file changed this recently may change again within the same timestamp tick, unseen by its stamp.
RACY_SECONDS = 2.0


def _read_kubeconfig(path: str, *, cache_dir: str | None) -> Any:
    """The kubeconfig's parsed document; with `cache_dir`, from a JSON copy kept while the file is unchanged.

    Importing PyYAML and parsing costs the CLI ~25 ms a command, a sixth of a whole `orc get pods`; json
    reads the same document in a fraction of a millisecond. The copy is keyed by the file's path, inode,
    size and mtime, and not made while the file is younger than RACY_SECONDS (a same-size rewrite in the
    same tick would keep all four: git's "racy clean" problem). It holds the file's credentials, so it is
    private (0600, in a 0700 directory) as the kubeconfig is.
    """
    if cache_dir is None:
        return _parse_yaml(path)
    import json
    import time

    status = os.stat(path)
    stamp = [os.path.abspath(path), status.st_ino, status.st_size, status.st_mtime_ns]
    cache_path = os.path.join(cache_dir, re.sub(r"[^A-Za-z0-9.]+", "_", stamp[0]).strip("_") + ".json")
    try:
        with open(cache_path, "rb") as cache_file:
            cached = json.loads(cache_file.read())
        if cached.get("stamp") == stamp:
            return cached["document"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    document = _parse_yaml(path)
    if time.time() - status.st_mtime_ns / 1e9 < RACY_SECONDS:
        return document
    try:
        payload = json.dumps({"stamp": stamp, "document": document}).encode("utf-8")
        os.makedirs(cache_dir, mode=0o700, exist_ok=True)
        write_file_atomically(cache_path, payload, mode=0o600)
    except (TypeError, ValueError, OSError):
        pass  # a document JSON cannot hold (YAML dates, binary) or a read-only cache: parse it every time
    return document


def _parse_yaml(path: str) -> Any:
    import yaml

    with open(path, encoding="utf-8") as kubeconfig_file:
        return yaml.safe_load(kubeconfig_file.read()) or {}


def _named(entries: Any, name: str, *, kind: str, path: str) -> dict[str, Any]:
    """The body of the entry called `name` in a kubeconfig list (clusters, users, contexts)."""
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(kind) or {}
    raise ValueError(f"{kind} {name!r} not found in kubeconfig {path!r}")


def _read_data_or_file(section: dict[str, Any], *, data_key: str, file_key: str, base: str) -> bytes | None:
    """A PEM given inline (`*-data`, base64) or as a file path relative to the kubeconfig's directory."""
    if section.get(data_key):
        return base64.b64decode(section[data_key])
    if section.get(file_key):
        return _read_referenced_file(os.path.join(base, section[file_key]), key=file_key).encode("utf-8")
    return None


def _read_referenced_file(path: str, *, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as referenced_file:
            return referenced_file.read()
    except OSError as error:
        raise ValueError(f"kubeconfig {key} {path!r} cannot be read: {error.strerror}") from error


def _with_scheme(server: str, *, tls_configured: bool) -> str:
    # client-go reads a bare host:port as https when TLS is configured, http otherwise.
    if "://" not in server:
        server = ("https://" if tls_configured else "http://") + server
    return server.rstrip("/")


def load_client_config(
    *,
    kubeconfig: str | None = None,
    server: str | None = None,
    context: str | None = None,
    token: str | None = None,
    cache_dir: str | None = None,
) -> ClientConfig:
    """Resolve the client settings like kubectl does from its flags, $KUBECONFIG and ~/.kube/config.

    A missing --kubeconfig file, a missing context, or no server at all is a ValueError saying so.
    `cache_dir` lets a short-lived process (the `orc` CLI) keep the parsed file between runs.
    """
    path = _kubeconfig_path(kubeconfig)
    if path is None:
        if server is None:
            raise ValueError("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and no --server given")
        if context is not None:
            raise ValueError(f"context {context!r} requested but no kubeconfig file was found")
        return _finish(ClientConfig(server=_with_scheme(server, tls_configured=False)), token=token)

    document = _read_kubeconfig(path, cache_dir=cache_dir)
    if not isinstance(document, dict):
        raise ValueError(f"kubeconfig {path!r} is not a mapping")
    context_name = context or document.get("current-context")
    if not context_name:
        if server is None:
            raise ValueError(f"kubeconfig {path!r} has no current-context; pass --context or --server")
        return _finish(ClientConfig(server=_with_scheme(server, tls_configured=False)), token=token)

    context_body = _named(document.get("contexts"), context_name, kind="context", path=path)
    cluster_body: dict[str, Any] = {}
    if context_body.get("cluster"):
        cluster_body = _named(document.get("clusters"), context_body["cluster"], kind="cluster", path=path)
    user_body: dict[str, Any] = {}
    if context_body.get("user"):
        user_body = _named(document.get("users"), context_body["user"], kind="user", path=path)

    base = os.path.dirname(path)
    ca_pem = _read_data_or_file(
        cluster_body, data_key="certificate-authority-data", file_key="certificate-authority", base=base
    )
    insecure = bool(cluster_body.get("insecure-skip-tls-verify", False))
    if insecure and ca_pem is not None:
        raise ValueError(
            f"kubeconfig {path!r}, cluster {context_body.get('cluster')!r}: "
            "certificate-authority and insecure-skip-tls-verify cannot both be set"
        )
    chosen_server = server or cluster_body.get("server")
    if not chosen_server:
        raise ValueError(f"kubeconfig {path!r}, context {context_name!r}: the cluster has no server")

    if "exec" in user_body or "auth-provider" in user_body:
        raise ValueError(
            f"kubeconfig {path!r}, user {context_body.get('user')!r}: exec and auth-provider credentials "
            "are not supported; use a token or a client certificate"
        )
    file_token = user_body.get("token")
    if not file_token and user_body.get("tokenFile"):
        file_token = _read_referenced_file(os.path.join(base, user_body["tokenFile"]), key="tokenFile").strip()

    config = ClientConfig(
        server=_with_scheme(chosen_server, tls_configured=ca_pem is not None or insecure),
        token=file_token or None,
        ca_pem=ca_pem,
        insecure=insecure,
        namespace=context_body.get("namespace") or DEFAULT_NAMESPACE,
        client_cert_pem=_read_data_or_file(
            user_body, data_key="client-certificate-data", file_key="client-certificate", base=base
        ),
        client_key_pem=_read_data_or_file(user_body, data_key="client-key-data", file_key="client-key", base=base),
    )
    return _finish(config, token=token)


def _finish(config: ClientConfig, *, token: str | None) -> ClientConfig:
    """Apply the --token override, then drop every credential if the server is plain http (as client-go does)."""
    if token is not None:
        config.token = token
    if not config.is_https:
        config.token = None
        config.client_cert_pem = None
        config.client_key_pem = None
    return config
