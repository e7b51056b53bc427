"""The kubectl-like client verbs of `orc` (get, apply, create, delete, describe, logs, exec, ...).

`register(app)` adds every verb to the `orc` typer app; cli/main.py calls it at start-up. Each
verb group lives in its own module and imports only typer at module level: the HTTP client, YAML,
discovery and printers are imported when a command runs, so that `orc get pods` starts fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    import typer

VERB_MODULES = (
    "get",
    "apply",
    "create",
    "delete",
    "describe",
    "logs",
    "modify",
    "rollout",
    "expose",
    "nodes",
    "wait",
    "info",
    "config",
    "execute",
    "portforward",
    "auth",
)


def register(app: typer.Typer) -> None:
    import importlib
    import sys

    from cli.client.argv import hoist_global_flags, normalize_boolean_flags

    # kubectl habits such as `--wait=false` and `orc -n ns get pods` must parse as kubectl parses them.
    sys.argv[1:] = normalize_boolean_flags(hoist_global_flags(sys.argv[1:]))
    for module_name in VERB_MODULES:
        try:
            module = importlib.import_module(f"cli.client.{module_name}")
        except ModuleNotFoundError as error:
            if error.name == f"cli.client.{module_name}":
                continue  # not written yet
            raise
        module.register(app)
