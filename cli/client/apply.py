"""`orc apply -f` and `orc replace -f`: declarative changes, interchangeable with kubectl's.

`apply` is kubectl's client-side apply: for each document it sets the namespace, records the file's
content in the `kubectl.kubernetes.io/last-applied-configuration` annotation exactly as kubectl
writes it (Go's compact JSON with sorted keys and a trailing newline), creates the object when it is
missing, and otherwise PATCHes the three-way strategic merge patch between the last-applied
configuration, the file and the live object (orchestrator/apiserver/patch.py), printing
`deployment.apps/web created|configured|unchanged`. So `orc apply` and `kubectl apply` can follow
each other on one object. A failing document does not stop the others; the exit code says one failed.
`replace` PUTs each document whole.

`apply_documents` is also what `orc create -f` builds on (cli/client/create.py).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import DryRunOption, FilenameOption, OutputOption, RecursiveOption, SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.api import ApiClient
    from cli.client.connection import Connection
    from cli.client.manifests import Manifest
    from cli.client.printers import OutputFormat
    from cli.client.prune import AppliedKey
    from cli.client.resources import ApiResource

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
APPLY_FIELD_MANAGER = "kubectl-client-side-apply"
MAX_PATCH_RETRIES = 5


def register(app: typer.Typer) -> None:
    app.command("apply", help="Apply a configuration to a resource by file name or stdin.")(apply)
    app.command("replace", help="Replace a resource by file name or stdin.")(replace)


# --- the pieces shared by apply, create -f and replace ------------------------------------------

@dataclass
class Target:
    """One document of -f, with the resource it is and the namespace it goes to."""

    manifest: Manifest
    resource: ApiResource
    namespace: str | None

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def ref(self) -> str:
        return self.resource.object_ref(self.name)


def iter_targets(connection: Connection, filenames: list[str], *, recursive: bool,
                 selector: str | None = None) -> Iterator[Target | Exception]:
    """Each document of the -f files resolved to its resource and namespace, or the error that stops it."""
    from cli.client.errors import CliError
    from cli.client.manifests import iter_manifests
    from cli.client.targets import namespace_mismatch

    label_filter = _label_filter(selector) if selector else None
    for manifest in iter_manifests(filenames, recursive=recursive):
        if isinstance(manifest, Exception):
            yield manifest
            continue
        try:
            resource = connection.discovery.for_kind(manifest.api_version, manifest.kind)
        except CliError as error:
            # kubectl adds a second line, "ensure CRDs are installed first"; this cluster has no CRDs.
            yield CliError(f'resource mapping not found for name: "{manifest.name}" namespace: '
                           f'"{manifest.namespace}" from "{manifest.source}": {error.message}')
            continue
        if not manifest.name and not (manifest.document.get("metadata") or {}).get("generateName"):
            yield CliError(f'error when retrieving current configuration of {resource.kind} from "{manifest.source}":'
                           " resource name may not be empty")
            continue
        if label_filter is not None and not label_filter((manifest.document.get("metadata") or {}).get("labels") or {}):
            continue
        namespace = None
        if resource.namespaced:
            if manifest.namespace and connection.namespace_is_explicit and manifest.namespace != connection.namespace:
                yield namespace_mismatch(manifest.namespace, connection.namespace)
                continue
            namespace = manifest.namespace or connection.namespace
            manifest.document.setdefault("metadata", {})["namespace"] = namespace
        yield Target(manifest, resource, namespace)


def _label_filter(selector: str) -> Callable[[dict], bool]:
    """A predicate for `-l` on the objects of files (equality, inequality, set and existence terms)."""
    import re

    terms = []
    for term in re.split(r",(?![^()]*\))", selector):
        term = term.strip()
        if not term:
            continue
        match = re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if match:
            key, operator, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if operator == "in":
                terms.append(lambda labels, k=key, v=values: labels.get(k) in v)
            else:  # notin also matches objects without the label
                terms.append(lambda labels, k=key, v=values: labels.get(k) not in v)
            continue
        match = re.fullmatch(r"([^\s!=]+)\s*(==|=|!=)\s*(\S*)", term)
        if match:
            key, operator, value = match.groups()
            if operator == "!=":
                terms.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                terms.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        if term.startswith("!"):
            terms.append(lambda labels, k=term[1:]: k not in labels)
        else:
            terms.append(lambda labels, k=term: k in labels)
    return lambda labels: all(term(labels) for term in terms)


def with_last_applied(document: dict) -> dict:
    """The document carrying its own last-applied-configuration annotation (kubectl's GetModifiedConfiguration).

    The annotation is the document without that annotation, as Go's json.Marshal writes it plus a
    newline; the document's other annotations stay, and `annotations: {}` appears when it had none.
    """
    from cli.client.printers import go_json

    modified = copy.deepcopy(document)
    metadata = modified.setdefault("metadata", {})
    annotations = dict(metadata.get("annotations") or {})
    annotations.pop(LAST_APPLIED_ANNOTATION, None)
    metadata["annotations"] = annotations
    recorded = go_json(modified) + "\n"
    metadata["annotations"] = {**annotations, LAST_APPLIED_ANNOTATION: recorded}
    return modified


def last_applied(current: dict) -> dict | None:
    """The configuration last applied to a live object, from its annotation (None when it has none)."""
    import json

    text = ((current.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED_ANNOTATION)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def patch_model(resource: ApiResource) -> Any:
    """The API model holding the kind's strategic-merge-patch metadata (None: use a JSON merge patch)."""
    try:
        from orchestrator.apiserver.registry import REGISTRY
    except ImportError:
        return None
    info = REGISTRY.by_kind(resource.group, resource.kind)
    return info.model if info is not None else None


def write_params(*, field_manager: str, dry_run: str | None) -> dict[str, Any]:
    return {"fieldManager": field_manager, "fieldValidation": "Strict",
            "dryRun": "All" if dry_run == "server" else None}


def dry_run_suffix(dry_run: str | None) -> str:
    return {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run or "", "")


def report(result: dict | None, target_ref: str, verb_done: str, *, output: OutputFormat | None, dry_run: str | None,
           resource: ApiResource) -> None:
    """Print what happened to one object: `deployment.apps/web created`, or the object in the -o format."""
    from cli.client.printers import format_generic

    if output is not None and output.kind and result is not None:
        result.setdefault("apiVersion", resource.api_version)
        result.setdefault("kind", resource.kind)
        sys.stdout.write(format_generic(result, output, resource_of=lambda _document: resource))
    else:
        sys.stdout.write(f"{target_ref} {verb_done}{dry_run_suffix(dry_run)}\n")
    sys.stdout.flush()


def create_object(client: ApiClient, target: Target, body: dict, *, dry_run: str | None, field_manager: str) -> dict:
    """POST one object (nothing is sent for a client dry run)."""
    if dry_run == "client":
        return body
    return client.request("POST", target.resource.path(target.namespace), body=body,
                          params=write_params(field_manager=field_manager, dry_run=dry_run)) or {}


def finish(errors: list[Exception]) -> None:
    """Raise what failed, after every document was tried."""
    from cli.client.errors import ErrorList

    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


# --- apply ---------------------------------------------------------------------------------------

def apply_target(connection: Connection, target: Target, *, dry_run: str | None, field_manager: str,
                 output: OutputFormat | None) -> str:
    """Apply one document; return what happened ("created", "configured" or "unchanged")."""
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.errors import ServerError
    from orchestrator.apiserver.patch import create_three_way_json_merge_patch, create_three_way_merge_patch

    client = connection.client
    resource = target.resource
    modified = with_last_applied(target.manifest.document)
    path = resource.path(target.namespace, target.name)
    source = target.manifest.source
    for attempt in range(1, MAX_PATCH_RETRIES + 1):
        try:
            current = client.get(path)
        except ServerError as error:
            if not error.is_not_found:
                raise error.with_source("retrieving current configuration of", source) from None
            try:
                created = create_object(client, target, modified, dry_run=dry_run, field_manager=field_manager)
            except ServerError as create_error:
                raise create_error.with_source("creating", source) from None
            report(created, target.ref, "created", output=output, dry_run=dry_run, resource=resource)
            return "created"
        original = last_applied(current)
        if original is None:
            sys.stderr.write(
                f"Warning: resource {resource.name}/{target.name} is missing the {LAST_APPLIED_ANNOTATION} "
                "annotation which is required by orc apply. orc apply should only be used on resources created "
                "declaratively by either orc create --save-config or orc apply. The missing annotation will be "
                "patched automatically.\n")
        model = patch_model(resource)
        if model is not None:
            patch = create_three_way_merge_patch(original, modified, current, model=model)
            content_type = PATCH_CONTENT_TYPES["strategic"]
        else:
            patch = create_three_way_json_merge_patch(original, modified, current)
            content_type = PATCH_CONTENT_TYPES["merge"]
        if not patch:
            report(current, target.ref, "unchanged", output=output, dry_run=dry_run, resource=resource)
            return "unchanged"
        if dry_run == "client":
            report(current, target.ref, "configured", output=output, dry_run=dry_run, resource=resource)
            return "configured"
        try:
            patched = client.request("PATCH", path, body=patch, content_type=content_type,
                                     params=write_params(field_manager=field_manager, dry_run=dry_run))
        except ServerError as error:
            if error.is_conflict and attempt < MAX_PATCH_RETRIES:
                continue
            raise error.with_source("patching", source) from None
        report(patched, target.ref, "configured", output=output, dry_run=dry_run, resource=resource)
        return "configured"
    raise AssertionError("unreachable")


@verb
def apply(
    connection: Connection,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    selector: SelectorOption = None,
    field_manager: Annotated[str, typer.Option("--field-manager", help="Name of the manager tracking field ownership.")]
    = APPLY_FIELD_MANAGER,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for applied Deployments to finish rolling out.")] = False,
    timeout: Annotated[str, typer.Option("--timeout", help="How long --wait waits (e.g. 5m); 0 means forever.")] = "0s",
    server_side: Annotated[bool, typer.Option("--server-side", help="Not supported: orc applies client-side.",
                                              hidden=True)] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete objects applied before (with the "
                                        "last-applied annotation) that the files no longer declare; needs -l or "
                                        "--all.")] = False,
    select_all: Annotated[bool, typer.Option("--all", help="With --prune: consider every applied object of the "
                                             "namespaces, not only those matching -l.")] = False,
) -> None:
    from cli.client.errors import CliError
    from cli.client.manifests import require_filenames
    from cli.client.options import parse_dry_run
    from cli.client.printers import parse_output
    from cli.client.prune import applied_key

    if server_side:
        raise CliError("--server-side apply is not supported by orc yet; use client-side apply (the default)")
    if prune and not selector and not select_all:
        raise CliError("all resources selected for prune without explicitly passing --all. To prune all resources, "
                       "pass the --all flag. If you did not mean to prune all resources, specify a label selector")
    filenames = require_filenames(filename, verb="apply")
    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    errors: list[Exception] = []
    deployments: list[Target] = []
    applied_any = False
    applied: set[AppliedKey] = set()
    namespaces: set[str] = set()
    for target in iter_targets(connection, filenames, recursive=recursive, selector=selector):
        if isinstance(target, Exception):
            errors.append(target)
            continue
        applied_any = True
        applied.add(applied_key(target.resource, target.namespace, target.name))
        if target.resource.namespaced and target.namespace:
            namespaces.add(target.namespace)
        try:
            apply_target(connection, target, dry_run=dry_run_mode, field_manager=field_manager, output=output_format)
        except Exception as error:  # noqa: BLE001 - one document's failure must not stop the others
            if not _is_reportable(error):
                raise
            errors.append(error)
            continue
        if target.resource.kind == "Deployment" and target.resource.group == "apps":
            deployments.append(target)
    if not applied_any and not errors:
        raise CliError("no objects passed to apply")
    if prune and not errors:  # as kubectl: nothing is pruned when an object could not be applied
        from cli.client.prune import prune as prune_objects

        prune_objects(connection, applied=applied, namespaces=namespaces or {connection.namespace},
                      selector=selector, dry_run=dry_run_mode)
    if wait and not dry_run_mode and not errors:
        _wait_for_rollouts(connection, deployments, timeout=timeout)
    finish(errors)


def _is_reportable(error: Exception) -> bool:
    from cli.client.errors import CliError, ConnectionFailed, ServerError

    return isinstance(error, (CliError, ServerError, ConnectionFailed))


def _wait_for_rollouts(connection: Connection, deployments: list[Target], *, timeout: str) -> None:
    from cli.client.rollout import wait_for_rollout
    from cli.client.targets import parse_duration

    seconds = parse_duration(timeout, flag="--timeout") or None
    for target in deployments:
        wait_for_rollout(connection, target.resource, target.name, namespace=target.namespace, timeout=seconds)


# --- replace -------------------------------------------------------------------------------------

@verb
def replace(
    connection: Connection,
    filename: FilenameOption = None,
    recursive: RecursiveOption = False,
    dry_run: DryRunOption = "none",
    output: OutputOption = None,
    force: Annotated[bool, typer.Option("--force", help="Delete and re-create the resource.")] = False,
    save_config: Annotated[bool, typer.Option("--save-config", help="Record the configuration in the "
                                              "last-applied-configuration annotation.")] = False,
) -> None:
    from cli.client.errors import ServerError
    from cli.client.manifests import require_filenames
    from cli.client.options import parse_dry_run
    from cli.client.printers import parse_output

    filenames = require_filenames(filename, verb="replace")
    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    client = connection.client
    errors: list[Exception] = []
    for target in iter_targets(connection, filenames, recursive=recursive):
        if isinstance(target, Exception):
            errors.append(target)
            continue
        body = with_last_applied(target.manifest.document) if save_config else copy.deepcopy(target.manifest.document)
        path = target.resource.path(target.namespace, target.name)
        params = write_params(field_manager="kubectl-replace", dry_run=dry_run_mode)
        try:
            if force:
                _force_replace(connection, target, body, dry_run=dry_run_mode, output=output_format)
                continue
            current = client.get(path)
            if not (body.get("metadata") or {}).get("resourceVersion"):
                # kubectl replace sends the live resourceVersion when the file has none.
                body["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
            result = body if dry_run_mode == "client" else client.request("PUT", path, body=body, params=params)
        except ServerError as error:
            errors.append(error.with_source("replacing", target.manifest.source))
            continue
        report(result, target.ref, "replaced", output=output_format, dry_run=dry_run_mode, resource=target.resource)
    finish(errors)


def _force_replace(connection: Connection, target: Target, body: dict, *, dry_run: str | None,
                   output: OutputFormat | None) -> None:
    from cli.client.delete import delete_and_wait

    if dry_run != "client":
        delete_and_wait(connection, target.resource, target.name, namespace=target.namespace,
                        propagation="Background", grace_period=None, wait=True, timeout=None, quiet=False)
    (body.get("metadata") or {}).pop("resourceVersion", None)
    created = create_object(connection.client, target, body, dry_run=dry_run, field_manager="kubectl-replace")
    report(created, target.ref, "replaced", output=output, dry_run=dry_run, resource=target.resource)
