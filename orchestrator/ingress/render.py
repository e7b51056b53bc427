"""The whole nginx configuration as a pure function of the API objects (called by controller.py).

`render(objects, settings)` takes the Ingresses, IngressClasses, Services, EndpointSlices and
Secrets the informers hold and returns the nginx.conf text plus the TLS files to write beside it.
No I/O here, so the routing rules are table-tested (tests/unit/ingress/test_render.py).

Routing follows the Ingress spec:
- only Ingresses whose class (spec.ingressClassName, or the legacy kubernetes.io/ingress.class
  annotation) names an IngressClass of our controller are served;
- one nginx `server` per host ("" = the default server); `*.example.com` matches exactly one
  label, so it becomes a regex server_name;
- Exact -> `location = /p`; Prefix and ImplementationSpecific -> element-wise prefix: `/foo`
  matches `/foo` and `/foo/...` but not `/foobar` (`location = /foo` + `location /foo/`);
  nginx's longest-prefix choice is the spec's longest-match precedence, and `=` beats prefixes;
- on a conflict (same host and location in two Ingresses) the oldest Ingress wins, as ingress-nginx;
- spec.defaultBackend answers whatever no rule of its hosts matches; the default server answers
  404 when nothing matches and a backend without ready endpoints (or no Service) answers 503;
- TLS hosts get their kubernetes.io/tls Secret as certificate (SNI); other names on the https
  port are refused at the handshake (`ssl_reject_handshake`), as no certificate fits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CONTROLLER_NAME = "orchestrator.io/ingress-nginx"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class Settings:
    prefix: str  # the nginx prefix dir (pid, logs, temp paths, tls files live under it)
    http_port: int = 80
    https_port: int = 443
    controller: str = CONTROLLER_NAME
    worker_processes: str = "auto"


@dataclass
class Objects:
    ingresses: list[dict] = field(default_factory=list)
    ingress_classes: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    endpoint_slices: list[dict] = field(default_factory=list)
    secrets: list[dict] = field(default_factory=list)


@dataclass
class Rendered:
    text: str
    files: dict[str, str]  # path relative to the prefix -> content (TLS certificates and keys)


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def our_classes(ingress_classes: list[dict], controller: str) -> set[str]:
    return {_meta(c).get("name") for c in ingress_classes if (c.get("spec") or {}).get("controller") == controller}


def ingress_class_of(ingress: dict) -> str | None:
    return (ingress.get("spec") or {}).get("ingressClassName") or \
        (_meta(ingress).get("annotations") or {}).get(LEGACY_CLASS_ANNOTATION)


def served_ingresses(objects: Objects, controller: str = CONTROLLER_NAME) -> list[dict]:
    """Ours, oldest first (the order that decides conflicts)."""
    classes = our_classes(objects.ingress_classes, controller)
    mine = [i for i in objects.ingresses if ingress_class_of(i) in classes]
    return sorted(mine, key=lambda i: (_meta(i).get("creationTimestamp") or "", _meta(i).get("namespace") or "",
                                       _meta(i).get("name") or ""))


def ready_endpoints(objects: Objects, namespace: str, service_name: str, port_ref: dict) -> list[str]:
    """`ip:port` of the ready endpoints behind the Service port the backend names (sorted, deduplicated)."""
    service = next((s for s in objects.services if _meta(s).get("namespace") == namespace
                    and _meta(s).get("name") == service_name), None)
    if service is None:
        return []
    service_port = None
    for port in (service.get("spec") or {}).get("ports") or []:
        if ("number" in port_ref and port.get("port") == port_ref.get("number")) or \
                ("name" in port_ref and port.get("name") == port_ref.get("name")):
            service_port = port
            break
    if service_port is None:
        return []
    wanted_name = service_port.get("name") or ""
    found: set[str] = set()
    for endpoint_slice in objects.endpoint_slices:
        meta = _meta(endpoint_slice)
        if meta.get("namespace") != namespace or (meta.get("labels") or {}).get(SERVICE_NAME_LABEL) != service_name:
            continue
        if endpoint_slice.get("addressType", "IPv4") != "IPv4":
            continue
        numbers = [p.get("port") for p in endpoint_slice.get("ports") or [] if (p.get("name") or "") == wanted_name]
        for endpoint in endpoint_slice.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            for number in numbers:
                if number:
                    found.update(f"{address}:{number}" for address in endpoint.get("addresses") or [])
    return sorted(found)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def upstream_name(namespace: str, service: str, port_ref: dict) -> str:
    port = port_ref.get("number") if "number" in port_ref else port_ref.get("name")
    return _safe(f"{namespace}-{service}-{port}")


def server_name(host: str) -> str:
    if host.startswith("*."):
        return "~^[^.]+" + re.escape(host[1:]).replace("\\-", "-") + "$"
    return host


def locations_for(path: str, path_type: str) -> list[str]:
    """The nginx location selectors of one Ingress path."""
    path = path or "/"
    if path_type == "Exact":
        return [f"= {path}"]
    trimmed = path.rstrip("/")
    if not trimmed:
        return ["/"]
    return [f"= {trimmed}", f"{trimmed}/"]


@dataclass
class _Server:
    host: str
    locations: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # selector -> (ns, upstream) | None
    tls: tuple[str, str] | None = None  # (cert file, key file)


def render(objects: Objects, settings: Settings) -> Rendered:
    servers: dict[str, _Server] = {"": _Server("")}
    upstreams: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    fallbacks: list[tuple[list[str], str | None]] = []

    def backend_upstream(namespace: str, backend: dict) -> str | None:
        service = backend.get("service")
        if not service:
            return None  # resource backends are not served: 503
        port_ref = service.get("port") or {}
        name = upstream_name(namespace, service.get("name", ""), port_ref)
        endpoints = ready_endpoints(objects, namespace, service.get("name", ""), port_ref)
        if not endpoints:
            return None
        upstreams[name] = endpoints
        return name

    for ingress in served_ingresses(objects, settings.controller):
        namespace = _meta(ingress).get("namespace") or "default"
        spec = ingress.get("spec") or {}
        hosts: list[str] = []
        for rule in spec.get("rules") or []:
            host = rule.get("host") or ""
            hosts.append(host)
            server = servers.setdefault(host, _Server(host))
            for http_path in (rule.get("http") or {}).get("paths") or []:
                target = backend_upstream(namespace, http_path.get("backend") or {})
                for selector in locations_for(http_path.get("path") or "/", http_path.get("pathType") or "Prefix"):
                    exact_over_prefix = http_path.get("pathType") == "Exact" and selector in server.locations
                    if selector not in server.locations or exact_over_prefix:
                        server.locations[selector] = target
        for tls in spec.get("tls") or []:
            secret = next((s for s in objects.secrets if _meta(s).get("namespace") == namespace
                           and _meta(s).get("name") == tls.get("secretName")), None)
            data = (secret or {}).get("data") or {}
            if not secret or "tls.crt" not in data or "tls.key" not in data:
                continue
            base = f"tls/{_safe(namespace)}-{_safe(tls['secretName'])}"
            files[base + ".crt"] = _b64(data["tls.crt"])
            files[base + ".key"] = _b64(data["tls.key"])
            for host in tls.get("hosts") or []:
                server = servers.setdefault(host, _Server(host))
                if server.tls is None:
                    server.tls = (base + ".crt", base + ".key")
        if spec.get("defaultBackend"):
            fallbacks.append(([*hosts, ""], backend_upstream(namespace, spec["defaultBackend"])))
    for hosts, target in fallbacks:
        for host in hosts:
            if host in servers and "/" not in servers[host].locations:
                servers[host].locations["/"] = target
    for server in servers.values():
        if server.host and "/" not in server.locations and "" in servers and "/" in servers[""].locations:
            server.locations["/"] = servers[""].locations["/"]
    return Rendered(text=_text(servers, upstreams, settings), files=files)


def _b64(value: str) -> str:
    import base64

    return base64.b64decode(value).decode()


def _text(servers: dict[str, _Server], upstreams: dict[str, list[str]], settings: Settings) -> str:
    prefix = settings.prefix.rstrip("/")
    lines = [
        "# Written by orc ingress-controller; every change here is overwritten.",
        f"worker_processes {settings.worker_processes};",
        f"pid {prefix}/nginx.pid;",
        f"error_log {prefix}/logs/error.log warn;",
        "events { worker_connections 4096; }",
        "http {",
        "    access_log off;",
        f"    client_body_temp_path {prefix}/temp/body;",
        f"    proxy_temp_path {prefix}/temp/proxy;",
        f"    fastcgi_temp_path {prefix}/temp/fastcgi;",
        f"    uwsgi_temp_path {prefix}/temp/uwsgi;",
        f"    scgi_temp_path {prefix}/temp/scgi;",
        "    server_names_hash_bucket_size 128;",
        "    map $http_upgrade $connection_upgrade { default upgrade; '' ''; }",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Host $host;",
        "    proxy_set_header Upgrade $http_upgrade;",
        "    proxy_set_header Connection $connection_upgrade;",
        "    proxy_set_header X-Real-IP $remote_addr;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_connect_timeout 5s;",
        "    proxy_next_upstream error timeout;",
    ]
    for name in sorted(upstreams):
        lines.append(f"    upstream {name} {{")
        lines += [f"        server {address};" for address in upstreams[name]]
        lines += ["        keepalive 64;", "    }"]
    for host in sorted(servers):
        server = servers[host]
        lines.append("    server {")
        if host:
            lines.append(f"        listen {settings.http_port};")
            lines.append(f"        server_name {server_name(host)};")
        else:
            lines.append(f"        listen {settings.http_port} default_server;")
            lines.append(f"        listen {settings.https_port} ssl default_server;")
            lines.append("        ssl_reject_handshake on;")
            lines.append("        server_name _;")
        if server.tls:
            lines.append(f"        listen {settings.https_port} ssl;")
            lines.append(f"        ssl_certificate {prefix}/{server.tls[0]};")
            lines.append(f"        ssl_certificate_key {prefix}/{server.tls[1]};")
        locations = dict(server.locations)
        locations.setdefault("/", "404")
        for selector in sorted(locations):
            target = locations[selector]
            lines.append(f"        location {selector} {{")
            if target == "404":
                lines.append("            return 404;")
            elif target is None:
                lines.append("            return 503;")
            else:
                lines.append(f"            proxy_pass http://{target};")
            lines.append("        }")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"
