"""`orc create`: make objects from files (`-f`) or from flags, like `kubectl create`.

`orc create -f FILE|DIR|-` POSTs each document (`--save-config` records the last-applied
configuration, as kubectl's does). The generators build exactly the objects kubectl 1.32 builds:

    orc create deployment NAME --image=IMAGE [--replicas=N] [--port=N] [-- COMMAND [ARGS...]]
    orc create namespace NAME
    orc create configmap NAME [--from-literal=K=V] [--from-file=[K=]PATH] [--from-env-file=PATH]
    orc create secret generic NAME [same sources] [--type=TYPE]

and print `deployment.apps/NAME created` (or the object with `-o`, without sending it with
`--dry-run=client`). Registered on the `orc` app by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import DryRunOption, FilenameOption, OutputOption, RecursiveOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection

CREATE_FIELD_MANAGER = "kubectl-create"

SaveConfigOption = Annotated[bool, typer.Option(
    "--save-config", help="Record the configuration in the last-applied-configuration annotation, so that "
                          "apply can be used later.")]
FromLiteralOption = Annotated[list[str] | None, typer.Option(
    "--from-literal", help="A key and literal value to insert (i.e. mykey=somevalue).")]
FromFileOption = Annotated[list[str] | None, typer.Option(
    "--from-file", help="A file or directory to read from; the key is the file's name unless given as key=path.")]
FromEnvFileOption = Annotated[list[str] | None, typer.Option(
    "--from-env-file", help="A file of KEY=VALUE lines to read from.")]


def register(app: typer.Typer) -> None:
    create_app = typer.Typer(help="Create a resource from a file or from stdin.", invoke_without_command=True,
                             no_args_is_help=False)
    create_app.callback()(create)
    create_app.command("deployment", help="Create a deployment with the specified name.")(create_deployment)
    create_app.command("deploy", hidden=True)(create_deployment)
    create_app.command("namespace", help="Create a namespace with the specified name.")(create_namespace)
    create_app.command("ns", hidden=True)(create_namespace)
    create_app.command("configmap", help="Create a config map from a local file, directory or literal value.")(
        create_configmap)
    create_app.command("cm", hidden=True)(create_configmap)
    secret_app = typer.Typer(help="Create a secret using a specified subcommand.", no_args_is_help=True)
    secret_app.command("generic", help="Create a secret from a local file, directory, or literal value.")(
        create_secret_generic)
    create_app.add_typer(secret_app, name="secret")
    app.add_typer(create_app, name="create")


@verb
def create(
    connection: Connection,
    context_object: typer.Context,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    save_config: SaveConfigOption = False,
) -> None:
    """Create a resource from a file or from stdin."""
    from cli.client.apply import create_object, finish, iter_targets, report, with_last_applied
    from cli.client.errors import ServerError
    from cli.client.manifests import require_filenames
    from cli.client.options import parse_dry_run
    from cli.client.printers import parse_output

    if context_object.invoked_subcommand:
        return
    filenames = require_filenames(filename, verb="create")
    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    errors: list[Exception] = []
    for target in iter_targets(connection, filenames, recursive=recursive):
        if isinstance(target, Exception):
            errors.append(target)
            continue
        document = target.manifest.document
        body = with_last_applied(document) if save_config else document
        try:
            created = create_object(connection.client, target, body, dry_run=dry_run_mode,
                                    field_manager=CREATE_FIELD_MANAGER)
        except ServerError as error:
            errors.append(error.with_source("creating", target.manifest.source))
            continue
        report(created, target.ref, "created", output=output_format, dry_run=dry_run_mode, resource=target.resource)
    finish(errors)


def _send_generated(connection: Connection, document: dict, *, dry_run: str, output: str | None,
                    save_config: bool) -> None:
    """Create (or with --dry-run=client only print) an object a generator built."""
    from cli.client.apply import Target, create_object, report, with_last_applied
    from cli.client.manifests import Manifest
    from cli.client.options import parse_dry_run
    from cli.client.printers import parse_output

    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    resource = connection.discovery.for_kind(document["apiVersion"], document["kind"])
    namespace = None
    if resource.namespaced:
        namespace = connection.namespace
        if connection.namespace_is_explicit:
            # kubectl names the namespace in the object only when -n was given.
            document["metadata"] = {"name": document["metadata"]["name"], "namespace": namespace,
                                    **{k: v for k, v in document["metadata"].items() if k != "name"}}
    target = Target(Manifest(source="", document=document), resource, namespace)
    body = with_last_applied(document) if save_config else document
    created = create_object(connection.client, target, body, dry_run=dry_run_mode, field_manager=CREATE_FIELD_MANAGER)
    report(created, target.ref, "created", output=output_format, dry_run=dry_run_mode, resource=resource)


def container_name_for(image: str) -> str:
    """kubectl's container name for an image: its last path part without tag or digest, `_`/`.` as `-`."""
    import random
    import string

    name = image.split("/")[-1].split(":")[0].split("@")[0]
    if "_" in name or "." in name:
        suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        name = f"{name.replace('_', '-').replace('.', '-')}-{suffix}"
    return name


def deployment_for(name: str, *, images: list[str], replicas: int, port: int, command: list[str]) -> dict:
    """The Deployment `kubectl create deployment` builds, field for field."""
    labels = {"app": name}
    containers = []
    for index, image in enumerate(images):
        container: dict = {"name": container_name_for(image), "image": image}
        if command:
            container["command"] = list(command)
        if index == 0 and port >= 0:
            container["ports"] = [{"containerPort": port}]
        container["resources"] = {}
        containers.append(container)
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "creationTimestamp": None, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                         "spec": {"containers": containers}},
            "strategy": {},
        },
        "status": {},
    }


@verb
def create_deployment(
    connection: Connection,
    name: Annotated[str, typer.Argument(help="The deployment's name.")],
    command: Annotated[list[str] | None, typer.Argument(help="-- COMMAND [ARGS...] to run in the container.",
                                                        show_default=False)] = None,
    image: Annotated[list[str] | None, typer.Option("--image", help="Image names to run (repeatable).")] = None,
    replicas: Annotated[int, typer.Option("--replicas", "-r", help="Number of replicas to create.")] = 1,
    port: Annotated[int, typer.Option("--port", help="The containerPort this deployment exposes.")] = -1,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    save_config: SaveConfigOption = False,
) -> None:
    """Create a deployment with the specified name."""
    from cli.client.errors import CliError

    if not image:
        raise CliError('required flag(s) "image" not set')
    if len(image) > 1 and command:
        raise CliError("cannot specify multiple --image options and command")
    document = deployment_for(name, images=image, replicas=replicas, port=port, command=command or [])
    _send_generated(connection, document, dry_run=dry_run, output=output, save_config=save_config)


@verb
def create_namespace(
    connection: Connection,
    name: Annotated[str, typer.Argument(help="The namespace's name.")],
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    save_config: SaveConfigOption = False,
) -> None:
    """Create a namespace with the specified name."""
    document = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None},
                "spec": {}, "status": {}}
    _send_generated(connection, document, dry_run=dry_run, output=output, save_config=save_config)


def collect_data(*, kind: str, name: str, literals: list[str], files: list[str],
                 env_files: list[str]) -> tuple[dict[str, str], dict[str, bytes]]:
    """The (text, binary) entries of --from-literal, --from-file and --from-env-file, kubectl's rules."""
    from pathlib import Path

    from cli.client.errors import CliError

    text: dict[str, str] = {}
    binary: dict[str, bytes] = {}

    def add(key: str, value: bytes | str) -> None:
        if key in text or key in binary:
            raise CliError(f'cannot add key "{key}", another key by that name already exists in Data for '
                           f'{kind} "{name}"')
        if not key or any(not (character.isalnum() or character in "-._") for character in key):
            raise CliError(f'"{key}" is not valid key name for a {kind}: a valid config key must consist of '
                           "alphanumeric characters, '-', '_' or '.'")
        if isinstance(value, bytes):
            try:
                text[key] = value.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = value
        else:
            text[key] = value

    for source in files:
        key, separator, path_text = source.partition("=")
        if not separator:
            key, path_text = "", source
        path = Path(path_text)
        if not path.exists():
            raise CliError(f"error reading {path_text}: no such file or directory")
        if path.is_dir():
            if key:
                raise CliError(f"cannot give a key name for a directory path: {source}")
            for entry in sorted(path.iterdir()):
                if entry.is_file():
                    add(entry.name, entry.read_bytes())
        else:
            add(key or path.name, path.read_bytes())
    for literal in literals:
        key, separator, value = literal.partition("=")
        if not separator or not key:
            raise CliError(f"invalid literal source {literal}, expected key=value")
        add(key, value)
    for env_file in env_files:
        try:
            lines = Path(env_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise CliError(f"error reading {env_file}: {error.strerror}") from None
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, separator, value = line.partition("=")
            if not separator:
                import os

                if key in os.environ:
                    value = os.environ[key]
                else:
                    continue
            if not key:
                raise CliError(f"{env_file}: line {number}: invalid env line: {line!r}")
            add(key, value)
    return text, binary


@verb
def create_configmap(
    connection: Connection,
    name: Annotated[str, typer.Argument(help="The config map's name.")],
    from_literal: FromLiteralOption = None,
    from_file: FromFileOption = None,
    from_env_file: FromEnvFileOption = None,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    save_config: SaveConfigOption = False,
) -> None:
    """Create a config map from a local file, directory or literal value."""
    import base64

    text, binary = collect_data(kind="ConfigMap", name=name, literals=from_literal or [], files=from_file or [],
                                env_files=from_env_file or [])
    document: dict = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None}}
    if text:
        document["data"] = text
    if binary:
        document["binaryData"] = {key: base64.b64encode(value).decode("ascii") for key, value in binary.items()}
    _send_generated(connection, document, dry_run=dry_run, output=output, save_config=save_config)


@verb
def create_secret_generic(
    connection: Connection,
    name: Annotated[str, typer.Argument(help="The secret's name.")],
    from_literal: FromLiteralOption = None,
    from_file: FromFileOption = None,
    from_env_file: FromEnvFileOption = None,
    secret_type: Annotated[str | None, typer.Option("--type", help="The type of secret to create.")] = None,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    save_config: SaveConfigOption = False,
) -> None:
    """Create a secret from a local file, directory, or literal value."""
    import base64

    text, binary = collect_data(kind="Secret", name=name, literals=from_literal or [], files=from_file or [],
                                env_files=from_env_file or [])
    values = {key: value.encode("utf-8") for key, value in text.items()} | binary
    document: dict = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None}}
    if values:
        document["data"] = {key: base64.b64encode(values[key]).decode("ascii") for key in values}
    if secret_type:
        document["type"] = secret_type
    _send_generated(connection, document, dry_run=dry_run, output=output, save_config=save_config)
    sys.stdout.flush()
