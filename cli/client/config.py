"""`orc config view|use-context|current-context|get-contexts|set-context`: kubeconfig files as kubectl edits them.

The files are kubectl's: `--kubeconfig`, else every existing file of `$KUBECONFIG` (merged, the first
file winning for each named cluster, user and context, and for current-context), else
`~/.kube/config`. `view` prints the merged config with secrets shown as `DATA+OMITTED`/`REDACTED`
(`--raw` shows them, `--minify` keeps only the current context, `-o json|yaml|jsonpath=...`);
`use-context` and `set-context` rewrite the file that holds what they change, atomically, with mode 0600.

Registered by cli/client/__init__.py. (Connecting to a server from a kubeconfig is
orchestrator/client/config.py's `load_client_config`; this module only reads and edits the files.)
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client.options import KubeconfigOption, OutputOption

REDACTED_DATA = "DATA+OMITTED"
REDACTED_SECRET = "REDACTED"
DATA_FIELDS = ("certificate-authority-data", "client-certificate-data", "client-key-data")
SECRET_FIELDS = ("token", "password")
# Field order of client-go's v1 Config types, which `-o json` shows.
CLUSTER_ORDER = ("server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority",
                 "certificate-authority-data", "proxy-url", "disable-compression", "extensions")
USER_ORDER = ("client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile",
              "as", "as-uid", "as-groups", "as-user-extra", "username", "password", "auth-provider", "exec",
              "extensions")
CONTEXT_ORDER = ("cluster", "user", "namespace", "extensions")


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Modify kubeconfig files.", no_args_is_help=True)
    config_app.command("view", help="Display merged kubeconfig settings or a specified kubeconfig file.")(view)
    config_app.command("use-context", help="Set the current-context in a kubeconfig file.")(use_context)
    config_app.command("current-context", help="Display the current-context.")(current_context)
    config_app.command("get-contexts", help="Describe one or many contexts.")(get_contexts)
    config_app.command("set-context", help="Set a context entry in kubeconfig.")(set_context)
    app.add_typer(config_app, name="config")


# --- the files -----------------------------------------------------------------------------------------

def kubeconfig_files(explicit: str | None) -> list[Path]:
    """The kubeconfig files kubectl would read, in precedence order."""
    if explicit:
        return [Path(explicit).expanduser()]
    files: list[Path] = []
    for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if entry and Path(entry).expanduser().is_file() and Path(entry).expanduser() not in files:
            files.append(Path(entry).expanduser())
    if os.environ.get("KUBECONFIG"):
        return files
    return [Path.home() / ".kube" / "config"]


def read_file(path: Path) -> dict:
    import yaml

    from cli.client.errors import CliError

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as error:
        raise CliError(f"error loading config file \"{path}\": {error}") from None
    if not isinstance(document, dict):
        raise CliError(f"error loading config file \"{path}\": not a kubeconfig")
    return document


def merge(documents: list[dict]) -> dict:
    """kubectl's merge of several kubeconfigs: the first file to name an entry (or the context) wins."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [], "users": [],
                              "contexts": [], "current-context": ""}
    for document in documents:
        for section in ("clusters", "users", "contexts"):
            known = {entry.get("name") for entry in merged[section]}
            for entry in document.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") not in known:
                    merged[section].append(copy.deepcopy(entry))
                    known.add(entry.get("name"))
        if not merged["current-context"] and document.get("current-context"):
            merged["current-context"] = document["current-context"]
    for section in ("clusters", "users", "contexts"):
        merged[section].sort(key=lambda entry: entry.get("name", ""))
    return merged


def load_merged(explicit: str | None) -> dict:
    from cli.client.errors import CliError

    files = kubeconfig_files(explicit)
    if explicit and not files[0].is_file():
        raise CliError(f'stat {explicit}: no such file or directory')
    return merge([read_file(path) for path in files])


def write_file(path: Path, document: dict) -> None:
    import yaml

    from orchestrator.client.config import write_file_atomically

    write_file_atomically(path, yaml.safe_dump(document, sort_keys=True, default_flow_style=False).encode("utf-8"))


def file_defining(explicit: str | None, section: str, name: str) -> Path:
    """The file that holds entry `name` of `section`, else the first file (where kubectl adds new entries)."""
    files = kubeconfig_files(explicit)
    for path in files:
        if any(entry.get("name") == name for entry in read_file(path).get(section) or [] if isinstance(entry, dict)):
            return path
    return files[0]


def current_context_file(explicit: str | None) -> Path:
    """Where kubectl writes current-context: the first file that sets it, else the first file."""
    files = kubeconfig_files(explicit)
    for path in files:
        if read_file(path).get("current-context"):
            return path
    return files[0]


# --- view ------------------------------------------------------------------------------------------------

def redacted(config: dict) -> dict:
    config = copy.deepcopy(config)
    for section, body_key in (("clusters", "cluster"), ("users", "user")):
        for entry in config.get(section) or []:
            body = entry.get(body_key) or {}
            for field in DATA_FIELDS:
                if body.get(field):
                    body[field] = REDACTED_DATA
            for field in SECRET_FIELDS:
                if body.get(field):
                    body[field] = REDACTED_SECRET
    return config


def minified(config: dict) -> dict:
    """Only the current context, its cluster and its user (kubectl config view --minify)."""
    from cli.client.errors import CliError

    name = config.get("current-context")
    if not name:
        raise CliError("current-context must exist in order to minify")
    context = next((entry for entry in config["contexts"] if entry.get("name") == name), None)
    if context is None:
        raise CliError(f'cannot locate context {name}')
    body = context.get("context") or {}
    return {**config,
            "clusters": [entry for entry in config["clusters"] if entry.get("name") == body.get("cluster")],
            "users": [entry for entry in config["users"] if entry.get("name") == body.get("user")],
            "contexts": [context]}


def _ordered(body: dict, order: tuple[str, ...]) -> dict:
    return {key: body[key] for key in order if key in body} | {key: body[key] for key in body if key not in order}


def go_ordered(config: dict) -> dict:
    """The config in client-go's struct order, as `kubectl config view -o json` prints it."""
    return {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": config.get("preferences") or {},
        "clusters": [{"name": entry.get("name"), "cluster": _ordered(entry.get("cluster") or {}, CLUSTER_ORDER)}
                     for entry in config.get("clusters") or []],
        "users": [{"name": entry.get("name"), "user": _ordered(entry.get("user") or {}, USER_ORDER)}
                  for entry in config.get("users") or []],
        "contexts": [{"name": entry.get("name"), "context": _ordered(entry.get("context") or {}, CONTEXT_ORDER)}
                     for entry in config.get("contexts") or []],
        "current-context": config.get("current-context") or "",
    }


def view(
    kubeconfig: KubeconfigOption = None,
    output: OutputOption = None,
    minify: Annotated[bool, typer.Option("--minify", help="Only the current context's information.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Show secrets (certificate data, tokens).")] = False,
    flatten: Annotated[bool, typer.Option("--flatten", help="Inline referenced files (implies --raw).")] = False,
    merge_flag: Annotated[bool, typer.Option("--merge/--no-merge", help="Merge the kubeconfig files.")] = True,
) -> None:
    """Display merged kubeconfig settings or a specified kubeconfig file."""
    import json

    from cli.client.errors import handle_errors
    from cli.client.printers import OutputFormat, format_generic, parse_output, to_yaml

    with handle_errors():
        config = load_merged(kubeconfig)
        if minify:
            config = minified(config)
        if not (raw or flatten):
            config = redacted(config)
        output_format = parse_output(output) if output else OutputFormat("yaml")
        if output_format.kind == "json":
            sys.stdout.write(json.dumps(go_ordered(config), indent=4) + "\n")
        elif output_format.kind == "yaml":
            sys.stdout.write(to_yaml(config))
        else:
            sys.stdout.write(format_generic(go_ordered(config), output_format))


# --- contexts ---------------------------------------------------------------------------------------------

def current_context(kubeconfig: KubeconfigOption = None) -> None:
    """Display the current-context."""
    from cli.client.errors import CliError, handle_errors

    with handle_errors():
        name = load_merged(kubeconfig).get("current-context")
        if not name:
            raise CliError("current-context is not set")
        sys.stdout.write(name + "\n")


def use_context(
    name: Annotated[str, typer.Argument(help="The context to use.")],
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Set the current-context in a kubeconfig file."""
    from cli.client.errors import CliError, handle_errors

    with handle_errors():
        config = load_merged(kubeconfig)
        if not any(entry.get("name") == name for entry in config["contexts"]):
            raise CliError(f'no context exists with the name: "{name}"')
        path = current_context_file(kubeconfig)
        document = read_file(path)
        document["current-context"] = name
        write_file(path, document)
        sys.stdout.write(f'Switched to context "{name}".\n')


def get_contexts(
    names: Annotated[list[str] | None, typer.Argument(help="Contexts to show (all by default).",
                                                      show_default=False)] = None,
    kubeconfig: KubeconfigOption = None,
    output: OutputOption = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Don't print headers.")] = False,
) -> None:
    """Describe one or many contexts."""
    from cli.client.errors import CliError, handle_errors
    from cli.client.tabwriter import TabWriter

    with handle_errors():
        if output not in (None, "", "name"):
            raise CliError(f"output must be one of '' or 'name': {output}")
        config = load_merged(kubeconfig)
        contexts = config["contexts"]
        if names:
            missing = [name for name in names if not any(entry.get("name") == name for entry in contexts)]
            contexts = [entry for entry in contexts if entry.get("name") in names]
            if missing:
                raise CliError(f"context {missing[0]} not found")
        if output == "name":
            sys.stdout.write("".join(entry.get("name", "") + "\n" for entry in contexts))
            return
        writer = TabWriter.for_tables()
        if not no_headers:
            writer.write("CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n")
        for entry in contexts:
            body = entry.get("context") or {}
            marker = "*" if entry.get("name") == config.get("current-context") else ""
            writer.write(f"{marker}\t{entry.get('name', '')}\t{body.get('cluster', '')}\t{body.get('user', '')}\t"
                         f"{body.get('namespace', '')}\n")
        sys.stdout.write(writer.flush())


def set_context(
    name: Annotated[str | None, typer.Argument(help="The context to set (or --current).", show_default=False)]
    = None,
    current: Annotated[bool, typer.Option("--current", help="Modify the current context.")] = False,
    cluster: Annotated[str | None, typer.Option("--cluster", help="The context's cluster.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="The context's user.")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="The context's namespace.")] = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Set a context entry in kubeconfig."""
    from cli.client.errors import CliError, handle_errors

    with handle_errors():
        if current:
            if name:
                raise CliError("you cannot specify both a context name and --current")
            name = load_merged(kubeconfig).get("current-context")
            if not name:
                raise CliError("no current context is set")
        if not name:
            raise CliError("you must specify a non-empty context name or --current")
        path = file_defining(kubeconfig, "contexts", name)
        document = read_file(path)
        contexts = document.setdefault("contexts", [])
        entry = next((item for item in contexts if isinstance(item, dict) and item.get("name") == name), None)
        existed = entry is not None
        if entry is None:
            entry = {"name": name, "context": {}}
            contexts.append(entry)
        body = entry.setdefault("context", {}) or {}
        entry["context"] = body
        for key, value in (("cluster", cluster), ("user", user), ("namespace", namespace)):
            if value is not None:
                if value:
                    body[key] = value
                else:
                    body.pop(key, None)
        document.setdefault("apiVersion", "v1")
        document.setdefault("kind", "Config")
        write_file(path, document)
        sys.stdout.write(f'Context "{name}" {"modified" if existed else "created"}.\n')
