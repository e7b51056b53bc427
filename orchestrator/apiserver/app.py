"""The apiserver's FastAPI application: routes, authentication, errors at the edge.

`create_app(settings)` builds the app; `serve(settings)` runs it under uvicorn
(uvloop + httptools, TLS when given a certificate). All resource URLs go to the one
generic handler in `rest.py`; this module only resolves a URL to a `Target`,
serves discovery/OpenAPI/health, checks the bearer token and turns every
`APIError` into a Kubernetes `Status` response.

Called by `orc apiserver` (cli/) and by `orc up` (orchestrator/cluster/).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from orchestrator.api import errors
from orchestrator.apiserver import discovery
from orchestrator.apiserver.etcd import Etcd
from orchestrator.apiserver.registry import REGISTRY, Registry
from orchestrator.apiserver.rest import RestHandler, Target, json_response
from orchestrator.apiserver.storage import KeyExists, Storage
from orchestrator.apiserver.watchcache import WatchCache

log = logging.getLogger("orchestrator.apiserver")

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNAUTHENTICATED_PATHS = ("/version", "/healthz", "/readyz", "/livez")


@dataclass
class Settings:
    etcd_servers: list[str]
    etcd_prefix: str = "/registry"
    bind: str = "127.0.0.1"
    port: int = 6443
    token_auth_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_private_key_file: Path | None = None
    watch_cache_capacity: int = 50_000
    advertise_address: str | None = None
    kubelet_token: str | None = None
    workers: int = 1
    extra: dict = field(default_factory=dict)
    # "RBAC" (default) or "AlwaysAllow" (every authenticated user may do anything; bench/api.py compares).
    authorization_mode: str = "RBAC"
    service_account_key_file: Path | None = None

    def to_env(self) -> str:
        import json

        values = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        return json.dumps(values)

    @classmethod
    def from_env(cls, text: str) -> Settings:
        import json

        values = json.loads(text)
        for key in ("token_auth_file", "tls_cert_file", "tls_private_key_file", "service_account_key_file"):
            if values.get(key):
                values[key] = Path(values[key])
        return cls(**values)

    def check(self) -> None:
        loopback = self.bind in ("127.0.0.1", "localhost", "::1")
        if self.token_auth_file is None and not loopback:
            raise ValueError(
                f"refusing to serve anonymous requests on {self.bind}: without --token-auth-file the apiserver "
                "binds only to loopback (127.0.0.1)")
        if bool(self.tls_cert_file) != bool(self.tls_private_key_file):
            raise ValueError("--tls-cert-file and --tls-private-key-file go together")


class TokenAuthMiddleware:
    """Pure ASGI middleware: a valid `Authorization: Bearer` token or 401 (as kube-apiserver)."""

    def __init__(self, app, tokens: dict, fallback=None):
        self.app = app
        self.tokens = tokens
        self.fallback = fallback  # token -> UserInfo | None: ServiceAccount JWTs (rbac/tokens.py)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or scope["path"] in UNAUTHENTICATED_PATHS:
            return await self.app(scope, receive, send)
        from orchestrator.apiserver.auth import authenticate, bearer_token

        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        user = authenticate(header, self.tokens)
        if user is None and self.fallback is not None:
            token = bearer_token(header)
            user = self.fallback(token) if token else None
        if user is None:
            body = errors.Unauthorized("Unauthorized").to_status()
            response = Response(orjson.dumps(body), status_code=401, media_type="application/json")
            if scope["type"] == "websocket":
                from starlette.websockets import WebSocket

                return await deny_websocket(WebSocket(scope, receive, send), response)
            return await response(scope, receive, send)
        scope.setdefault("state", {})["user"] = user
        return await self.app(scope, receive, send)


async def deny_websocket(websocket, response: Response) -> None:
    """Refuse a WebSocket handshake with an HTTP answer (a `Status` body) where the server can send one
    (uvicorn's websocket.http.response extension), else with a policy-violation close (HTTP 403)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(code=1008)


def resolve_target(registry: Registry, group: str, version: str, segments: list[str]) -> Target:
    """URL segments after /api/v1 or /apis/G/V -> resource, namespace, name, subresource."""
    segments = [s for s in segments if s]
    namespace = None
    if len(segments) >= 3 and segments[0] == "namespaces" and segments[2] not in ("status", "finalize"):
        namespace = segments[1]
        segments = segments[2:]
    if not segments:
        raise errors.NotFound("the server could not find the requested resource")
    info = registry.lookup(group, version, segments[0])
    if info is None:
        raise errors.NotFound("the server could not find the requested resource")
    if info.namespaced != (namespace is not None) and len(segments) > 1:
        raise errors.NotFound("the server could not find the requested resource")
    name = segments[1] if len(segments) > 1 else None
    subresource = segments[2] if len(segments) > 2 else None
    if len(segments) > 3:
        raise errors.NotFound("the server could not find the requested resource")
    return Target(info, namespace, name, subresource)


async def ensure_system_namespaces(storage: Storage, clock=time.time) -> None:
    import uuid

    from orchestrator.apiserver.rest import utc_now_iso

    for name in SYSTEM_NAMESPACES:
        namespace = {
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": utc_now_iso(clock),
                         "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        try:
            await storage.create(storage.key("namespaces", None, name), namespace)
        except KeyExists:
            pass


def apiserver_endpoint(settings: Settings) -> tuple[str, int]:
    """The address pods should use for the apiserver (the `kubernetes` Service's endpoint)."""
    if settings.advertise_address:
        host, _, port = settings.advertise_address.rpartition(":")
        return host, int(port)
    if settings.bind not in ("0.0.0.0", "::"):
        return settings.bind, settings.port
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            return probe.getsockname()[0], settings.port
    except OSError:
        return "127.0.0.1", settings.port


async def ensure_system_services(storage: Storage, settings: Settings, clock=time.time) -> None:
    """`default/kubernetes` (10.96.0.1:443 -> the apiserver) and `kube-system/kube-dns` (10.96.0.10:53),
    as a Kubernetes cluster has them from the start."""
    import ipaddress
    import uuid

    from orchestrator.apiserver.allocators import ServiceNetwork
    from orchestrator.apiserver.rest import utc_now_iso

    network = ServiceNetwork()
    host, port = apiserver_endpoint(settings)
    now = utc_now_iso(clock)

    def meta(name: str, namespace: str, labels: dict) -> dict:
        return {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()), "creationTimestamp": now,
                "labels": labels}

    kubernetes_ip = str(next(ipaddress.ip_network(network.service_cidr).hosts()))
    objects = [
        ("services", "default", "kubernetes", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": meta("kubernetes", "default", {"component": "apiserver", "provider": "kubernetes"}),
            "spec": {"type": "ClusterIP", "clusterIP": kubernetes_ip, "clusterIPs": [kubernetes_ip],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}}),
        ("endpoints", "default", "kubernetes", {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": meta("kubernetes", "default", {"endpointslice.kubernetes.io/skip-mirror": "true"}),
            "subsets": [{"addresses": [{"ip": host}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}),
        ("services", "kube-system", "kube-dns", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": meta("kube-dns", "kube-system", {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}),
            "spec": {"type": "ClusterIP", "clusterIP": network.dns_service_ip(), "clusterIPs": [network.dns_service_ip()],
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}}),
    ]
    for resource, namespace, name, obj in objects:
        try:
            await storage.create(storage.key(resource, namespace, name), obj)
        except KeyExists:
            pass


def create_app(settings: Settings, *, registry: Registry = REGISTRY) -> FastAPI:
    settings.check()
    # Each app serves its own copy: custom resources come and go with this apiserver's CRD watch.
    registry = Registry(registry.builtin)
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        etcd = Etcd(settings.etcd_servers)
        await etcd.wait_ready()
        storage = Storage(etcd, prefix=settings.etcd_prefix)
        await ensure_system_namespaces(storage)
        await ensure_system_services(storage, settings)
        from orchestrator.apiserver.ingressclasses import DefaultIngressClassAdmission, ensure_default_ingress_class

        await ensure_default_ingress_class(storage)
        from orchestrator.apiserver.storageclasses import DefaultStorageClassAdmission, ensure_default_storage_class

        await ensure_default_storage_class(storage)
        cache = WatchCache(storage, capacity=settings.watch_cache_capacity)
        await cache.start()
        await authorization.start(storage, cache)
        # The watch cache holds every object as dicts: with the default thresholds the cyclic GC
        # walks them all every few thousand allocations (pauses of tens of ms under load). Objects
        # loaded so far are long-lived, so move them out of the GC's way and collect less often.
        import gc

        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        from orchestrator.apiserver.kubeletproxy import KubeletProxy

        state["handler"] = RestHandler(storage=storage, cache=cache, registry=registry,
                                       kubelet_proxy=KubeletProxy(token=settings.kubelet_token))
        from orchestrator.apiserver.rbac.admission import RBACAdmission

        state["handler"].write_checks.append(RBACAdmission(authorization).check)
        state["handler"].write_checks.append(DefaultIngressClassAdmission(cache).check)
        state["handler"].write_checks.append(DefaultStorageClassAdmission(cache).check)
        state["storage"] = storage
        from orchestrator.apiserver.customresources import CustomResourceController

        state["crds"] = CustomResourceController(storage=storage, cache=cache, registry=registry)
        await state["crds"].start()
        log.info("apiserver ready: etcd %s, prefix %s", ",".join(settings.etcd_servers), settings.etcd_prefix)
        try:
            yield
        finally:
            await authorization.stop()
            await state["crds"].stop()
            await cache.stop()
            await state["handler"].kubelet_proxy.close()
            await etcd.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    from orchestrator.apiserver.rbac.service import Authorization
    from orchestrator.apiserver.rbac.tokens import TokenIssuer

    authorization = Authorization(enabled=settings.authorization_mode == "RBAC", issuer=TokenIssuer.from_file(
        settings.service_account_key_file or settings.tls_private_key_file))
    state["authorization"] = authorization
    if settings.token_auth_file:
        from orchestrator.apiserver.auth import load_token_file
        from orchestrator.apiserver.rbac.middleware import AuthorizationMiddleware

        app.add_middleware(AuthorizationMiddleware, authorization=authorization)  # runs after authentication

        app.add_middleware(TokenAuthMiddleware, tokens=load_token_file(settings.token_auth_file),
                           fallback=authorization.authenticate_service_account)

    @app.exception_handler(errors.APIError)
    async def api_error(request: Request, error: errors.APIError):
        return json_response(error.to_status(), error.code, error.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception):
        log.exception("internal error serving %s %s", request.method, request.url.path)
        status = errors.InternalError(f"Internal error occurred: {error}").to_status()
        return json_response(status, 500)

    @app.exception_handler(404)
    async def not_found(request: Request, error):
        return json_response(errors.NotFound("the server could not find the requested resource").to_status(), 404)

    @app.get("/version")
    async def version():
        return discovery.version_info()

    @app.get("/healthz")
    @app.get("/readyz")
    @app.get("/livez")
    async def healthz():
        return Response("ok", media_type="text/plain")

    @app.get("/api")
    async def api(request: Request):
        address = settings.advertise_address or f"{request.url.hostname}:{request.url.port or settings.port}"
        return discovery.api_versions(address)

    @app.get("/apis")
    async def apis():
        return discovery.api_group_list(registry)

    @app.get("/apis/{group}")
    async def apis_group(group: str):
        document = discovery.api_group(group, registry)
        if document is None:
            raise errors.NotFound("the server could not find the requested resource")
        return document

    # Built once per registry state: `registry.resources` is a new tuple whenever a CRD comes or goes.
    openapi_cache: dict = {"resources": None, "documents": []}

    def openapi_resources():
        from orchestrator.apiserver.openapi import ResourceDoc

        if openapi_cache["resources"] is not registry.resources:
            from orchestrator.apiserver.customopenapi import schema_text

            openapi_cache["documents"] = [
                ResourceDoc(group=r.group, version=r.version, kind=r.kind, plural=r.plural, namespaced=r.namespaced,
                            model=r.model, subresources=tuple(r.subresources), verbs=tuple(r.verbs),
                            custom_schema=schema_text(r))
                for r in registry.resources if r.model is not None or r.extra.get("crd")]
            openapi_cache["resources"] = registry.resources
        return openapi_cache["documents"]

    @app.get("/openapi/v2")
    async def openapi_v2(request: Request):
        from orchestrator.apiserver import openapi

        if "protobuf" in request.headers.get("accept", ""):
            from orchestrator.apiserver.openapi_protobuf import MEDIA_TYPE

            return Response(openapi.openapi_v2_document_protobuf(openapi_resources()), media_type=MEDIA_TYPE)
        return Response(openapi.openapi_v2_document_json(openapi_resources()), media_type="application/json")

    @app.get("/openapi/v3")
    async def openapi_v3_index():
        from orchestrator.apiserver import openapi

        served = {d.group_version for d in openapi_resources()}
        return openapi.openapi_v3_index([gv for gv in registry.group_versions() if gv in served],
                                        resources=openapi_resources())

    @app.get("/openapi/v3/{path:path}")
    async def openapi_v3(path: str):
        from orchestrator.apiserver import openapi

        group_version = path.removeprefix("apis/").removeprefix("api/")
        if group_version not in registry.group_versions():
            raise errors.NotFound("the server could not find the requested resource")
        resources = [d for d in openapi_resources() if (f"{d.group}/{d.version}" if d.group else d.version) == group_version]
        body = openapi.openapi_v3_document_json(group_version, resources)
        return Response(body, media_type="application/json",
                        headers={"ETag": f'"{openapi.openapi_v3_document_hash(group_version, resources)}"'})

    @app.get("/api/v1")
    async def core_resources():
        return discovery.api_resource_list(registry, "v1")

    @app.get("/apis/{group}/{version}")
    async def group_resources(group: str, version: str):
        document = discovery.api_resource_list(registry, f"{group}/{version}")
        if document is None:
            raise errors.NotFound("the server could not find the requested resource")
        return document

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    # Plain Starlette routes: the resource handlers parse their own parameters, so FastAPI's
    # per-request dependency machinery would only cost time on the hottest path.
    async def core(request: Request):
        segments = request.path_params["path"].split("/")
        return await state["handler"].handle(request, resolve_target(registry, "", "v1", segments))

    async def grouped(request: Request):
        params = request.path_params
        target = resolve_target(registry, params["group"], params["version"], params["path"].split("/"))
        return await state["handler"].handle(request, target)

    async def pod_port_forward(websocket: WebSocket):
        """`pods/portforward` as a WebSocket relayed to the kubelet: kubectl's SPDY tunnel (subprotocol
        `SPDY/3.1+portforward.k8s.io`, portforward.py), else one connection per WebSocket (`?ports=N`,
        orc port-forward)."""
        from orchestrator.apiserver.portforward import TUNNEL_SUBPROTOCOL, serve_tunnel

        params = websocket.path_params
        try:
            if TUNNEL_SUBPROTOCOL in websocket.scope.get("subprotocols", ()):
                target = resolve_target(registry, "", "v1", ["namespaces", params["namespace"], "pods", params["name"]])
                pod = await state["handler"].get_object(target)
                await serve_tunnel(websocket, pod, state["handler"].kubelet_proxy)
                return
            ports = websocket.query_params.getlist("ports") or websocket.query_params.getlist("port")
            if len(ports) != 1 or not ports[0].isdigit() or not 0 < int(ports[0]) < 65536:
                raise errors.BadRequest("exactly one port number is required (?ports=N)")
            target = resolve_target(registry, "", "v1", ["namespaces", params["namespace"], "pods", params["name"]])
            pod = await state["handler"].get_object(target)
            await state["handler"].kubelet_proxy.port_forward(websocket, pod, int(ports[0]))
        except errors.APIError as error:
            if websocket.client_state == WebSocketState.CONNECTING:
                await deny_websocket(websocket, json_response(error.to_status(), error.code, error.headers))

    async def pod_exec(websocket: WebSocket):
        """`pods/exec` as a WebSocket (remote-command v5/v4: kubectl exec, orc exec) relayed to the kubelet."""
        params = websocket.path_params
        target = resolve_target(registry, "", "v1", ["namespaces", params["namespace"], "pods", params["name"]])
        pod = await state["handler"].get_object(target)
        await state["handler"].kubelet_proxy.exec(websocket, pod)

    pod_streams = {"exec": pod_exec, "portforward": pod_port_forward}

    async def pod_websocket(websocket: WebSocket):
        """The WebSocket subresources of a pod; one refused before the handshake gets its `Status` as the
        HTTP answer (kubectl shows it, and for exec falls back to SPDY, which gets the same answer)."""
        try:
            serve = pod_streams.get(websocket.path_params["subresource"])
            if serve is None:
                raise errors.NotFound("the server could not find the requested resource")
            await serve(websocket)
        except errors.APIError as error:
            if websocket.client_state == WebSocketState.CONNECTING:
                await deny_websocket(websocket, json_response(error.to_status(), error.code, error.headers))

    from orchestrator.apiserver.rbac.reviews import add_routes as add_review_routes

    add_review_routes(app, authorization)  # before the generic routes, which would take their paths
    from orchestrator.apiserver.metrics import add_routes as add_metrics_routes

    add_metrics_routes(app, state)  # metrics.k8s.io, read from the kubelets: likewise ahead of the generic routes
    from orchestrator.apiserver.hpa_v1 import add_routes as add_hpa_v1_routes

    add_hpa_v1_routes(app, state, registry, resolve_target)  # autoscaling/v1 HPAs, converted to the stored v2
    # WebSocket routes of their own: the plain routes below serve HTTP scopes only.
    app.router.add_websocket_route("/api/v1/namespaces/{namespace}/pods/{name}/{subresource}", pod_websocket)
    app.add_route("/api/v1/{path:path}", core, methods=methods)
    app.add_route("/apis/{group}/{version}/{path:path}", grouped, methods=methods)

    app.state.shared = state
    return app


SETTINGS_ENV = "ORC_APISERVER_SETTINGS"


def create_app_from_env() -> FastAPI:
    """The app factory uvicorn's worker processes call (settings travel in the environment)."""
    import os

    return create_app(Settings.from_env(os.environ[SETTINGS_ENV]))


def serve(settings: Settings) -> None:
    """Serve on one port; with workers > 1, several processes share it (SO_REUSEPORT), each
    with its own etcd connection and watch cache, as several kube-apiservers share one etcd."""
    import os

    import uvicorn

    from orchestrator.apiserver.websocket_protocol import KubernetesWebSocketProtocol

    options = dict(
        host=settings.bind,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        ssl_certfile=str(settings.tls_cert_file) if settings.tls_cert_file else None,
        ssl_keyfile=str(settings.tls_private_key_file) if settings.tls_private_key_file else None,
        timeout_graceful_shutdown=2,
        # Accepts kubectl's `SPDY/3.1+portforward.k8s.io` subprotocol, which uvicorn's default refuses.
        ws=KubernetesWebSocketProtocol,
    )
    if settings.workers > 1:
        os.environ[SETTINGS_ENV] = settings.to_env()
        uvicorn.run("orchestrator.apiserver.app:create_app_from_env", factory=True, workers=settings.workers,
                    **options)
        return
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))
    asyncio.run(server.serve())
