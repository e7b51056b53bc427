"""`orc rollout status|history|undo|pause|resume|restart` for Deployments, as kubectl does them.

- status: watches the Deployment and prints kubectl's progress lines as they change
  (`Waiting for deployment "web" rollout to finish: 2 of 5 updated replicas are available...`) until
  `deployment "web" successfully rolled out` (or `--timeout`, or the progress deadline).
- history: the revisions of the Deployment's ReplicaSets (`deployment.kubernetes.io/revision`) with
  their `kubernetes.io/change-cause`; `--revision=N` shows that revision's pod template.
- undo: finds the ReplicaSet of `--to-revision` (default: the previous one) and sends kubectl's JSON
  patch replacing `/spec/template` and `/metadata/annotations` with that ReplicaSet's.
- pause/resume: strategic merge patches of `spec.paused`; restart: stamps the template with
  `kubectl.kubernetes.io/restartedAt`.

`split_replicasets` (old vs new ReplicaSets, deploymentutil's rules) is shared with describe, and
`wait_for_rollout` with `apply --wait`.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import DryRunOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
# Deployment annotations a rollback keeps from the Deployment rather than taking from the ReplicaSet.
ANNOTATIONS_TO_SKIP = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}

ResourceArgs = Annotated[list[str], typer.Argument(help="TYPE NAME or TYPE/NAME (deployments).")]


def register(app: typer.Typer) -> None:
    rollout_app = typer.Typer(help="Manage the rollout of one or many resources.", no_args_is_help=True)
    rollout_app.command("status", help="Show the status of the rollout.")(status)
    rollout_app.command("history", help="View rollout history.")(history)
    rollout_app.command("undo", help="Undo a previous rollout.")(undo)
    rollout_app.command("pause", help="Mark the provided resource as paused.")(pause)
    rollout_app.command("resume", help="Resume a paused resource.")(resume)
    rollout_app.command("restart", help="Restart a resource.")(restart)
    app.add_typer(rollout_app, name="rollout")


# --- ReplicaSets of a Deployment (deploymentutil) ------------------------------------------------------

def _metadata(document: dict) -> dict:
    return document.get("metadata") or {}


def revision_of(replicaset: dict) -> int | None:
    try:
        return int((_metadata(replicaset).get("annotations") or {}).get(REVISION_ANNOTATION))
    except (TypeError, ValueError):
        return None


def _without_hash(template: dict | None) -> dict:
    import copy

    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    metadata = template.get("metadata")
    if metadata is not None:
        # A template never has a creation time; kubectl's typed comparison cannot see `null` vs missing.
        metadata.pop("creationTimestamp", None)
    return template


def templates_equal(left: dict | None, right: dict | None) -> bool:
    """deploymentutil.EqualIgnoreHash: equal pod templates apart from the pod-template-hash label."""
    return _without_hash(left) == _without_hash(right)


def owned_replicasets(connection: Connection, deployment: dict) -> list[dict]:
    """The ReplicaSets the Deployment controls, oldest first."""
    from cli.client.describers import format_label_selector
    from cli.client.targets import list_items

    selector = format_label_selector((deployment.get("spec") or {}).get("selector"))
    replicasets = list_items(connection.client, connection.discovery.resolve("replicasets.apps"),
                             namespace=_metadata(deployment).get("namespace"),
                             label_selector=None if selector == "<none>" else selector)
    uid = _metadata(deployment).get("uid")
    owned = [rs for rs in replicasets if any(reference.get("controller") and reference.get("uid") == uid
                                             for reference in _metadata(rs).get("ownerReferences") or [])]
    return sorted(owned, key=lambda rs: (_metadata(rs).get("creationTimestamp") or "", _metadata(rs).get("name", "")))


def split_replicasets(connection: Connection, deployment: dict) -> tuple[list[dict], dict | None]:
    """(all old ReplicaSets, the new one or None), as deploymentutil.GetAllReplicaSets decides."""
    replicasets = owned_replicasets(connection, deployment)
    template = (deployment.get("spec") or {}).get("template")
    new_set = next((rs for rs in replicasets if templates_equal((rs.get("spec") or {}).get("template"), template)),
                   None)
    return [rs for rs in replicasets if rs is not new_set], new_set


# --- arguments -----------------------------------------------------------------------------------------

def _deployments(connection: Connection, args: list[str], *, verb_name: str) -> list[tuple[ApiResource, str]]:
    """The Deployments named by TYPE NAME... or TYPE/NAME...; other kinds are refused as kubectl does."""
    from cli.client.errors import CliError
    from cli.client.targets import resolve_targets

    selections = resolve_targets(connection, args, verb=f"rollout {verb_name}", require_names=True)
    found = []
    for selection in selections:
        resource = selection.resource
        if (resource.group, resource.kind) != ("apps", "Deployment"):
            raise CliError(f"no {'status viewer' if verb_name == 'status' else verb_name + 'er'} has been "
                           f"implemented for {resource.kind_with_group}")
        found += [(resource, name) for name in selection.names]
    return found


# --- status ---------------------------------------------------------------------------------------------

def rollout_status(deployment: dict, *, revision: int = 0) -> tuple[str, bool]:
    """kubectl's DeploymentStatusViewer: the line to print and whether the rollout is complete."""
    from cli.client.errors import CliError

    metadata, spec, status = _metadata(deployment), deployment.get("spec") or {}, deployment.get("status") or {}
    name = metadata.get("name", "")
    if revision > 0:
        current = revision_of(deployment)
        if current != revision:
            raise CliError(f"desired revision ({revision}) is different from the running revision ({current or 0})")
    if metadata.get("generation", 0) <= status.get("observedGeneration", 0):
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Progressing" and condition.get("reason") == TIMED_OUT_REASON:
                raise CliError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas")
        updated = status.get("updatedReplicas", 0)
        if replicas is not None and updated < replicas:
            return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} new replicas have '
                    "been updated...", False)
        if status.get("replicas", 0) > updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {status.get("replicas", 0) - updated} old '
                    "replicas are pending termination...", False)
        if status.get("availableReplicas", 0) < updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {status.get("availableReplicas", 0)} of '
                    f"{updated} updated replicas are available...", False)
        return f'deployment "{name}" successfully rolled out', True
    return "Waiting for deployment spec update to be observed...", False


def wait_for_rollout(connection: Connection, resource: ApiResource, name: str, *, namespace: str | None,
                     timeout: float | None, revision: int = 0, watch: bool = True) -> None:
    """Print the rollout's progress each time it changes until it completes (or time runs out)."""
    from cli.client.api import loads
    from cli.client.errors import CliError
    from cli.client.targets import get_object

    deadline = None if timeout is None else time.monotonic() + timeout
    last_line = None

    def show(document: dict) -> bool:
        nonlocal last_line
        line, done = rollout_status(document, revision=revision)
        if line != last_line:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            last_line = line
        return done

    current = get_object(connection.client, resource, name, namespace=namespace)
    if show(current) or not watch:
        return
    resource_version = _metadata(current).get("resourceVersion")
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise CliError("timed out waiting for the condition")
        params: dict[str, Any] = {"watch": True, "fieldSelector": f"metadata.name={name}",
                                  "resourceVersion": resource_version,
                                  "timeoutSeconds": max(1, int(remaining)) if remaining is not None else None}
        for line in connection.client.stream(resource.path(namespace), params=params):
            event = loads(line)
            if event.get("type") == "ERROR":
                resource_version = None  # expired: start from the current state
                break
            document = event.get("object") or {}
            resource_version = _metadata(document).get("resourceVersion") or resource_version
            if event.get("type") == "DELETED":
                raise CliError("object has been deleted")
            if event.get("type") in ("ADDED", "MODIFIED") and show(document):
                return
        if resource_version is None:
            current = get_object(connection.client, resource, name, namespace=namespace)
            if show(current):
                return
            resource_version = _metadata(current).get("resourceVersion")


@verb
def status(
    connection: Connection,
    args: ResourceArgs,
    watch: Annotated[bool, typer.Option("--watch/--no-watch", "-w", help="Watch the status until the rollout ends.")]
    = True,
    revision: Annotated[int, typer.Option("--revision", help="Pin to a specific revision (0: latest).")] = 0,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait (e.g. 5m); 0 means forever.")] = "0s",
) -> None:
    from cli.client.targets import parse_duration

    seconds = parse_duration(timeout, flag="--timeout") or None
    for resource, name in _deployments(connection, args, verb_name="status"):
        wait_for_rollout(connection, resource, name, namespace=connection.namespace, timeout=seconds,
                         revision=revision, watch=watch)


# --- history --------------------------------------------------------------------------------------------

def revision_history(connection: Connection, deployment: dict) -> dict[int, dict]:
    """revision -> that revision's pod template (change-cause copied into its annotations, as kubectl does)."""
    import copy

    old_sets, new_set = split_replicasets(connection, deployment)
    history: dict[int, dict] = {}
    for replicaset in old_sets + ([new_set] if new_set else []):
        revision = revision_of(replicaset)
        if revision is None:
            continue
        template = copy.deepcopy((replicaset.get("spec") or {}).get("template") or {})
        change_cause = (_metadata(replicaset).get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        if change_cause:
            template.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE_ANNOTATION] = change_cause
        history[revision] = template
    return history


def format_history(history: dict[int, dict]) -> str:
    from cli.client.tabwriter import TabWriter

    writer = TabWriter(min_width=0, padding=2)
    writer.write("REVISION\tCHANGE-CAUSE\n")
    for revision in sorted(history):
        cause = ((history[revision].get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        writer.write(f"{revision}\t{cause or '<none>'}\n")
    return writer.flush()


def format_template(template: dict) -> str:
    """kubectl's printTemplate: the describe Pod Template section, unaligned (no tabwriter)."""
    from cli.client.describers import DescribeWriter, describe_pod_template

    writer = DescribeWriter(aligned=False)
    describe_pod_template(writer, template)
    return writer.text()


@verb
def history(
    connection: Connection,
    args: ResourceArgs,
    revision: Annotated[int, typer.Option("--revision", help="See the details of this revision.")] = 0,
) -> None:
    from cli.client.errors import CliError
    from cli.client.targets import get_object

    for resource, name in _deployments(connection, args, verb_name="history"):
        deployment = get_object(connection.client, resource, name, namespace=connection.namespace)
        revisions = revision_history(connection, deployment)
        if not revisions:
            text = "No rollout history found."
        elif revision > 0:
            if revision not in revisions:
                raise CliError("unable to find the specified revision")
            text = format_template(revisions[revision])
        else:
            text = format_history(revisions)
        operation = f"with revision #{revision}" if revision > 0 else ""
        sys.stdout.write(f"{resource.object_ref(name)} {operation}\n{text}\n")
        sys.stdout.flush()


# --- undo -----------------------------------------------------------------------------------------------

def replicaset_for_revision(connection: Connection, deployment: dict, to_revision: int) -> dict:
    """The ReplicaSet of `to_revision`, or for 0 the one before the latest (kubectl's deploymentRevision)."""
    from cli.client.errors import CliError

    old_sets, new_set = split_replicasets(connection, deployment)
    latest, latest_revision, previous, previous_revision = None, -1, None, -1
    for replicaset in old_sets + ([new_set] if new_set else []):
        revision = revision_of(replicaset)
        if revision is None:
            continue
        if to_revision == 0:
            if latest_revision < revision:
                previous, previous_revision = latest, latest_revision
                latest, latest_revision = replicaset, revision
            elif previous_revision < revision:
                previous, previous_revision = replicaset, revision
        elif to_revision == revision:
            return replicaset
    if to_revision > 0:
        raise CliError(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise CliError(f'no rollout history found for deployment "{_metadata(deployment).get("name", "")}"')
    return previous


def rollback_patch(deployment: dict, replicaset: dict) -> list[dict]:
    """kubectl's getDeploymentPatch: replace the template and the annotations with the ReplicaSet's."""
    import copy

    template = copy.deepcopy((replicaset.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    # kubectl sends Go's PodTemplateSpec, whose metadata always carries `creationTimestamp: null`.
    template["metadata"] = {"creationTimestamp": None, **(template.get("metadata") or {})}
    current_annotations = _metadata(deployment).get("annotations") or {}
    annotations = {key: value for key, value in current_annotations.items() if key in ANNOTATIONS_TO_SKIP}
    annotations.update({key: value for key, value in (_metadata(replicaset).get("annotations") or {}).items()
                        if key not in ANNOTATIONS_TO_SKIP})
    return [{"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations}]


@verb
def undo(
    connection: Connection,
    args: ResourceArgs,
    to_revision: Annotated[int, typer.Option("--to-revision", help="The revision to roll back to (0: the "
                                                                   "previous one).")] = 0,
    dry_run: DryRunOption = "none",
) -> None:
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run
    from cli.client.targets import get_object

    dry_run_mode = parse_dry_run(dry_run)
    if to_revision < 0:
        raise CliError(f"unable to find specified revision {to_revision} in history")
    for resource, name in _deployments(connection, args, verb_name="rollback"):
        deployment = get_object(connection.client, resource, name, namespace=connection.namespace)
        replicaset = replicaset_for_revision(connection, deployment, to_revision)
        if dry_run_mode == "client":
            sys.stdout.write(f"{resource.object_ref(name)} {format_template(replicaset['spec']['template'])} (dry run)\n")
            continue
        if (deployment.get("spec") or {}).get("paused"):
            raise CliError("you cannot rollback a paused deployment; resume it first with 'orc rollout resume' and "
                           "try again")
        if templates_equal((replicaset.get("spec") or {}).get("template"), (deployment.get("spec") or {}).get("template")):
            revision = revision_of(replicaset) if to_revision == 0 else to_revision
            sys.stdout.write(f"{resource.object_ref(name)} skipped rollback (current template already matches "
                             f"revision {revision})\n")
            continue
        connection.client.request("PATCH", resource.path(connection.namespace, name),
                                  body=rollback_patch(deployment, replicaset), content_type=PATCH_CONTENT_TYPES["json"],
                                  params={"dryRun": "All"} if dry_run_mode == "server" else None)
        suffix = " (server dry run)" if dry_run_mode == "server" else ""
        sys.stdout.write(f"{resource.object_ref(name)} rolled back{suffix}\n")
    sys.stdout.flush()


# --- pause, resume, restart -----------------------------------------------------------------------------

def _patch_each(connection: Connection, args: list[str], *, verb_name: str,
                patch_for: Any, done: str) -> None:
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.apply import finish
    from cli.client.errors import CliError
    from cli.client.targets import get_object

    errors: list[Exception] = []
    for resource, name in _deployments(connection, args, verb_name=verb_name):
        deployment = get_object(connection.client, resource, name, namespace=connection.namespace)
        try:
            patch = patch_for(deployment)
        except ValueError as problem:
            errors.append(CliError(f'{resource.qualified_name} "{name}" {problem}'))
            continue
        connection.client.request("PATCH", resource.path(connection.namespace, name), body=patch,
                                  content_type=PATCH_CONTENT_TYPES["strategic"])
        sys.stdout.write(f"{resource.object_ref(name)} {done}\n")
        sys.stdout.flush()
    finish(errors)


def _pause_patch(deployment: dict) -> dict:
    if (deployment.get("spec") or {}).get("paused"):
        raise ValueError("is already paused")
    return {"spec": {"paused": True}}


def _resume_patch(deployment: dict) -> dict:
    if not (deployment.get("spec") or {}).get("paused"):
        raise ValueError("is not paused")
    return {"spec": {"paused": None}}


def _restart_patch(deployment: dict) -> dict:
    from datetime import datetime

    if (deployment.get("spec") or {}).get("paused"):
        raise ValueError("can't restart paused deployment (run rollout resume first)")
    stamp = datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: stamp}}}}}


@verb
def pause(connection: Connection, args: ResourceArgs) -> None:
    _patch_each(connection, args, verb_name="pause", patch_for=_pause_patch, done="paused")


@verb
def resume(connection: Connection, args: ResourceArgs) -> None:
    _patch_each(connection, args, verb_name="resume", patch_for=_resume_patch, done="resumed")


@verb
def restart(connection: Connection, args: ResourceArgs) -> None:
    _patch_each(connection, args, verb_name="restart", patch_for=_restart_patch, done="restarted")
