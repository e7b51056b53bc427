"""`orc images load`: pod images from this machine into the docker-compose cluster's worker nodes.

Each worker of docker-compose.yaml runs its own Docker engine and no registry is
reachable, so an image built on the host must be copied into every worker before a
pod can use it, as `kind load docker-image` does. The images the project builds itself
(pause, busybox, echo:v1, echo:v2) are already in every worker: each builds them at start.

Registered on the `orc` app by cli/main.py; the work is done by orchestrator/cluster/compose.py.
"""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    images_app = typer.Typer(help="Images of the docker-compose cluster's nodes.", no_args_is_help=True)

    @images_app.command("load", help="Copy images from this machine's Docker engine into every worker node's "
                                     "engine (docker save | docker load).")
    def load(
        images: Annotated[list[str], typer.Argument(help="Image names, e.g. myapp:v1.")],
        compose_project: Annotated[str | None, typer.Option(
            help="The Compose project of the cluster (default: the only one running).")] = None,
    ) -> None:
        from orchestrator.cluster.compose import load_images

        try:
            workers = load_images(images, project=compose_project)
        except (ValueError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"loaded {', '.join(images)} into {', '.join(workers)}")

    app.add_typer(images_app, name="images")
