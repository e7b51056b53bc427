"""The verbs that change part of live objects: `scale`, `set image`, `label`, `annotate`, `patch`.

Each does what kubectl does on the wire and prints what kubectl prints:

- scale: a merge patch of the `scale` subresource (`deployment.apps/web scaled`), with the
  `--current-replicas` precondition;
- set image: a strategic merge patch of the named containers' images (`... image updated`, nothing
  when the images already match; `*=IMAGE` sets every container);
- label / annotate: `KEY=VALUE` and `KEY-` as a JSON merge patch of the metadata, refusing to change
  a value without `--overwrite` (`pod/p labeled|unlabeled|not labeled`, `annotated`);
- patch: `-p` as a strategic (default), merge or JSON patch (`patched` / `patched (no change)`).

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import AllNamespacesOption, DryRunOption, FilenameOption, OutputOption, SelectorOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource

ResourceArgs = Annotated[list[str] | None, typer.Argument(help="TYPE NAME... or TYPE/NAME...", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("scale", help="Set a new size for a deployment or replica set.")(scale)
    app.command("label", help="Update the labels on a resource.")(label)
    app.command("annotate", help="Update the annotations on a resource.")(annotate)
    app.command("patch", help="Update fields of a resource using a strategic merge, JSON merge or JSON patch.")(
        patch)
    set_app = typer.Typer(help="Configure application resources.", no_args_is_help=True)
    set_app.command("image", help="Update the image of a pod template.")(set_image)
    app.add_typer(set_app, name="set")


def _objects(connection: Connection, args: list[str], *, verb_name: str, filenames: list[str] | None,
             selector: str | None = None, all_objects: bool = False,
             all_namespaces: bool = False) -> tuple[list[tuple[ApiResource, dict]], list[Exception]]:
    """The live objects the arguments (or -f, -l, --all) name, and the ones that could not be read.

    As kubectl, a verb acts on what it found and reports the rest at the end (cli.client.apply.finish).
    """
    from cli.client.errors import CliError
    from cli.client.targets import manifest_targets, objects_of, resolve_targets

    errors: list[Exception] = []
    if filenames:
        selections, errors = manifest_targets(connection, filenames, recursive=False)
    else:
        if not args:
            raise CliError("You must provide one or more resources by argument or filename.")
        selections = resolve_targets(connection, args, verb=verb_name, all_namespaces=all_namespaces)
        if not any(selection.names for selection in selections) and not selector and not all_objects:
            raise CliError("resource(s) were provided, but no name was specified")
    found: list[tuple[ApiResource, dict]] = []
    for selection in selections:
        for document in objects_of(connection, selection, label_selector=selector, errors=errors):
            found.append((selection.resource, document))
    return found, errors


def _name_and_namespace(document: dict) -> tuple[str, str | None]:
    metadata = document.get("metadata") or {}
    return metadata.get("name", ""), metadata.get("namespace") or None


# --- scale --------------------------------------------------------------------------------------------

@verb
def scale(
    connection: Connection,
    args: ResourceArgs = None,
    replicas: Annotated[int | None, typer.Option("--replicas", help="The new desired number of replicas.")] = None,
    current_replicas: Annotated[int, typer.Option("--current-replicas", help="Precondition for the current size; "
                                                  "-1 for none.")] = -1,
    filename: FilenameOption = None,
    selector: SelectorOption = None,
    all_objects: Annotated[bool, typer.Option("--all", help="Select all resources in the namespace.")] = False,
    dry_run: DryRunOption = "none",
) -> None:
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.apply import dry_run_suffix, finish
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run

    if replicas is None:
        raise CliError('required flag(s) "replicas" not set')
    if replicas < 0:
        raise CliError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    dry_run_mode = parse_dry_run(dry_run)
    found, errors = _objects(connection, args or [], verb_name="scale", filenames=filename, selector=selector,
                             all_objects=all_objects)
    for resource, document in found:
        if "scale" not in resource.subresources:
            raise CliError(f"no scaler has been implemented for {{{resource.group} {resource.kind}}}")
        name, namespace = _name_and_namespace(document)
        if current_replicas >= 0:
            current = (connection.client.get(resource.path(namespace, name, "scale")) or {}).get("spec", {})
            if current.get("replicas", 0) != current_replicas:
                raise CliError(f"Expected replicas to be {current_replicas}, was {current.get('replicas', 0)}")
        if dry_run_mode != "client":
            connection.client.request("PATCH", resource.path(namespace, name, "scale"),
                                      body={"spec": {"replicas": replicas}}, content_type=PATCH_CONTENT_TYPES["merge"],
                                      params={"dryRun": "All"} if dry_run_mode == "server" else None)
        sys.stdout.write(f"{resource.object_ref(name)} scaled{dry_run_suffix(dry_run_mode)}\n")
    sys.stdout.flush()
    finish(errors)


# --- set image ----------------------------------------------------------------------------------------

def pod_spec_path(resource: ApiResource) -> list[str]:
    """Where a kind keeps its pod spec: `spec` for pods, `spec.template.spec` for the workloads."""
    return ["spec"] if resource.kind == "Pod" else ["spec", "template", "spec"]


def _nested(document: dict, path: list[str]) -> dict:
    for key in path:
        document = document.get(key) or {}
    return document


def _wrap(path: list[str], value: Any) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


def image_patch(resource: ApiResource, document: dict, images: dict[str, str]) -> tuple[dict | None, list[str]]:
    """The strategic merge patch setting the images (None when nothing changes), and the names not found."""
    pod_spec = _nested(document, pod_spec_path(resource))
    changes: dict[str, list[dict]] = {}
    matched: set[str] = set()
    for field in ("initContainers", "containers"):
        for container in pod_spec.get(field) or []:
            name = container.get("name", "")
            wanted = images.get(name, images.get("*"))
            if wanted is None:
                continue
            matched.add(name)
            if container.get("image") != wanted:
                changes.setdefault(field, []).append({"name": name, "image": wanted})
    missing = [name for name in images if name != "*" and name not in matched]
    if not changes:
        return None, missing
    return _wrap(pod_spec_path(resource), changes), missing


@verb
def set_image(
    connection: Connection,
    args: Annotated[list[str], typer.Argument(help="TYPE NAME CONTAINER=IMAGE... or TYPE/NAME CONTAINER=IMAGE...")],
    filename: FilenameOption = None,
    selector: SelectorOption = None,
    all_objects: Annotated[bool, typer.Option("--all", help="Select all resources in the namespace.")] = False,
    dry_run: DryRunOption = "none",
) -> None:
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.apply import dry_run_suffix, finish
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run

    resource_args = [argument for argument in args if "=" not in argument]
    image_args = [argument for argument in args if "=" in argument]
    if not image_args:
        raise CliError("at least one image update is required")
    images = dict(argument.split("=", 1) for argument in image_args)
    dry_run_mode = parse_dry_run(dry_run)
    found, errors = _objects(connection, resource_args, verb_name="set image", filenames=filename,
                             selector=selector, all_objects=all_objects)
    for resource, document in found:
        name, namespace = _name_and_namespace(document)
        body, missing = image_patch(resource, document, images)
        if missing:
            raise CliError(f'unable to find container named "{missing[0]}"')
        if body is None:
            continue  # kubectl says nothing when the images already match
        if dry_run_mode != "client":
            connection.client.request("PATCH", resource.path(namespace, name), body=body,
                                      content_type=PATCH_CONTENT_TYPES["strategic"],
                                      params={"fieldManager": "kubectl-set",
                                              "dryRun": "All" if dry_run_mode == "server" else None})
        sys.stdout.write(f"{resource.object_ref(name)} image updated{dry_run_suffix(dry_run_mode)}\n")
    sys.stdout.flush()
    finish(errors)


# --- label and annotate --------------------------------------------------------------------------------

def split_changes(args: list[str], *, what: str) -> tuple[list[str], dict[str, str], list[str]]:
    """(resource arguments, KEY=VALUE to set, KEY- to remove), kubectl's parsing from the end."""
    from cli.client.errors import CliError

    resource_args: list[str] = []
    to_set: dict[str, str] = {}
    to_remove: list[str] = []
    for argument in args:
        if "=" in argument:
            key, value = argument.split("=", 1)
            if not key:
                raise CliError(f"invalid {what} spec: {argument}")
            to_set[key] = value
        elif argument.endswith("-") and len(argument) > 1 and (to_set or to_remove or resource_args):
            to_remove.append(argument[:-1])
        else:
            if to_set or to_remove:
                raise CliError(f"all resources must be specified before {what} changes: {argument}")
            resource_args.append(argument)
    if not to_set and not to_remove:
        raise CliError(f"at least one {what} update is required")
    for key in to_remove:
        if key in to_set:
            raise CliError(f"can not both modify and remove the following {what}(s) in the same command: {key}")
    return resource_args, to_set, to_remove


def _change_metadata(connection: Connection, args: list[str], *, field: str, what: str, overwrite: bool,
                     filenames: list[str] | None, selector: str | None, all_objects: bool, all_namespaces: bool,
                     dry_run: str, resource_version: str | None) -> None:
    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.apply import dry_run_suffix, finish
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run
    from cli.client.printers import go_json

    resource_args, to_set, to_remove = split_changes(args, what=what)
    dry_run_mode = parse_dry_run(dry_run)
    found, errors = _objects(connection, resource_args, verb_name=what, filenames=filenames, selector=selector,
                             all_objects=all_objects, all_namespaces=all_namespaces)
    for resource, document in found:
        name, namespace = _name_and_namespace(document)
        current = dict((document.get("metadata") or {}).get(field) or {})
        if not overwrite:
            conflicts = [f"'{key}' already has a value ({current[key]})" for key, value in to_set.items()
                         if key in current and current[key] != value]
            if conflicts:
                if what == "label":
                    raise CliError(f"{conflicts[0]}, and --overwrite is false")
                raise CliError("--overwrite is false but found the following declared annotation(s): "
                               + "; ".join(conflicts))
        for key in to_remove:
            if key not in current and what == "label":
                sys.stdout.write(f'label "{key}" not found.\n')
        updated = {key: value for key, value in current.items() if key not in to_remove} | to_set
        before, after = go_json(current), go_json(updated)
        if what == "label":
            message = "not labeled" if before == after else "unlabeled" if (
                not overwrite and len(after) < len(before)) else "labeled"
        else:
            message = "annotated"
        merge_patch: dict[str, Any] = {"metadata": {field: {key: None for key in to_remove if key in current}
                                                    | {k: v for k, v in to_set.items() if current.get(k) != v}}}
        if resource_version:
            merge_patch["metadata"]["resourceVersion"] = resource_version
        if dry_run_mode != "client":
            connection.client.request("PATCH", resource.path(namespace, name), body=merge_patch,
                                      content_type=PATCH_CONTENT_TYPES["merge"],
                                      params={"fieldManager": f"kubectl-{what}",
                                              "dryRun": "All" if dry_run_mode == "server" else None})
        sys.stdout.write(f"{resource.object_ref(name)} {message}{dry_run_suffix(dry_run_mode)}\n")
    sys.stdout.flush()
    finish(errors)


OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Allow existing values to be overwritten.")]
AllOption = Annotated[bool, typer.Option("--all", help="Select all resources of the types in the namespace.")]
ResourceVersionOption = Annotated[str | None, typer.Option(
    "--resource-version", help="Only update if the object's resourceVersion still matches.")]


@verb
def label(
    connection: Connection,
    args: Annotated[list[str], typer.Argument(help="TYPE NAME KEY_1=VAL_1 ... KEY_N- (or TYPE/NAME ...)")],
    overwrite: OverwriteOption = False,
    filename: FilenameOption = None,
    selector: SelectorOption = None,
    all_objects: AllOption = False,
    all_namespaces: AllNamespacesOption = False,
    resource_version: ResourceVersionOption = None,
    dry_run: DryRunOption = "none",
) -> None:
    _change_metadata(connection, args, field="labels", what="label", overwrite=overwrite, filenames=filename,
                     selector=selector, all_objects=all_objects, all_namespaces=all_namespaces, dry_run=dry_run,
                     resource_version=resource_version)


@verb
def annotate(
    connection: Connection,
    args: Annotated[list[str], typer.Argument(help="TYPE NAME KEY_1=VAL_1 ... KEY_N- (or TYPE/NAME ...)")],
    overwrite: OverwriteOption = False,
    filename: FilenameOption = None,
    selector: SelectorOption = None,
    all_objects: AllOption = False,
    all_namespaces: AllNamespacesOption = False,
    resource_version: ResourceVersionOption = None,
    dry_run: DryRunOption = "none",
) -> None:
    _change_metadata(connection, args, field="annotations", what="annotation", overwrite=overwrite,
                     filenames=filename, selector=selector, all_objects=all_objects, all_namespaces=all_namespaces,
                     dry_run=dry_run, resource_version=resource_version)


# --- patch ---------------------------------------------------------------------------------------------

@verb
def patch(
    connection: Connection,
    args: ResourceArgs = None,
    patch_text: Annotated[str | None, typer.Option("--patch", "-p", help="The patch to apply (JSON or YAML).")] = None,
    patch_file: Annotated[str | None, typer.Option("--patch-file", help="A file holding the patch.")] = None,
    patch_type: Annotated[str, typer.Option("--type", help="strategic, merge or json.")] = "strategic",
    filename: FilenameOption = None,
    subresource: Annotated[str | None, typer.Option("--subresource", help="status or scale.")] = None,
    output: OutputOption = None,
    dry_run: DryRunOption = "none",
) -> None:
    import yaml

    from cli.client.api import PATCH_CONTENT_TYPES
    from cli.client.apply import dry_run_suffix, finish
    from cli.client.errors import CliError
    from cli.client.options import parse_dry_run
    from cli.client.printers import format_generic, parse_output

    if patch_file:
        try:
            with open(patch_file, encoding="utf-8") as source:
                patch_text = source.read()
        except OSError as error:
            raise CliError(f"unable to read patch file: {error.strerror}") from None
    if not patch_text:
        raise CliError("must specify --patch or --patch-file containing the contents of the patch")
    if patch_type not in PATCH_CONTENT_TYPES:
        raise CliError(f'--type must be one of [json merge strategic], not "{patch_type}"')
    try:
        body = yaml.safe_load(patch_text)
    except yaml.YAMLError as error:
        raise CliError(f"unable to parse \"{patch_text}\": {error}") from None
    dry_run_mode = parse_dry_run(dry_run)
    output_format = parse_output(output, allowed=("json", "yaml", "name")) if output else None
    found, errors = _objects(connection, args or [], verb_name="patch", filenames=filename)
    for resource, document in found:
        name, namespace = _name_and_namespace(document)
        if dry_run_mode == "client":
            patched = document
        else:
            patched = connection.client.request(
                "PATCH", resource.path(namespace, name, subresource), body=body,
                content_type=PATCH_CONTENT_TYPES[patch_type],
                params={"fieldManager": "kubectl-patch", "dryRun": "All" if dry_run_mode == "server" else None}) or {}
        if output_format is not None:
            sys.stdout.write(format_generic(patched, output_format, resource_of=lambda _document, resource=resource: resource))
            continue
        changed = dry_run_mode == "client" or patched != document
        sys.stdout.write(f"{resource.object_ref(name)} patched{'' if changed else ' (no change)'}"
                         f"{dry_run_suffix(dry_run_mode)}\n")
    sys.stdout.flush()
    finish(errors)
