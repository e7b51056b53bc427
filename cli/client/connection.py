"""The apiserver connection one `orc` command uses, made from kubectl's global flags on first use.

A `Connection` holds `--kubeconfig`, `--context`, `--server`, `--token` and `-n`; it loads the
kubeconfig (orchestrator.client.config, which keeps the parsed file in the cache directory: importing
PyYAML costs more than a request), opens the HTTP client and reads discovery only when a verb first
asks, so that each command pays only for what it uses. Free of typer (and of dataclasses), so that
the start-up fast path (cli/client/fastpath.py) can use it too.
"""

from __future__ import annotations

from cli.client.errors import CliError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from cli.client.api import ApiClient
    from cli.client.resources import Discovery
    from orchestrator.client.config import ClientConfig


class Connection:
    """The global flags of one command, and the apiserver connection they lead to (made on first use)."""

    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None, server: str | None = None,
                 token: str | None = None, namespace_flag: str | None = None):
        self.kubeconfig = kubeconfig
        self.context = context
        self.server = server
        self.token = token
        self.namespace_flag = namespace_flag
        self._config: ClientConfig | None = None
        self._client: ApiClient | None = None
        self._discovery: Discovery | None = None

    @property
    def config(self) -> ClientConfig:
        if self._config is None:
            from cli.client.cache import cache_dir
            from orchestrator.client.config import load_client_config

            try:
                self._config = load_client_config(kubeconfig=self.kubeconfig, server=self.server,
                                                  context=self.context, token=self.token,
                                                  cache_dir=cache_dir("kubeconfig"))
            except ValueError as error:
                raise CliError(str(error)) from None
            except OSError as error:
                raise CliError(f"cannot read the kubeconfig: {error}") from None
        return self._config

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            from cli.client.api import ApiClient

            self._client = ApiClient(self.config)
        return self._client

    @property
    def discovery(self) -> Discovery:
        if self._discovery is None:
            from cli.client.resources import Discovery

            self._discovery = Discovery(self.client)
        return self._discovery

    @property
    def namespace(self) -> str:
        """-n, else the context's namespace, else `default`."""
        return self.namespace_flag or self.config.namespace

    @property
    def namespace_is_explicit(self) -> bool:
        return self.namespace_flag is not None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
