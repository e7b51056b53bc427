"""What every client verb shares: kubectl's global flags, the connection they describe, the error edge.

`@verb` wraps a verb's function: it adds kubectl's global flags (`--kubeconfig`, `--context`,
`--server/-s`, `--token`, `-n/--namespace`) to the command's signature, hands the function a
`cli.client.connection.Connection` built from them as its `connection` argument, and prints failures
the way kubectl does (`cli.client.errors.handle_errors`). Also the typer option types several verbs
share (`-o`, `-l`, `-f`, `-A`, `--dry-run`).

Used by every module of `cli/client/` that registers commands.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.client.connection import Connection
from cli.client.errors import CliError, handle_errors

KubeconfigOption = Annotated[str | None, typer.Option(
    "--kubeconfig", help="Path to the kubeconfig file to use for CLI requests.", rich_help_panel="Global flags")]
ContextOption = Annotated[str | None, typer.Option(
    "--context", help="The name of the kubeconfig context to use.", rich_help_panel="Global flags")]
ServerOption = Annotated[str | None, typer.Option(
    "--server", "-s", help="The address and port of the Kubernetes API server.", rich_help_panel="Global flags")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", help="Bearer token for authentication to the API server.", rich_help_panel="Global flags")]
NamespaceOption = Annotated[str | None, typer.Option(
    "--namespace", "-n", help="If present, the namespace scope for this CLI request.", rich_help_panel="Global flags")]

AllNamespacesOption = Annotated[bool, typer.Option(
    "--all-namespaces", "-A",
    help="If present, list the requested object(s) across all namespaces. Namespace in current context is "
         "ignored even if specified with --namespace.")]
SelectorOption = Annotated[str | None, typer.Option(
    "--selector", "-l", help="Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.")]
FilenameOption = Annotated[list[str] | None, typer.Option(
    "--filename", "-f", help="Filename, directory, or - for stdin, of the manifests to use.")]
RecursiveOption = Annotated[bool, typer.Option(
    "--recursive", "-R", help="Process the directory used in -f, --filename recursively.")]
OutputOption = Annotated[str | None, typer.Option(
    "--output", "-o", help="Output format: json|yaml|name|wide|jsonpath=...|custom-columns=...")]
DryRunOption = Annotated[str, typer.Option(
    "--dry-run", help='Must be "none", "server", or "client".', show_default=True)]


_GLOBAL_NAMES = ("kubeconfig", "context", "server", "token", "namespace")
_GLOBAL_PARAMETERS = [
    inspect.Parameter("kubeconfig", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=KubeconfigOption),
    inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ContextOption),
    inspect.Parameter("server", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ServerOption),
    inspect.Parameter("token", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=TokenOption),
    inspect.Parameter("namespace", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=NamespaceOption),
]


_CONTEXT_PARAMETER = "orc_click_context"


def verb(function: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command kubectl's global flags and error handling; it receives them as `connection`.

    Global flags given to a command group (`orc create -n ns deployment ...`) reach its subcommands:
    each command leaves its flags in the click context's `obj`, which subcommands inherit.
    """
    signature = inspect.signature(function)
    own = []
    context_parameter = _CONTEXT_PARAMETER
    for parameter in signature.parameters.values():
        if parameter.name == "connection":  # annotated with a type only imported for type checkers
            continue
        annotation = parameter.annotation
        if isinstance(annotation, str):  # `from __future__ import annotations`
            annotation = eval(annotation, function.__globals__)  # noqa: S307 - the module's own annotation
        if annotation is typer.Context:  # typer fills one Context parameter only: share the function's
            context_parameter = parameter.name
        # typer calls commands with keywords only; making them keyword-only keeps the order free.
        own.append(parameter.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
    extra = [] if context_parameter != _CONTEXT_PARAMETER else [
        inspect.Parameter(_CONTEXT_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]

    @functools.wraps(function)
    def command(**options: Any) -> Any:
        click_context = options[context_parameter] if context_parameter != _CONTEXT_PARAMETER \
            else options.pop(_CONTEXT_PARAMETER)
        inherited = click_context.obj if isinstance(click_context.obj, dict) else {}
        flags = {name: options.pop(name) for name in _GLOBAL_NAMES}
        flags = {name: value if value is not None else inherited.get(name) for name, value in flags.items()}
        click_context.obj = flags
        connection = Connection(
            kubeconfig=flags["kubeconfig"], context=flags["context"], server=flags["server"], token=flags["token"],
            namespace_flag=flags["namespace"],
        )
        try:
            with handle_errors():
                return function(connection=connection, **options)
        finally:
            connection.close()

    parameters = own + _GLOBAL_PARAMETERS + extra
    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    # typer must see the new signature with its annotations already evaluated, not the function's.
    command.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    del command.__wrapped__
    return command


def parse_dry_run(value: str) -> str | None:
    """kubectl's --dry-run: None, "client" or "server" (a bare --dry-run is not accepted by typer)."""
    value = (value or "none").lower()
    if value in ("none", "false", ""):
        return None
    if value in ("client", "server"):
        return value
    if value == "true":
        raise CliError('--dry-run=true is no longer supported; use --dry-run=client or --dry-run=server')
    raise CliError(f'Invalid dry-run value ({value}). Must be "none", "server", or "client".')
