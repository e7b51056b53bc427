"""`orc wait`: block until objects meet a condition, like `kubectl wait`.

`--for=condition=Ready` (`=Value`, default True; names and values compare case-insensitively, and a
condition observed for an older generation does not count), `--for=delete`, `--for=create`,
`--for=jsonpath='{.status.phase}'=Running` (or only that the path exists). Objects come from
TYPE NAME, TYPE/NAME, `-l`, `--all` or `-f`; each gets `--timeout` (30s by default) and is reported as
`pod/web condition met`; running out of time is `timed out waiting for the condition on pods/web`.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import AllNamespacesOption, FilenameOption, SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource

POLL_INTERVAL_SECONDS = 0.25


def register(app: typer.Typer) -> None:
    app.command("wait", help="Experimental: Wait for a specific condition on one or many resources.")(wait)


@dataclass(frozen=True)
class Condition:
    """A parsed --for."""

    kind: str  # "condition", "delete", "create" or "jsonpath"
    name: str = ""
    value: str | None = None


def parse_for(text: str) -> Condition:
    from cli.client.errors import CliError

    if text.lower() == "delete":
        return Condition("delete")
    if text.lower() == "create":
        return Condition("create")
    if text.lower().startswith("condition="):
        name, _, value = text[len("condition="):].partition("=")
        if not name:
            raise CliError(f"invalid condition: {text}")
        return Condition("condition", name, value or "True")
    if text.lower().startswith("jsonpath="):
        expression = text[len("jsonpath="):]
        path, equals, value = expression.rpartition("}=") if "}=" in expression else (expression, "", "")
        path = path + "}" if equals else path
        if not path.strip():
            raise CliError("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or "
                           "--for=jsonpath='{.status.readyReplicas}'")
        return Condition("jsonpath", path, value if equals else None)
    raise CliError(f"unrecognized condition: {text!r}")


def condition_met(document: dict, condition: Condition) -> bool:
    """Pure: whether the object satisfies a condition or jsonpath --for."""
    if condition.kind == "condition":
        generation = (document.get("metadata") or {}).get("generation")
        for entry in (document.get("status") or {}).get("conditions") or []:
            if str(entry.get("type", "")).lower() != condition.name.lower():
                continue
            observed = entry.get("observedGeneration")
            if observed is not None and generation is not None and observed < generation:
                return False
            return str(entry.get("status", "")).lower() == str(condition.value).lower()
        return False
    if condition.kind == "jsonpath":
        from cli.client.jsonpath import JSONPath, format_value

        values = JSONPath(condition.name).find(document)
        if condition.value is None:
            return bool(values)
        return len(values) == 1 and format_value(values[0]) == condition.value
    return True


def _wait_one(connection: Connection, resource: ApiResource, name: str, namespace: str | None, uid: str | None,
              condition: Condition, timeout: float | None) -> bool:
    from cli.client.errors import ServerError
    from cli.client.targets import get_object, poll_until

    def check() -> bool:
        try:
            document = get_object(connection.client, resource, name, namespace=namespace)
        except ServerError as error:
            if not error.is_not_found:
                raise
            if condition.kind == "delete":
                return True
            if condition.kind == "create":
                return False
            raise
        if condition.kind == "delete":
            return bool(uid) and (document.get("metadata") or {}).get("uid") != uid
        return condition_met(document, condition)

    return poll_until(check, timeout=timeout, interval=POLL_INTERVAL_SECONDS)


@verb
def wait(
    connection: Connection,
    args: Annotated[list[str] | None, typer.Argument(help="TYPE NAME..., TYPE/NAME... or TYPE with -l/--all",
                                                     show_default=False)] = None,
    for_: Annotated[str | None, typer.Option("--for", help="delete, create, condition=NAME[=VALUE] or "
                                             "jsonpath='{PATH}'[=VALUE].")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait for each object (negative: a "
                                         "week).")] = "30s",
    selector: SelectorOption = None,
    all_objects: Annotated[bool, typer.Option("--all", help="Select all resources of the types in the "
                                              "namespace.")] = False,
    all_namespaces: AllNamespacesOption = False,
    filename: FilenameOption = None,
) -> None:
    from cli.client.errors import CliError, ServerError
    from cli.client.targets import list_items, manifest_targets, parse_duration, resolve_targets

    if not for_:
        raise CliError("--for must be specified")
    condition = parse_for(for_)
    seconds = parse_duration(timeout, flag="--timeout")
    wait_seconds: float | None = 7 * 24 * 3600.0 if seconds < 0 else seconds
    errors: list[Exception] = []
    if filename:
        selections, errors = manifest_targets(connection, filename, recursive=False)
    else:
        if not args:
            raise CliError("resource(s) were provided, but no name was specified" if selector else
                           "You must provide one or more resources by argument or filename.")
        selections = resolve_targets(connection, args, verb="wait", all_namespaces=all_namespaces)
    objects: list[tuple[ApiResource, str, str | None, str | None]] = []
    for selection in selections:
        if selection.names:
            objects += [(selection.resource, name, selection.namespace, None) for name in selection.names]
            continue
        if not selector and not all_objects:
            raise CliError("resource(s) were provided, but no name was specified")
        for item in list_items(connection.client, selection.resource, namespace=selection.namespace,
                               label_selector=selector):
            metadata = item.get("metadata") or {}
            objects.append((selection.resource, metadata.get("name", ""), metadata.get("namespace"),
                            metadata.get("uid")))
    if not objects and not errors:
        raise CliError("no matching resources found")
    for resource, name, namespace, uid in objects:
        try:
            met = _wait_one(connection, resource, name, namespace, uid, condition, wait_seconds)
        except ServerError as error:
            errors.append(error)
            continue
        if not met:
            raise CliError(f"timed out waiting for the condition on {resource.qualified_name}/{name}")
        sys.stdout.write(f"{resource.object_ref(name)} condition met\n")
        sys.stdout.flush()
    from cli.client.apply import finish

    finish(errors)
