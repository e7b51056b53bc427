"""`orc auth can-i`, `orc auth whoami` and `orc create token`, as kubectl's.

- auth can-i VERB RESOURCE[/NAME] [-n NS] [--subresource S] [--all-namespaces]: a
  SelfSubjectAccessReview; prints yes/no, exit code 0/1 (kubectl's). A URL (`/healthz`) asks for
  a non-resource path. `--list` prints the SelfSubjectRulesReview of the namespace.
- auth whoami: the SelfSubjectReview (ATTRIBUTE/VALUE table, or -o json|yaml).
- create token SERVICEACCOUNT [--duration 1h] [--bound-object-kind Pod --bound-object-name P]: a
  TokenRequest; prints the token.

Registered by cli/client/__init__.py (after `create`, whose group `create token` joins).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client.options import OutputOption, verb

if TYPE_CHECKING:
    from cli.client.connection import Connection


def register(app: typer.Typer) -> None:
    auth_app = typer.Typer(help="Inspect authorization.", no_args_is_help=True)
    auth_app.command("can-i", help="Check whether an action is allowed.")(can_i)
    auth_app.command("whoami", help="Experimental: Check self subject attributes.")(whoami)
    app.add_typer(auth_app, name="auth")
    for group in app.registered_groups:
        if group.name == "create":
            group.typer_instance.command("token", help="Request a service account token.")(create_token)


def parse_duration(text: str) -> int:
    """`1h`, `30m`, `3600s`, `1h30m` -> seconds (Go's time.ParseDuration, the units kubectl users type)."""
    import re

    parts = re.findall(r"(\d+)(h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        from cli.client.errors import CliError

        raise CliError(f'invalid argument "{text}" for "--duration" flag: time: invalid duration "{text}"')
    return sum(int(number) * {"h": 3600, "m": 60, "s": 1}[unit] for number, unit in parts)


@verb
def can_i(
    connection: Connection,
    verb_name: Annotated[str | None, typer.Argument(metavar="VERB")] = None,
    target: Annotated[str | None, typer.Argument(metavar="TYPE[/NAME] | NONRESOURCEURL")] = None,
    subresource: Annotated[str, typer.Option("--subresource", help="SubResource such as pod/log.")] = "",
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A")] = False,
    list_rules: Annotated[bool, typer.Option("--list", help="List all allowed actions.")] = False,
) -> None:
    from cli.client.errors import CliError

    client = connection.client
    namespace = "" if all_namespaces else connection.namespace
    if list_rules:
        review = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                                body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                      "spec": {"namespace": namespace}})
        status = review.get("status") or {}
        typer.echo("Resources\tNon-Resource URLs\tResource Names\tVerbs".expandtabs(24))
        for rule in status.get("resourceRules") or []:
            for resource in rule.get("resources") or []:
                groups = [g for g in rule.get("apiGroups") or [] if g]
                name = f"{resource}.{groups[0]}" if groups else resource
                typer.echo(f"{name}\t[]\t[{' '.join(rule.get('resourceNames') or [])}]\t[{' '.join(rule.get('verbs') or [])}]".expandtabs(24))
        for rule in status.get("nonResourceRules") or []:
            for url in rule.get("nonResourceURLs") or []:
                typer.echo(f"\t[{url}]\t[]\t[{' '.join(rule.get('verbs') or [])}]".expandtabs(24))
        return
    if not verb_name or not target:
        raise CliError("you must specify two arguments: verb resource or verb resource/resourceName.")
    if target.startswith("/"):
        spec = {"nonResourceAttributes": {"path": target, "verb": verb_name}}
    else:
        kind, _, name = target.partition("/")
        resource = connection.discovery.resolve(kind)
        spec = {"resourceAttributes": {"namespace": namespace, "verb": verb_name, "group": resource.group,
                                       "resource": resource.name, "subresource": subresource, "name": name}}
    review = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                            body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                  "spec": spec})
    allowed = bool((review.get("status") or {}).get("allowed"))
    typer.echo("yes" if allowed else "no")
    if not allowed:
        raise typer.Exit(1)


@verb
def whoami(connection: Connection, output: OutputOption = None) -> None:
    review = connection.client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                       body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    if output == "json":
        typer.echo(json.dumps(review, indent=4))
        return
    if output == "yaml":
        import yaml

        typer.echo(yaml.safe_dump(review, sort_keys=False), nl=False)
        return
    info = (review.get("status") or {}).get("userInfo") or {}
    rows = [("ATTRIBUTE", "VALUE"), ("Username", info.get("username", ""))]
    if info.get("uid"):
        rows.append(("UID", info["uid"]))
    if info.get("groups"):
        rows.append(("Groups", "[" + " ".join(info["groups"]) + "]"))
    width = max(len(row[0]) for row in rows) + 3
    for attribute, value in rows:
        typer.echo(f"{attribute:<{width}}{value}")


@verb
def create_token(
    connection: Connection,
    service_account: Annotated[str, typer.Argument(metavar="SERVICE_ACCOUNT_NAME")],
    duration: Annotated[str | None, typer.Option("--duration", help="Requested lifetime, e.g. 1h.")] = None,
    audience: Annotated[list[str] | None, typer.Option("--audience", help="Intended audience.")] = None,
    bound_object_kind: Annotated[str | None, typer.Option("--bound-object-kind")] = None,
    bound_object_name: Annotated[str | None, typer.Option("--bound-object-name")] = None,
) -> None:
    spec: dict = {}
    if duration:
        spec["expirationSeconds"] = parse_duration(duration)
    if audience:
        spec["audiences"] = audience
    if bound_object_kind:
        spec["boundObjectRef"] = {"kind": bound_object_kind, "apiVersion": "v1", "name": bound_object_name or ""}
    path = f"/api/v1/namespaces/{connection.namespace}/serviceaccounts/{service_account}/token"
    review = connection.client.request("POST", path, body={"apiVersion": "authentication.k8s.io/v1",
                                                           "kind": "TokenRequest", "spec": spec})
    typer.echo((review.get("status") or {}).get("token", ""))
