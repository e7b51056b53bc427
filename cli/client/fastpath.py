"""`orc get` without typer: the start-up fast path for the most common command.

A whole `kubectl get pods` on 1,000 pods takes ~70 ms; importing typer (and the pydantic it loads
to convert parameters) takes longer than that on its own. `main()` therefore looks at the command
line first: a `get` whose flags it recognises runs straight through cli/client/listing.py's
`run_get` (the same engine the typer command uses, so the output is identical); anything else —
other verbs, `--help`, a flag it does not know — falls through to the full typer app
(`cli.main.main`), which also reports usage errors.

Meant as the `orc` console-script entry point (`orc = "cli.client.fastpath:main"`).
"""

from __future__ import annotations

import sys

# flag -> (GetRequest/Connection field, takes a value)
_GET_FLAGS: dict[str, tuple[str, bool]] = {
    "-n": ("namespace", True), "--namespace": ("namespace", True),
    "-o": ("output", True), "--output": ("output", True),
    "-l": ("label_selector", True), "--selector": ("label_selector", True),
    "--field-selector": ("field_selector", True),
    "-L": ("label_columns", True), "--label-columns": ("label_columns", True),
    "--sort-by": ("sort_by", True),
    "--chunk-size": ("chunk_size", True),
    "--kubeconfig": ("kubeconfig", True), "--context": ("context", True),
    "-s": ("server", True), "--server": ("server", True), "--token": ("token", True),
    "-A": ("all_namespaces", False), "--all-namespaces": ("all_namespaces", False),
    "--no-headers": ("no_headers", False), "--show-labels": ("show_labels", False),
    "--show-kind": ("show_kind", False), "--ignore-not-found": ("ignore_not_found", False),
    "-w": ("watch", False), "--watch": ("watch", False), "--watch-only": ("watch_only", False),
}
_CONNECTION_FIELDS = ("kubeconfig", "context", "server", "token", "namespace")


def parse_get(argv: list[str]) -> tuple[dict[str, str | None], dict] | None:
    """(connection flags, GetRequest fields) for `get ARGS...`, or None when only typer can parse it."""
    connection: dict[str, str | None] = {}
    request: dict = {"args": [], "label_columns": []}
    index = 0
    while index < len(argv):
        argument = argv[index]
        index += 1
        if not argument.startswith("-") or argument == "-":
            request["args"].append(argument)
            continue
        flag, has_inline_value, inline_value = argument.partition("=")
        known = _GET_FLAGS.get(flag)
        if known is None:
            return None  # --help, -f, a typo: typer knows what to say
        name, takes_value = known
        if not takes_value:
            if has_inline_value:
                return None
            request[name] = True
            continue
        if has_inline_value:
            value = inline_value
        elif index < len(argv):
            value = argv[index]
            index += 1
        else:
            return None
        if name in _CONNECTION_FIELDS:
            connection[name] = value
        elif name == "label_columns":
            request["label_columns"] += [label for label in value.split(",") if label]
        elif name == "chunk_size":
            if not value.isdigit():
                return None
            request["chunk_size"] = int(value)
        else:
            request[name] = value
    request["label_columns"] = tuple(request["label_columns"])
    return connection, request


def try_get(argv: list[str]) -> int | None:
    """Run `orc get ...` here when possible; the exit code, or None to leave it to typer."""
    if not argv or argv[0] != "get":
        return None
    parsed = parse_get(argv[1:])
    if parsed is None:
        return None
    connection_flags, request_fields = parsed
    from cli.client.connection import Connection
    from cli.client.errors import handle_errors
    from cli.client.listing import GetRequest, run_get

    connection = Connection(
        kubeconfig=connection_flags.get("kubeconfig"), context=connection_flags.get("context"),
        server=connection_flags.get("server"), token=connection_flags.get("token"),
        namespace_flag=connection_flags.get("namespace"),
    )
    try:
        with handle_errors():
            run_get(connection, GetRequest(**request_fields))
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else 1
    finally:
        connection.close()
    return 0


def main() -> None:
    from cli.client.argv import hoist_global_flags

    code = try_get(hoist_global_flags(sys.argv[1:]))
    if code is not None:
        sys.stdout.flush()
        raise SystemExit(code)
    from cli.main import main as full_main

    full_main()


if __name__ == "__main__":
    main()
