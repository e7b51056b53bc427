"""`orc describe TYPE [NAME_PREFIX] | TYPE/NAME | -l | -f`: kubectl's describe, with the Events table.

Fetches each object, the events about it (`GET events?fieldSelector=involvedObject.name=...,
involvedObject.uid=...`, as kubectl searches them) and what its describer shows besides (a
Deployment's ReplicaSets, a ReplicaSet's pods, a Service's Endpoints, a Node's pods and Lease), then
prints the text of cli/client/describers.py. As kubectl, `orc describe TYPE PREFIX` describes every
object whose name starts with PREFIX when none is named so, and several objects are separated by a
blank line. Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.describers import DESCRIBERS, WITHOUT_EVENTS, describe_generic, format_label_selector
from cli.client.options import AllNamespacesOption, FilenameOption, RecursiveOption, SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource


def register(app: typer.Typer) -> None:
    app.command("describe", help="Show details of a specific resource or group of resources.")(describe)


def _meta(document: dict) -> dict:
    return document.get("metadata") or {}


def search_events(connection: Connection, document: dict, *, kind: str | None) -> list[dict]:
    """The events about an object, found as kubectl finds them (involvedObject name, namespace, kind, uid)."""
    from cli.client.errors import ServerError
    from cli.client.targets import list_items

    metadata = _meta(document)
    terms = [f"involvedObject.name={metadata.get('name', '')}",
             f"involvedObject.namespace={metadata.get('namespace', '')}"]
    if kind:
        terms.append(f"involvedObject.kind={kind}")
    if metadata.get("uid"):
        terms.append(f"involvedObject.uid={metadata['uid']}")
    events_resource = connection.discovery.resolve("events")
    try:
        return list_items(connection.client, events_resource, namespace=metadata.get("namespace") or None,
                          field_selector=",".join(terms))
    except ServerError:
        return []


def _controller_uid(document: dict) -> str | None:
    for reference in _meta(document).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def _selector_text(selector: dict | None) -> str:
    text = format_label_selector(selector)
    return "" if text == "<none>" else text


def gather_context(connection: Connection, resource: ApiResource, document: dict) -> dict:
    """The related objects a describer shows (ReplicaSets, pods, endpoints, the node's lease)."""
    from cli.client.errors import ServerError
    from cli.client.targets import get_object, list_items

    key = (resource.group, resource.kind)
    namespace = _meta(document).get("namespace")
    context: dict = {}
    try:
        if key == ("apps", "Deployment"):
            from cli.client.rollout import split_replicasets

            old_sets, new_set = split_replicasets(connection, document)
            context["old_replicasets"] = old_sets
            context["new_replicasets"] = [new_set] if new_set else []
        elif key == ("apps", "ReplicaSet"):
            pods = list_items(connection.client, connection.discovery.resolve("pods"), namespace=namespace,
                              label_selector=_selector_text((document.get("spec") or {}).get("selector")))
            counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
            for pod in pods:
                if _controller_uid(pod) == _meta(document).get("uid"):
                    phase = (pod.get("status") or {}).get("phase")
                    if phase in counts:
                        counts[phase] += 1
            context["pod_counts"] = (counts["Running"], counts["Pending"], counts["Succeeded"], counts["Failed"])
        elif key == ("", "Service"):
            try:
                context["endpoints"] = get_object(connection.client, connection.discovery.resolve("endpoints"),
                                                  _meta(document).get("name", ""), namespace=namespace)
            except ServerError:
                context["endpoints"] = None
        elif key == ("", "Node"):
            node_name = _meta(document).get("name", "")
            try:
                context["pods"] = list_items(
                    connection.client, connection.discovery.resolve("pods"), namespace=None,
                    field_selector=f"spec.nodeName={node_name},status.phase!=Succeeded,status.phase!=Failed")
            except ServerError as error:
                if error.reason != "Forbidden":
                    raise
                context["pods"] = None
            try:
                context["lease"] = get_object(connection.client, connection.discovery.resolve("leases.coordination.k8s.io"),
                                              node_name, namespace="kube-node-lease")
            except (ServerError, Exception) as error:  # noqa: BLE001 - shown in the output, as kubectl does
                context["lease"] = getattr(error, "message", str(error))
    except ServerError as error:
        if key == ("apps", "ReplicaSet"):
            context["pod_counts"] = error.message
        else:
            raise
    return context


def describe_object(connection: Connection, resource: ApiResource, document: dict, *, show_events: bool) -> str:
    key = (resource.group, resource.kind)
    describer = DESCRIBERS.get(key, describe_generic)
    events = None
    if show_events and key not in WITHOUT_EVENTS:
        # kubectl leaves the kind out of a pod's event search (mirror pods report under another uid).
        events = search_events(connection, document, kind=None if key == ("", "Pod") else resource.kind)
    return describer(document, events, gather_context(connection, resource, document))


@verb
def describe(
    connection: Connection,
    args: Annotated[list[str] | None, typer.Argument(help="TYPE [NAME_PREFIX] or TYPE/NAME", show_default=False)]
    = None,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    selector: SelectorOption = None,
    all_namespaces: AllNamespacesOption = False,
    show_events: Annotated[bool, typer.Option("--show-events/--no-show-events", help="Show related events.")] = True,
) -> None:
    from cli.client.apply import finish
    from cli.client.errors import CliError, ServerError
    from cli.client.targets import list_items, manifest_targets, resolve_targets

    args = args or []
    errors: list[Exception] = []
    if filename:
        selections, errors = manifest_targets(connection, filename, recursive=recursive)
    else:
        if not args:
            raise CliError("You must specify the type of resource to describe. Use \"orc api-resources\" for a "
                           "complete list of supported resources.")
        selections = resolve_targets(connection, args, verb="describe", all_namespaces=all_namespaces)
    texts: list[str] = []
    described_any = False
    for selection in selections:
        resource = selection.resource
        if not selection.names:
            for document in list_items(connection.client, resource, namespace=selection.namespace,
                                       label_selector=selector):
                texts.append(describe_object(connection, resource, document, show_events=show_events))
            continue
        for name in selection.names:
            from cli.client.targets import get_object

            try:
                documents = [get_object(connection.client, resource, name, namespace=selection.namespace)]
            except ServerError as error:
                if not error.is_not_found:
                    errors.append(error)
                    continue
                # kubectl describes every object whose name starts with the one given, each followed by a
                # blank line (its DescribeMatchingResources prints "%s\n").
                documents = [item for item in list_items(connection.client, resource, namespace=selection.namespace)
                             if _meta(item).get("name", "").startswith(name)]
                if not documents:
                    errors.append(error)
                    continue
                for document in documents:
                    sys.stdout.write(describe_object(connection, resource, document, show_events=show_events) + "\n")
                    described_any = True
                continue
            texts += [describe_object(connection, resource, document, show_events=show_events)
                      for document in documents]
    if texts:
        sys.stdout.write("\n\n".join(texts))
        sys.stdout.flush()
    elif not described_any and not errors and not filename and not any(selection.names for selection in selections):
        namespaced = not all_namespaces and all(selection.resource.namespaced for selection in selections)
        sys.stderr.write(f"No resources found in {connection.namespace} namespace.\n" if namespaced
                         else "No resources found\n")
    finish(errors)
