"""`orc exec` and `orc port-forward`: not supported yet, said plainly.

Both need streaming through the apiserver to the kubelet (exec) and the node's network
(port-forward), which the kubelet and networking work will bring. Until then each answers with a
clear error and exit code 1, accepting kubectl's arguments so that scripts fail in a readable way.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys

import typer

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _not_supported(verb_name: str) -> None:
    sys.stderr.write(f"error: orc {verb_name} is not supported yet (it needs the kubelet's streaming endpoints); "
                     f"use kubectl {verb_name} meanwhile\n")
    raise SystemExit(1)


def register(app: typer.Typer) -> None:
    @app.command("exec", help="Execute a command in a container (not supported yet).",
                 context_settings=_PASS_THROUGH, add_help_option=False)
    def exec_command(context: typer.Context) -> None:
        _not_supported("exec")

    @app.command("port-forward", help="Forward local ports to a pod (not supported yet).",
                 context_settings=_PASS_THROUGH, add_help_option=False)
    def port_forward(context: typer.Context) -> None:
        _not_supported("port-forward")
