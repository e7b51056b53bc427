"""`orc cordon`, `orc uncordon` and `orc drain`: node maintenance as kubectl does it.

cordon/uncordon patch `spec.unschedulable` (`node/n1 cordoned`, `... already cordoned`). drain cordons
the node, then decides pod by pod with kubectl's drain filters — mirror pods are skipped, DaemonSet pods
need `--ignore-daemonsets`, pods without a controller need `--force`, pods with emptyDir data need
`--delete-emptydir-data`, finished pods always go — evicts the rest through the `pods/eviction`
subresource (or deletes them with `--disable-eviction`, or when the server has no eviction), waits
until they are gone and says `node/n1 drained`.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import DryRunOption, SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"

NodeArgs = Annotated[list[str] | None, typer.Argument(help="NODE...", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("cordon", help="Mark node as unschedulable.")(cordon)
    app.command("uncordon", help="Mark node as schedulable.")(uncordon)
    app.command("drain", help="Drain node in preparation for maintenance.")(drain)


def _nodes(connection: Connection, names: list[str], selector: str | None) -> list[dict]:
    from cli.client.errors import CliError
    from cli.client.targets import get_object, list_items

    resource = connection.discovery.resolve("nodes")
    if names:
        return [get_object(connection.client, resource, name, namespace=None) for name in names]
    if selector:
        return list_items(connection.client, resource, namespace=None, label_selector=selector)
    raise CliError("USAGE: cordon NODE [flags]\nSee 'orc cordon -h' for help and examples")


def set_schedulable(connection: Connection, node: dict, *, unschedulable: bool, dry_run: str | None) -> str:
    """Patch the node unless it already is so; return kubectl's word for what happened."""
    from cli.client.api import PATCH_CONTENT_TYPES

    name = (node.get("metadata") or {}).get("name", "")
    word = "cordoned" if unschedulable else "uncordoned"
    if bool((node.get("spec") or {}).get("unschedulable")) == unschedulable:
        return f"already {word}"
    if dry_run != "client":
        connection.client.request("PATCH", connection.discovery.resolve("nodes").path(None, name),
                                  body={"spec": {"unschedulable": True if unschedulable else None}},
                                  content_type=PATCH_CONTENT_TYPES["strategic"],
                                  params={"dryRun": "All"} if dry_run == "server" else None)
    return word


def _change_nodes(connection: Connection, names: list[str] | None, selector: str | None, *, unschedulable: bool,
                  dry_run: str) -> None:
    from cli.client.apply import dry_run_suffix
    from cli.client.options import parse_dry_run

    dry_run_mode = parse_dry_run(dry_run)
    for node in _nodes(connection, names or [], selector):
        outcome = set_schedulable(connection, node, unschedulable=unschedulable, dry_run=dry_run_mode)
        sys.stdout.write(f"node/{node['metadata']['name']} {outcome}{dry_run_suffix(dry_run_mode)}\n")
    sys.stdout.flush()


@verb
def cordon(connection: Connection, names: NodeArgs = None, selector: SelectorOption = None,
           dry_run: DryRunOption = "none") -> None:
    _change_nodes(connection, names, selector, unschedulable=True, dry_run=dry_run)


@verb
def uncordon(connection: Connection, names: NodeArgs = None, selector: SelectorOption = None,
             dry_run: DryRunOption = "none") -> None:
    _change_nodes(connection, names, selector, unschedulable=False, dry_run=dry_run)


# --- drain ----------------------------------------------------------------------------------------------

@dataclass
class DrainPlan:
    """Which pods of a node drain removes, and what it must warn about or refuse (kubectl's PodDeleteList)."""

    to_delete: list[dict] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def warning_text(self) -> str:
        return "; ".join(f"{reason}: {', '.join(pods)}" for reason, pods in self.warnings.items())

    def error_texts(self) -> list[str]:
        return [f"cannot delete {reason}: {', '.join(pods)}" for reason, pods in self.errors.items()]


def _controller(pod: dict) -> dict | None:
    return next((reference for reference in (pod.get("metadata") or {}).get("ownerReferences") or []
                 if reference.get("controller")), None)


def plan_drain(pods: list[dict], *, ignore_daemonsets: bool, force: bool, delete_emptydir_data: bool) -> DrainPlan:
    """Pure: kubectl drain's filters applied to the pods of one node."""
    plan = DrainPlan()
    for pod in pods:
        metadata = pod.get("metadata") or {}
        key = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        if MIRROR_POD_ANNOTATION in (metadata.get("annotations") or {}):
            continue  # the kubelet owns it; deleting it through the API does nothing
        finished = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        controller = _controller(pod)
        if controller is not None and controller.get("kind") == "DaemonSet" and not finished:
            if ignore_daemonsets:
                plan.warnings.setdefault(DAEMONSET_WARNING, []).append(key)
            else:
                plan.errors.setdefault(DAEMONSET_FATAL, []).append(key)
            continue
        if controller is None and not finished:
            if not force:
                plan.errors.setdefault(UNMANAGED_FATAL, []).append(key)
                continue
            plan.warnings.setdefault(UNMANAGED_WARNING, []).append(key)
        has_local_storage = any(volume.get("emptyDir") is not None for volume in (pod.get("spec") or {}).get("volumes")
                                or [])
        if has_local_storage and not finished:
            if not delete_emptydir_data:
                plan.errors.setdefault(LOCAL_STORAGE_FATAL, []).append(key)
                continue
            plan.warnings.setdefault(LOCAL_STORAGE_WARNING, []).append(key)
        plan.to_delete.append(pod)
    return plan


def _evict_or_delete(connection: Connection, pod: dict, *, use_eviction: bool, grace_period: int | None) -> str:
    """Remove one pod; return how (`evicted` or `deleted`)."""
    from cli.client.delete import delete_options
    from cli.client.errors import ServerError

    metadata = pod["metadata"]
    pods = connection.discovery.resolve("pods")
    options = delete_options(propagation="Background", grace_period=grace_period)
    # kubectl evicts when the server offers pods/eviction, and deletes otherwise.
    if use_eviction and "eviction" in pods.subresources:
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]},
                    "deleteOptions": options}
        sys.stdout.write(f"evicting pod {metadata['namespace']}/{metadata['name']}\n")
        sys.stdout.flush()
        try:
            connection.client.request("POST", pods.path(metadata["namespace"], metadata["name"], "eviction"),
                                      body=eviction)
            return "evicted"
        except ServerError as error:
            if not error.is_not_found:
                raise
        # kubectl takes a 404 as "the pod is gone"; when the pod is in fact still there (a server that
        # advertises pods/eviction without serving it), delete it instead of leaving it running.
        try:
            connection.client.get(pods.path(metadata["namespace"], metadata["name"]))
        except ServerError as error:
            if error.is_not_found:
                return "evicted"
            raise
    try:
        connection.client.request("DELETE", pods.path(metadata["namespace"], metadata["name"]), body=options)
    except ServerError as error:
        if not error.is_not_found:
            raise
    return "deleted"


@verb
def drain(
    connection: Connection,
    names: NodeArgs = None,
    selector: SelectorOption = None,
    ignore_daemonsets: Annotated[bool, typer.Option("--ignore-daemonsets", help="Ignore DaemonSet-managed pods.")]
    = False,
    force: Annotated[bool, typer.Option("--force", help="Continue even with pods that declare no controller.")]
    = False,
    delete_emptydir_data: Annotated[bool, typer.Option("--delete-emptydir-data", help="Continue even with pods "
                                                       "using emptyDir (their data is lost).")] = False,
    disable_eviction: Annotated[bool, typer.Option("--disable-eviction", help="Delete pods instead of evicting "
                                                   "them.")] = False,
    grace_period: Annotated[int, typer.Option("--grace-period", help="Seconds each pod gets to terminate; -1 uses "
                                              "the pod's.")] = -1,
    pod_selector: Annotated[str | None, typer.Option("--pod-selector", help="Only drain pods matching this "
                                                     "label selector.")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait before giving up (0: forever).")] = "0s",
    dry_run: DryRunOption = "none",
) -> None:
    from cli.client.apply import dry_run_suffix
    from cli.client.delete import Deleted, wait_until_gone
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run
    from cli.client.targets import list_items, parse_duration

    dry_run_mode = parse_dry_run(dry_run)
    wait_seconds = parse_duration(timeout, flag="--timeout") or None
    pods_resource = connection.discovery.resolve("pods")
    nodes = _nodes(connection, names or [], selector)
    for index, node in enumerate(nodes):
        node_name = node["metadata"]["name"]
        outcome = set_schedulable(connection, node, unschedulable=True, dry_run=dry_run_mode)
        sys.stdout.write(f"node/{node_name} {outcome}{dry_run_suffix(dry_run_mode)}\n")
        pods = list_items(connection.client, pods_resource, namespace=None, label_selector=pod_selector,
                          field_selector=f"spec.nodeName={node_name}")
        plan = plan_drain(pods, ignore_daemonsets=ignore_daemonsets, force=force,
                          delete_emptydir_data=delete_emptydir_data)
        if plan.errors:
            sys.stdout.flush()
            pending = "".join(f" {n['metadata']['name']}\n" for n in nodes[index:])
            texts = plan.error_texts()
            # Go's utilerrors.Aggregate: one error as is, several as [a, b].
            aggregate = texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"
            sys.stderr.write(f'error: unable to drain node "{node_name}" due to error: {aggregate}, continuing '
                             f"command...\nThere are pending nodes to be drained:\n{pending}")
            raise CliError("\n".join(plan.error_texts()), prefixed=False)
        if plan.warnings:
            sys.stderr.write(f"Warning: {plan.warning_text()}\n")
        removed: list[tuple[Deleted, str]] = []
        for pod in plan.to_delete:
            metadata = pod["metadata"]
            if dry_run_mode:
                sys.stdout.write(f"evicting pod {metadata['namespace']}/{metadata['name']}{dry_run_suffix(dry_run_mode)}"
                                 "\n")
                continue
            how = _evict_or_delete(connection, pod, use_eviction=not disable_eviction,
                                   grace_period=grace_period if grace_period >= 0 else None)
            removed.append((Deleted(pods_resource, metadata["name"], metadata["namespace"], metadata.get("uid")), how))
        for deleted, how in removed:
            wait_until_gone(connection, [deleted], timeout=wait_seconds)
            sys.stdout.write(f"pod/{deleted.name} {how}\n")
            sys.stdout.flush()
        sys.stdout.write(f"node/{node_name} drained{dry_run_suffix(dry_run_mode)}\n")
        sys.stdout.flush()
