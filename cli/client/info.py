"""What the cluster offers: `orc api-resources`, `orc explain`, `orc version`, `orc cluster-info`.

- api-resources: discovery as kubectl lists it (NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND;
  VERBS and CATEGORIES with `-o wide`; `-o name`; `--namespaced`, `--api-group`, `--verbs`).
- explain: the field documentation of `/openapi/v3`, rendered as kubectl 1.32's plaintext template does
  (`KIND:`/`VERSION:`, `FIELD: replicas <integer>`, `DESCRIPTION:` wrapped at 76 columns, `FIELDS:`,
  `--recursive`).
- version: client and server versions (`-o json|yaml`, `--client`).
- cluster-info: where the control plane answers, and the cluster services labelled
  `kubernetes.io/cluster-service=true`.

Registered by cli/client/__init__.py.
"""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.client.options import OutputOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection
    from cli.client.resources import ApiResource


def register(app: typer.Typer) -> None:
    app.command("api-resources", help="Print the supported API resources on the server.")(api_resources)
    app.command("explain", help="Get documentation for a resource.")(explain)
    app.command("version", help="Print the client and server version information.")(version)
    app.command("cluster-info", help="Display cluster information.")(cluster_info)


# --- api-resources -------------------------------------------------------------------------------------

@verb
def api_resources(
    connection: Connection,
    output: OutputOption = None,
    namespaced: Annotated[str | None, typer.Option("--namespaced", help="true for namespaced resources only, "
                                                   "false for cluster-scoped ones only.")] = None,
    api_group: Annotated[str | None, typer.Option("--api-group", help="Limit to resources of this API group.")]
    = None,
    verbs: Annotated[list[str] | None, typer.Option("--verbs", help="Limit to resources supporting these verbs.")]
    = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Don't print headers.")] = False,
    sort_by: Annotated[str | None, typer.Option("--sort-by", help="name or kind.")] = None,
    cached: Annotated[bool, typer.Option("--cached", help="Use the cached list of resources if available.")] = False,
) -> None:
    from cli.client.errors import CliError
    from cli.client.tabwriter import TabWriter

    if output not in (None, "", "wide", "name"):
        raise CliError(f'--output {output} is not available')
    if not cached:
        connection.discovery.refresh()
    resources = connection.discovery.preferred()
    if namespaced is not None:
        wanted = namespaced.lower() == "true"
        resources = [resource for resource in resources if resource.namespaced == wanted]
    if api_group is not None:
        resources = [resource for resource in resources if resource.group == api_group]
    wanted_verbs = [verb_name for value in verbs or [] for verb_name in value.split(",") if verb_name]
    if wanted_verbs:
        resources = [resource for resource in resources if set(wanted_verbs) <= set(resource.verbs)]
    if sort_by == "kind":
        resources.sort(key=lambda resource: resource.kind)
    elif sort_by == "name":
        resources.sort(key=lambda resource: resource.name)
    else:
        resources.sort(key=lambda resource: (resource.group, resource.name))
    if output == "name":
        sys.stdout.write("".join(resource.qualified_name + "\n" for resource in resources))
        return
    writer = TabWriter.for_tables()
    columns = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if output == "wide":
        columns += ["VERBS", "CATEGORIES"]
    if not no_headers:
        writer.write("\t".join(columns) + "\n")
    for resource in resources:
        cells = [resource.name, ",".join(resource.short_names), resource.api_version,
                 "true" if resource.namespaced else "false", resource.kind]
        if output == "wide":
            cells += [",".join(resource.verbs), ",".join(resource.categories)]
        writer.write("\t".join(cells) + "\n")
    sys.stdout.write(writer.flush())


# --- explain --------------------------------------------------------------------------------------------

def _sprig_wrap(text: str, width: int) -> str:
    """Sprig's `wrap`: lines broken at spaces to at most `width` characters, long words kept whole."""
    lines = []
    for line in text.split("\n"):
        wrapped = textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False,
                                replace_whitespace=False, drop_whitespace=True)
        lines.extend(wrapped or [""])
    return "\n".join(lines)


def _indent(text: str, amount: int) -> str:
    pad = " " * amount
    return pad + text.replace("\n", "\n" + pad)


class Explainer:
    """kubectl explain's plaintext template over one OpenAPI v3 group-version document."""

    def __init__(self, document: dict, *, recursive: bool):
        self.document = document
        self.recursive = recursive

    def resolve(self, reference: str | None) -> dict | None:
        if not reference or not reference.startswith("#/components/schemas/"):
            return None
        return ((self.document.get("components") or {}).get("schemas") or {}).get(
            reference[len("#/components/schemas/"):])

    def schema_for(self, group: str, version: str, kind: str) -> dict | None:
        wanted = {"group": group, "version": version, "kind": kind}
        for schema in ((self.document.get("components") or {}).get("schemas") or {}).values():
            if wanted in (schema.get("x-kubernetes-group-version-kind") or []):
                return schema
        return None

    def type_guess(self, schema: dict) -> str:
        if schema.get("items"):
            return "[]" + self.type_guess(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            return "map[string]" + self.type_guess(schema["additionalProperties"])
        if schema.get("allOf") and not schema.get("properties") and len(schema["allOf"]) == 1:
            return self.type_guess(schema["allOf"][0])
        if schema.get("$ref"):
            referenced = self.resolve(schema["$ref"])
            if not referenced or not referenced.get("type") or referenced.get("type") == "object":
                name = schema["$ref"].split("/")[-1]
                return name.split(".")[-1] or "Object"
            return referenced["type"]
        if schema.get("type") == "object":
            return "Object"
        return schema.get("type") or "Object"

    def description(self, schema: dict) -> str:
        resolved = self.resolve(schema.get("$ref")) or schema
        text = resolved["description"] + "\n" if resolved.get("description") else ""
        for part in resolved.get("allOf") or []:
            text += self.description(part)
        if resolved.get("items"):
            text += self.description(resolved["items"])
        if isinstance(resolved.get("additionalProperties"), dict):
            text += self.description(resolved["additionalProperties"])
        return text

    @staticmethod
    def enum_text(schema: dict, *, long_view: bool, limit: int, indent_amount: int = 0) -> str:
        values = schema.get("enum")
        if not values:
            return ""
        text = "ENUM:" if long_view else "\n" + " " * indent_amount + "enum: "
        for index, value in enumerate(values):
            if limit > -1 and index >= limit:
                text += ", ...."
                break
            if index > 0 and not long_view:
                text += ", "
            elif long_view:
                text += "\n    "
            text += '""' if value == "" else str(value)
        return text

    def external_docs(self, schema: dict) -> str:
        docs = schema.get("externalDocs")
        if not docs:
            return ""
        text = "EXTERNAL DOCS:\n"
        if docs.get("description"):
            text += _indent(_sprig_wrap(docs["description"], 76), 4) + "\n"
        if docs.get("url"):
            text += _indent("URL: " + docs["url"], 4) + "\n"
        return text

    def field_detail(self, name: str, schema: dict, *, level: int) -> str:
        indent_amount = level * 2
        field_schema = schema["properties"][name]
        text = _indent(name, indent_amount) + f"\t<{self.type_guess(field_schema)}>"
        if name in (schema.get("required") or []):
            text += " -required-"
        text += self.enum_text(field_schema, long_view=False, limit=4, indent_amount=indent_amount) + "\n"
        if not self.recursive:
            text += _indent(_sprig_wrap(field_schema.get("description") or "<no description>", 78 - indent_amount),
                            indent_amount + 2) + "\n"
            docs = field_schema.get("externalDocs")
            if docs:
                text += "\n" + _indent("EXTERNAL DOCS:", indent_amount + 2) + "\n"
                if docs.get("description"):
                    text += _indent(_sprig_wrap(docs["description"], 76 - indent_amount), indent_amount + 4) + "\n"
                if docs.get("url"):
                    text += _indent("URL: " + docs["url"], indent_amount + 4) + "\n"
            text += "\n"
        return text

    def field_list(self, schema: dict, *, level: int, history: frozenset[str]) -> str:
        reference = schema.get("$ref") or ""
        if reference and reference in history:
            return ""  # a cycle
        history = history | {reference}
        resolved = self.resolve(reference) or schema
        text = ""
        for name in sorted(resolved.get("properties") or {}):
            text += self.field_detail(name, resolved, level=level)
            if self.recursive:
                text += self.field_list(resolved["properties"][name], level=level + 1, history=history)
        for part in resolved.get("allOf") or []:
            text += self.field_list(part, level=level, history=history)
        if resolved.get("items"):
            text += self.field_list(resolved["items"], level=level, history=history)
        if isinstance(resolved.get("additionalProperties"), dict):
            text += self.field_list(resolved["additionalProperties"], level=level, history=history)
        return text

    def output(self, schema: dict, field_path: list[str], history: frozenset[str]) -> str:
        reference = schema.get("$ref") or ""
        next_history = history | {reference}
        resolved = self.resolve(reference) or schema
        if not field_path:
            text = "DESCRIPTION:\n" + _indent(_sprig_wrap(self.description(resolved) or "<empty>", 76), 4) + "\n"
            docs = self.external_docs(resolved)
            if docs:
                text += "\n" + docs
            fields = self.field_list(resolved, level=1, history=frozenset())
            if fields:
                text += "FIELDS:\n" + fields
            return text
        if reference and reference in history:
            return ""
        properties = resolved.get("properties") or {}
        if field_path[0] in properties:
            sub_schema = properties[field_path[0]]
            text = ""
            if len(field_path) == 1:
                text = (f"FIELD: {field_path[0]} <{self.type_guess(sub_schema)}>\n"
                        + self.enum_text(sub_schema, long_view=True, limit=-1) + "\n\n")
            return text + self.output(sub_schema, field_path[1:], frozenset())
        if resolved.get("items"):
            return self.output(resolved["items"], field_path, next_history)
        if isinstance(resolved.get("additionalProperties"), dict):
            return self.output(resolved["additionalProperties"], field_path, next_history)
        for part in resolved.get("allOf") or []:
            text = self.output(part, field_path, next_history)
            if text:
                return text
        return ""


def explain_text(document: dict, resource: ApiResource, field_path: list[str], *, recursive: bool) -> str:
    from cli.client.errors import CliError

    explainer = Explainer(document, recursive=recursive)
    schema = explainer.schema_for(resource.group, resource.version, resource.kind)
    if schema is None:
        raise CliError(f"GVK {resource.api_version}, Kind={resource.kind} not found in OpenAPI schema")
    header = f"GROUP:      {resource.group}\n" if resource.group else ""
    header += f"KIND:       {resource.kind}\nVERSION:    {resource.version}\n\n"
    body = explainer.output(schema, field_path, frozenset())
    if not body:
        # kubectl's template has already written the header when it finds the field missing.
        sys.stdout.write(header)
        raise CliError(f'field "{field_path[-1]}" does not exist')
    return header + body + "\n"


def openapi_document(connection: Connection, resource: ApiResource) -> dict:
    from cli.client.errors import CliError

    index = connection.client.get("/openapi/v3") or {}
    key = f"apis/{resource.group}/{resource.version}" if resource.group else f"api/{resource.version}"
    entry = (index.get("paths") or {}).get(key)
    if not entry:
        raise CliError(f"couldn't find resource for \"{resource.api_version}, Resource={resource.name}\"")
    url = entry.get("serverRelativeURL") or f"/openapi/v3/{key}"
    path, _, query = url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    return connection.client.get(path, params=params) or {}


@verb
def explain(
    connection: Connection,
    target: Annotated[str, typer.Argument(help="TYPE[.FIELD...], e.g. pods or deployment.spec.replicas")],
    recursive: Annotated[bool, typer.Option("--recursive", help="Print the fields of fields.")] = False,
    api_version: Annotated[str | None, typer.Option("--api-version", help="Use this group/version of the "
                                                    "resource.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="plaintext (the only format orc writes).")]
    = "plaintext",
) -> None:
    from cli.client.errors import CliError

    if output != "plaintext":
        raise CliError(f'unsupported output format "{output}"; orc explain writes plaintext')
    # `deployments.apps.spec` is ambiguous; kubectl tries the longest resource prefix that resolves.
    parts = target.split(".")
    resource = None
    field_path: list[str] = []
    for cut in range(len(parts), 0, -1):
        try:
            candidate = connection.discovery.resolve(".".join(parts[:cut]))
        except CliError:
            continue
        resource, field_path = candidate, parts[cut:]
        break
    if resource is None:
        connection.discovery.resolve(parts[0])  # raises kubectl's error, with a suggestion
        raise AssertionError("unreachable")
    if api_version:
        resource = connection.discovery.for_kind(api_version, resource.kind)
    sys.stdout.write(explain_text(openapi_document(connection, resource), resource, field_path, recursive=recursive))


# --- version and cluster-info ---------------------------------------------------------------------------

def client_version() -> dict[str, Any]:
    import platform
    from importlib import metadata

    try:
        orc_version = metadata.version("orchestrator")
    except metadata.PackageNotFoundError:
        orc_version = "0.0.0"
    return {"gitVersion": f"v{orc_version}", "goVersion": f"python{platform.python_version()}",
            "compiler": "cpython", "platform": f"{platform.system().lower()}/{platform.machine()}"}


@verb
def version(
    connection: Connection,
    client_only: Annotated[bool, typer.Option("--client", help="Only print the client version.")] = False,
    output: OutputOption = None,
) -> None:
    from cli.client.errors import CliError
    from cli.client.printers import go_json_indent, to_yaml

    document: dict[str, Any] = {"clientVersion": client_version()}
    server_error = None
    if not client_only:
        try:
            document["serverVersion"] = connection.client.get("/version")
        except Exception as error:  # noqa: BLE001 - kubectl prints the client version, then the error
            server_error = error
    if output == "json":
        sys.stdout.write(go_json_indent(document))
    elif output == "yaml":
        sys.stdout.write(to_yaml(document))
    elif output:
        raise CliError("--output must be 'yaml' or 'json'")
    else:
        sys.stdout.write(f"Client Version: {document['clientVersion']['gitVersion']}\n")
        if "serverVersion" in document:
            sys.stdout.write(f"Server Version: {document['serverVersion'].get('gitVersion', '')}\n")
    if server_error is not None:
        raise server_error


@verb
def cluster_info(connection: Connection) -> None:
    from cli.client.errors import ServerError
    from cli.client.targets import list_items

    connection.client.get("/version")  # kubectl fails here when the server is unreachable
    sys.stdout.write(f"Kubernetes control plane is running at {connection.config.server}\n")
    try:
        services = list_items(connection.client, connection.discovery.resolve("services"), namespace="kube-system",
                              label_selector="kubernetes.io/cluster-service=true")
    except ServerError:
        services = []
    for service in services:
        metadata = service.get("metadata") or {}
        name = (metadata.get("labels") or {}).get("kubernetes.io/name") or metadata.get("name", "")
        ports = (service.get("spec") or {}).get("ports") or []
        port_name = (ports[0].get("name") or str(ports[0].get("port"))) if ports else ""
        link = (f"{connection.config.server}/api/v1/namespaces/kube-system/services/"
                f"{metadata.get('name', '')}{':' + port_name if port_name else ''}/proxy")
        sys.stdout.write(f"{name} is running at {link}\n")
    sys.stdout.write("\nTo further debug and diagnose cluster problems, use 'orc get events -A' and "
                     "'orc describe'.\n")
