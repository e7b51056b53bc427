"""`orc`: runs every component of the cluster and is a kubectl-like client.

Component commands (`orc apiserver`, `orc scheduler`, `orc controller-manager`,
`orc kubelet`, `orc proxy`, `orc sim-nodes`, `orc up`, `orc down`) live here; the
client verbs (`get`, `apply`, ...) are added from `cli/client/`. Imports are lazy so
that `orc get pods` starts fast.

Entry point of the `orc` console script (pyproject.toml).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="orc",
    help="A small container orchestrator that speaks the Kubernetes API.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """A small container orchestrator that speaks the Kubernetes API."""


@app.command(help="Print the shell completion script: `source <(orc completion bash)` (bash, zsh, fish).")
def completion(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")]) -> None:
    from typer._completion_shared import get_completion_script

    if shell not in ("bash", "zsh", "fish"):
        typer.echo(f'error: Unsupported shell type "{shell}".', err=True)
        raise typer.Exit(1)
    typer.echo(get_completion_script(prog_name="orc", complete_var="_ORC_COMPLETE", shell=shell))


def setup_logging(component: str, verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=f"%(asctime)s {component} %(levelname).1s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command(help="Run the API server (stores objects in etcd, serves the Kubernetes API).")
def apiserver(
    etcd_servers: Annotated[str, typer.Option(help="Comma-separated etcd client URLs.")] = "http://127.0.0.1:2379",
    etcd_prefix: Annotated[str, typer.Option(help="Key prefix of this cluster in etcd.")] = "/registry",
    bind: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 6443,
    token_auth_file: Annotated[Path | None, typer.Option(help="Static token CSV: token,user,uid,\"group1,group2\".")] = None,
    tls_cert_file: Annotated[Path | None, typer.Option(help="Serving certificate (PEM).")] = None,
    tls_private_key_file: Annotated[Path | None, typer.Option(help="Serving key (PEM).")] = None,
    advertise_address: Annotated[str | None, typer.Option(help="host:port clients should use.")] = None,
    kubelet_token: Annotated[str | None, typer.Option(envvar="ORC_KUBELET_TOKEN", help="Token presented to kubelets.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port (each with its own watch cache).")] = 1,
    authorization_mode: Annotated[str, typer.Option(help="RBAC, or AlwaysAllow (no authorization).")] = "RBAC",
    service_account_key_file: Annotated[Path | None, typer.Option(
        help="Private key (PEM) signing ServiceAccount tokens; its public key verifies them.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    setup_logging("apiserver", verbose)
    from orchestrator.apiserver.app import Settings, serve

    settings = Settings(
        etcd_servers=[s.strip() for s in etcd_servers.split(",") if s.strip()],
        etcd_prefix=etcd_prefix,
        bind=bind,
        port=port,
        token_auth_file=token_auth_file,
        tls_cert_file=tls_cert_file,
        tls_private_key_file=tls_private_key_file,
        advertise_address=advertise_address,
        kubelet_token=kubelet_token,
        workers=workers,
        authorization_mode=authorization_mode,
        service_account_key_file=service_account_key_file,
    )
    try:
        settings.check()
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    serve(settings)


def _register_optional_commands() -> None:
    """Component and client commands contributed by other packages, when present."""
    import importlib

    for module_name in ("cli.components", "cli.client", "cli.cluster_commands"):
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            if error.name and error.name.startswith(module_name):
                continue
            raise
        module.register(app)


def main() -> None:
    _register_optional_commands()
    app()


if __name__ == "__main__":
    main()
