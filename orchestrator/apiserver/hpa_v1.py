"""autoscaling/v1 HorizontalPodAutoscalers, served by converting to and from the stored autoscaling/v2.

`kubectl autoscale` (1.32) POSTs an autoscaling/v1 HPA, and older manifests and clients read v1; the
objects are stored once, as autoscaling/v2. `add_routes` puts a route for `/apis/autoscaling/v1/...`
ahead of the generic ones: the request body is converted v1 -> v2 (`to_v2`), the generic handler
serves the v2 path, and an HPA or HPA list in the answer is converted back (`to_v1`). v1 carries only
a CPU utilization target (`spec.targetCPUUtilizationPercentage`); a v1 read of an HPA with other
metrics shows its CPU one, and a v1 write keeps the stored object's other metrics and behavior
(Kubernetes keeps them in annotations; here they stay in the stored v2 object). Tables, Status
errors and watch streams pass through unconverted (a v1 watch sends v2 objects). A v1 PATCH is
applied to the v1 view of the stored object and written back as a v2 update (compare-and-swap on
its resourceVersion).

Used by app.py; the v1 registry row (registry.py) is there for discovery and RBAC.
"""

from __future__ import annotations

import copy

import orjson
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.api import errors

V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
KIND = "HorizontalPodAutoscaler"


def _cpu_utilization_metric(metrics: list[dict]) -> dict | None:
    for metric in metrics or []:
        source = metric.get("resource") or {}
        if metric.get("type") == "Resource" and source.get("name") == "cpu" \
                and (source.get("target") or {}).get("type") == "Utilization":
            return metric
    return None


def to_v1(hpa: dict) -> dict:
    """An autoscaling/v2 HPA as autoscaling/v1 shows it."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    v1_spec = {key: spec[key] for key in ("scaleTargetRef", "minReplicas", "maxReplicas") if key in spec}
    cpu = _cpu_utilization_metric(spec.get("metrics") or [])
    if cpu is not None:
        v1_spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    v1_status = {key: status[key] for key in ("observedGeneration", "lastScaleTime", "currentReplicas",
                                              "desiredReplicas") if key in status}
    v1_status.setdefault("currentReplicas", 0)
    v1_status.setdefault("desiredReplicas", 0)
    for metric in status.get("currentMetrics") or []:
        current = ((metric.get("resource") or {}).get("current") or {})
        if metric.get("type") == "Resource" and (metric.get("resource") or {}).get("name") == "cpu" \
                and current.get("averageUtilization") is not None:
            v1_status["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    return {**{k: v for k, v in hpa.items() if k not in ("spec", "status")}, "apiVersion": V1, "kind": KIND,
            "spec": v1_spec, "status": v1_status}


def to_v2(hpa: dict, stored: dict | None = None) -> dict:
    """An autoscaling/v1 HPA as stored (v2); `stored`, on update, lends what v1 cannot say."""
    spec = dict(hpa.get("spec") or {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    base_spec = copy.deepcopy((stored or {}).get("spec") or {})
    metrics = [m for m in base_spec.get("metrics") or [] if m is not _cpu_utilization_metric(base_spec.get("metrics"))]
    if target is not None:
        metrics.insert(0, {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": target}}})
    v2_spec = {**base_spec, **spec}
    v2_spec.pop("metrics", None)
    if metrics:
        v2_spec["metrics"] = metrics
    result = {**{k: v for k, v in hpa.items() if k not in ("spec", "status")}, "apiVersion": V2, "kind": KIND,
              "spec": v2_spec}
    if hpa.get("status") is not None:
        status = dict(hpa["status"])
        utilization = status.pop("currentCPUUtilizationPercentage", None)
        if utilization is not None:
            status["currentMetrics"] = [{"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageUtilization": utilization}}}]
        result["status"] = status
    return result


def _convert_answer(response: Response) -> Response:
    if not (response.media_type or "").startswith("application/json") or not hasattr(response, "body"):
        return response
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return response
    if isinstance(body, dict) and body.get("kind") == KIND:
        body = to_v1(body)
    elif isinstance(body, dict) and body.get("kind") == f"{KIND}List":
        body = {**body, "apiVersion": V1, "items": [to_v1(item) for item in body.get("items") or []]}
    else:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(orjson.dumps(body), status_code=response.status_code, headers=headers,
                    media_type="application/json")


def patch_v1(original: dict, patch, content_type: str, registry) -> dict:
    """`original` (a v1 HPA) with a JSON, merge, apply or strategic-merge patch applied, as the v1 client meant it."""
    from orchestrator.apiserver import patch as patching
    from orchestrator.apiserver.rest import PATCH_TYPES

    patch_type = PATCH_TYPES.get(content_type.split(";")[0].strip())
    if patch_type is None:
        raise errors.UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media "
                                          f"types include: {', '.join(PATCH_TYPES)}")
    if patch_type == "json":
        if not isinstance(patch, list):
            raise errors.BadRequest("json patch must be a list of operations")
        return patching.apply_json_patch(original, patch)
    if not isinstance(patch, dict):
        raise errors.BadRequest("patch body must be a JSON object")
    if patch_type in ("merge", "apply"):
        return patching.apply_merge_patch(original, patch)
    info = registry.lookup("autoscaling", "v1", "horizontalpodautoscalers")
    return patching.apply_strategic_merge_patch(original, patch, model=info.model if info else None)


def _json_request(request: Request, method: str, body: dict) -> Request:
    """`request` with another method and a JSON body (what the generic handler then reads)."""
    converted = orjson.dumps(body)
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": converted, "more_body": False}

    headers = [(k, v) for k, v in request.scope["headers"] if k.lower() not in (b"content-type", b"content-length")]
    scope = {**request.scope, "method": method, "headers": [*headers, (b"content-type", b"application/json")]}
    return Request(scope, receive)


def add_routes(app, state: dict, registry, resolve_target) -> None:
    """Serve `/apis/autoscaling/v1/{path}` for HPAs on `app`, ahead of the generic routes."""

    async def serve(request: Request) -> Response:
        segments = request.path_params["path"].split("/")
        target = resolve_target(registry, "autoscaling", "v2", segments)
        handler = state["handler"]
        if request.method == "PATCH" and target.name and not target.subresource:
            stored = await handler.storage.get(handler.key(target))
            if stored is None:
                raise handler.not_found(target, None)
            body = patch_v1(to_v1(stored), await handler.read_body(request),
                            request.headers.get("content-type", ""), registry)
            body.setdefault("metadata", {}).setdefault("resourceVersion", stored["metadata"]["resourceVersion"])
            return _convert_answer(await handler.handle(_json_request(request, "PUT", to_v2(body, stored)), target))
        if request.method == "PATCH":
            raise errors.MethodNotAllowed("PATCH of autoscaling/v1 horizontalpodautoscalers/status is not supported: "
                                          "patch the autoscaling/v2 object")
        if request.method in ("POST", "PUT"):
            body = await handler.read_body(request)  # JSON, YAML or protobuf (kubectl autoscale sends protobuf)
            if not isinstance(body, dict):
                raise errors.BadRequest("the body of the request must be an object")
            if body.get("apiVersion") not in (None, V1):
                raise errors.BadRequest(f"the API version in the data ({body['apiVersion']}) does not match the "
                                        f"expected API version ({V1})")
            stored = None
            if request.method == "PUT" and target.name:
                stored = await handler.storage.get(handler.key(target))
            request = _json_request(request, request.method, to_v2(body, stored))
        return _convert_answer(await handler.handle(request, target))

    app.add_route("/apis/autoscaling/v1/{path:path}", serve, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
