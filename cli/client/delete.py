"""`orc delete`: delete objects by file, name, label selector or `--all`, like `kubectl delete`.

Each object is deleted with its own DELETE (body `{"propagationPolicy": "Background"}`, plus
`gracePeriodSeconds` when asked), reported as `deployment.apps "web" deleted`, and then — as kubectl
does by default — the command waits until every deleted object is really gone (`--wait=false` to
return at once). `--cascade=background|foreground|orphan`, `--grace-period`, `--now`, `--force`,
`--ignore-not-found`, `-o name`, `--dry-run`. A failing object does not stop the others.

`delete_and_wait` is also used by `replace --force`. Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import (
    AllNamespacesOption,
    DryRunOption,
    FilenameOption,
    OutputOption,
    RecursiveOption,
    SelectorOption,
    verb,
)

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource

CASCADE_POLICIES = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan",
                    "true": "Background", "false": "Orphan"}
FORCE_WARNING = ("Warning: Immediate deletion does not wait for confirmation that the running resource has been "
                 "terminated. The resource may continue to run on the cluster indefinitely.")


def register(app: typer.Typer) -> None:
    app.command("delete", help="Delete resources by file names, stdin, resources and names, or by resources and "
                               "label selector.")(delete)


@dataclass
class Deleted:
    """An object this command deleted, to wait for."""

    resource: ApiResource
    name: str
    namespace: str | None
    uid: str | None


def delete_options(*, propagation: str, grace_period: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"propagationPolicy": propagation}
    if grace_period is not None and grace_period >= 0:
        body["gracePeriodSeconds"] = grace_period
    return body


def deletion_message(resource: ApiResource, name: str, *, output_name: bool, dry_run: str | None,
                     forced: bool = False) -> str:
    from cli.client.apply import dry_run_suffix

    if output_name:
        return resource.object_ref(name) + "\n"
    return f'{resource.group_kind} "{name}" {"force deleted" if forced else "deleted"}{dry_run_suffix(dry_run)}\n'


def delete_one(connection: Connection, resource: ApiResource, name: str, *, namespace: str | None, propagation: str,
               grace_period: int | None, dry_run: str | None = None, uid: str | None = None) -> Deleted:
    """Send one DELETE; return what to wait for (the uid guards against a same-named successor)."""
    if dry_run == "client":
        return Deleted(resource, name, namespace, uid)
    body = delete_options(propagation=propagation, grace_period=grace_period)
    params = {"dryRun": "All"} if dry_run == "server" else None
    answer = connection.client.request("DELETE", resource.path(namespace, name), body=body, params=params) or {}
    if answer.get("kind") != "Status":
        uid = (answer.get("metadata") or {}).get("uid") or uid
    return Deleted(resource, name, namespace, uid)


def is_gone(connection: Connection, deleted: Deleted) -> bool:
    from cli.client.errors import ServerError

    try:
        current = connection.client.get(deleted.resource.path(deleted.namespace, deleted.name))
    except ServerError as error:
        if error.is_not_found:
            return True
        raise
    return bool(deleted.uid) and (current.get("metadata") or {}).get("uid") != deleted.uid


def wait_until_gone(connection: Connection, deleted_objects: list[Deleted], *, timeout: float | None) -> None:
    """Block until each deleted object has disappeared (kubectl delete's default --wait)."""
    from cli.client.errors import CliError
    from cli.client.targets import poll_until

    for deleted in deleted_objects:
        if not poll_until(lambda deleted=deleted: is_gone(connection, deleted), timeout=timeout, interval=0.25):
            raise CliError(f"timed out waiting for the condition on {deleted.resource.qualified_name}/{deleted.name}")


def delete_and_wait(connection: Connection, resource: ApiResource, name: str, *, namespace: str | None,
                    propagation: str, grace_period: int | None, wait: bool, timeout: float | None,
                    quiet: bool) -> None:
    deleted = delete_one(connection, resource, name, namespace=namespace, propagation=propagation,
                         grace_period=grace_period)
    if not quiet:
        sys.stdout.write(deletion_message(resource, name, output_name=False, dry_run=None))
        sys.stdout.flush()
    if wait:
        wait_until_gone(connection, [deleted], timeout=timeout)


@verb
def delete(
    connection: Connection,
    args: Annotated[list[str] | None, typer.Argument(help="TYPE[,TYPE...] NAME... or TYPE/NAME...",
                                                     show_default=False)] = None,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    selector: SelectorOption = None,
    field_selector: Annotated[str | None, typer.Option("--field-selector", help="Selector (field query).")] = None,
    all_objects: Annotated[bool, typer.Option("--all", help="Delete all resources of the given types in the "
                                                            "namespace.")] = False,
    all_namespaces: AllNamespacesOption = False,
    cascade: Annotated[str, typer.Option("--cascade", help='"background", "orphan", or "foreground".')]
    = "background",
    grace_period: Annotated[int, typer.Option("--grace-period", help="Seconds given to the resource to terminate "
                                              "gracefully; -1 uses the resource's default.")] = -1,
    now: Annotated[bool, typer.Option("--now", help="Signal resources for immediate shutdown (grace period 1).")]
    = False,
    force: Annotated[bool, typer.Option("--force", help="Remove resources immediately, without waiting for "
                                                        "graceful termination.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for resources to be gone before returning.")]
    = True,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait for deletion (0: no limit).")] = "0s",
    ignore_not_found: Annotated[bool, typer.Option("--ignore-not-found", help="Treat \"resource not found\" as a "
                                                   "successful delete.")] = False,
    output: OutputOption = None,
    dry_run: DryRunOption = "none",
) -> None:
    from cli.client.apply import finish
    from cli.client.errors import CliError, ServerError
    from cli.client.options import parse_dry_run
    from cli.client.targets import manifest_targets, parse_duration, resolve_targets

    args = args or []
    propagation = CASCADE_POLICIES.get(cascade.lower())
    if propagation is None:
        raise CliError(f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan".')
    if cascade.lower() in ("true", "false"):
        sys.stderr.write(f"warning: --cascade={cascade} is deprecated (boolean value) and can be replaced with "
                         f"--cascade={'background' if cascade.lower() == 'true' else 'orphan'}.\n")
    if now:
        if grace_period != -1:
            raise CliError("--now and --grace-period cannot be specified together")
        grace_period = 1
    if grace_period == 0 and not force:
        grace_period = 1  # kubectl: --grace-period=0 without --force means 1, to prevent accidents
    if force and grace_period < 0:
        grace_period = 0
    if force and grace_period == 0:
        sys.stderr.write(FORCE_WARNING + "\n")
    if output not in (None, "", "name"):
        raise CliError(f'unable to match a printer suitable for the output format "{output}", allowed formats '
                       "are: name")
    dry_run_mode = parse_dry_run(dry_run)
    wait_seconds = parse_duration(timeout, flag="--timeout") or None

    errors: list[Exception] = []
    if filename:
        if args:
            raise CliError("when paths, URLs, or stdin is provided as input, you may not specify resource "
                           "arguments as well")
        selections, errors = manifest_targets(connection, filename, recursive=recursive)
    else:
        if not args:
            raise CliError("You must provide one or more resources by argument or filename.\nExample resource "
                           "specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   "
                           "'<resource> <name>'\n   '<resource>'")
        selections = resolve_targets(connection, args, verb="delete", all_namespaces=all_namespaces)
        named = any(selection.names for selection in selections)
        if not named and not selector and not field_selector and not all_objects:
            raise CliError("resource(s) were provided, but no name was specified")
        if named and (selector or all_objects):
            raise CliError("name cannot be provided when a selector is specified" if selector else
                           "cannot set --all and --selector at the same time" if selector and all_objects else
                           "name cannot be provided when --all is specified")

    to_delete: list[tuple[ApiResource, str, str | None, str | None]] = []
    for selection in selections:
        if selection.names:
            to_delete += [(selection.resource, name, selection.namespace, None) for name in selection.names]
            continue
        from cli.client.targets import list_items

        for item in list_items(connection.client, selection.resource, namespace=selection.namespace,
                               label_selector=selector, field_selector=field_selector):
            metadata = item.get("metadata") or {}
            namespace = metadata.get("namespace") if selection.resource.namespaced else None
            to_delete.append((selection.resource, metadata.get("name", ""), namespace, metadata.get("uid")))
    if not to_delete and not errors and not any(selection.names for selection in selections):
        sys.stderr.write("No resources found\n")
        return

    deleted_objects: list[Deleted] = []
    for resource, name, namespace, uid in to_delete:
        try:
            deleted = delete_one(connection, resource, name, namespace=namespace, propagation=propagation,
                                 grace_period=grace_period if grace_period >= 0 else None, dry_run=dry_run_mode,
                                 uid=uid)
        except ServerError as error:
            if error.is_not_found and ignore_not_found:
                continue
            errors.append(error)
            continue
        sys.stdout.write(deletion_message(resource, name, output_name=output == "name", dry_run=dry_run_mode,
                                          forced=force and grace_period == 0))
        sys.stdout.flush()
        deleted_objects.append(deleted)
    if wait and not dry_run_mode:
        wait_until_gone(connection, deleted_objects, timeout=wait_seconds)
    finish(errors)
