"""The resource metrics API, metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics: an in-process metrics-server.

Kubernetes serves this group from metrics-server behind an APIService; here the apiserver answers
it itself, asking the kubelets' `/stats/summary` (orchestrator/kubelet/stats.py) through the
kubelet proxy's endpoint look-up and session (kubeletproxy.py) when a client asks. Nothing is
stored, so these are not generic registry resources: registry.py has rows for discovery only
(verbs get/list, as metrics-server's), and `add_routes` serves the paths ahead of the generic
routes — a small router, because the generic handler reads etcd and this reads kubelets.

Paths: `/apis/metrics.k8s.io/v1beta1/nodes[/NAME]`, `.../pods` (all namespaces),
`.../namespaces/NS/pods[/NAME]`, with `?labelSelector=` (and `?fieldSelector=metadata.name=` for
nodes, as kubectl top asks). Readers: `kubectl top nodes|pods`, the HPA controller
(orchestrator/controllers/hpa/). Authorised by the RBAC middleware like any resource request
(`get`/`list` on `pods`/`nodes` in group metrics.k8s.io; view/edit/admin have them).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.api import errors
from orchestrator.apiserver import selectors

log = logging.getLogger(__name__)

GROUP = "metrics.k8s.io"
GROUP_VERSION = "metrics.k8s.io/v1beta1"
PREFIX = f"/apis/{GROUP_VERSION}"
KUBELET_TIMEOUT_SECONDS = 5.0
WINDOW = "10s"  # the kubelet's samples are at most this far apart when scraped regularly


def cpu_quantity(nano_cores: int) -> str:
    return f"{int(nano_cores)}n"


def memory_quantity(bytes_: int) -> str:
    return f"{int(bytes_) // 1024}Ki"


def node_metrics(node: dict, summary: dict) -> dict | None:
    """A NodeMetrics from a node's summary; None while the kubelet has no CPU rate yet."""
    stats = summary.get("node") or {}
    cpu, memory = stats.get("cpu") or {}, stats.get("memory") or {}
    if "usageNanoCores" not in cpu or "workingSetBytes" not in memory:
        return None
    meta = node["metadata"]
    return {"kind": "NodeMetrics", "apiVersion": GROUP_VERSION,
            "metadata": {"name": meta["name"], "creationTimestamp": cpu["time"], "labels": meta.get("labels") or {}},
            "timestamp": cpu["time"], "window": WINDOW,
            "usage": {"cpu": cpu_quantity(cpu["usageNanoCores"]), "memory": memory_quantity(memory["workingSetBytes"])}}


def pod_metrics(pod: dict, stats: dict) -> dict | None:
    """A PodMetrics from the pod's entry of a summary; None until every container has a CPU rate."""
    containers = []
    for container in stats.get("containers") or []:
        cpu, memory = container.get("cpu") or {}, container.get("memory") or {}
        if "usageNanoCores" not in cpu or "workingSetBytes" not in memory:
            return None
        containers.append({"name": container["name"], "usage": {"cpu": cpu_quantity(cpu["usageNanoCores"]),
                                                                "memory": memory_quantity(memory["workingSetBytes"])}})
    if not containers:
        return None
    meta = pod["metadata"]
    at = (stats.get("cpu") or {}).get("time") or stats["containers"][0]["cpu"].get("time")
    return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION,
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""), "creationTimestamp": at,
                         "labels": meta.get("labels") or {}},
            "timestamp": at, "window": WINDOW, "containers": containers}


def _json(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _list(kind: str, items: list[dict]) -> dict:
    return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}


class MetricsServer:
    """Answers metrics requests from the kubelets' summaries; `state` is app.state.shared."""

    def __init__(self, state: dict):
        self.state = state

    @property
    def handler(self):
        return self.state["handler"]

    def _snapshot(self, resource: str, predicate=None) -> list[dict]:
        items, _ = self.handler.cache.snapshot(resource, predicate)
        return items

    async def _summary(self, request: Request, node_name: str) -> dict | None:
        proxy = self.handler.kubelet_proxy
        try:
            url = f"{await proxy.kubelet_url(request, node_name)}/stats/summary"
            async with proxy.session().get(url, headers=proxy._headers(),
                                           timeout=aiohttp.ClientTimeout(total=KUBELET_TIMEOUT_SECONDS)) as answer:
                if answer.status != 200:
                    log.info("kubelet of node %s answered %d to /stats/summary", node_name, answer.status)
                    return None
                return await answer.json()
        except (TimeoutError, errors.APIError, aiohttp.ClientError, ValueError) as error:
            log.info("no metrics from the kubelet of node %s: %s", node_name, error)
            return None

    async def _summaries(self, request: Request, node_names: set[str]) -> dict[str, dict]:
        names = sorted(node_names)
        answers = await asyncio.gather(*(self._summary(request, name) for name in names))
        return {name: answer for name, answer in zip(names, answers, strict=True) if answer is not None}

    async def nodes(self, request: Request) -> Response:
        name = request.path_params.get("name")
        label_selector = selectors.parse_label_selector(request.query_params.get("labelSelector"))
        field_selector = selectors.parse_field_selector(request.query_params.get("fieldSelector"))
        nodes = [node for node in self._snapshot("nodes")
                 if (name is None or node["metadata"]["name"] == name)
                 and label_selector.matches(node["metadata"].get("labels") or {})
                 and field_selector.matches({"metadata.name": node["metadata"]["name"]})]
        if name is not None and not nodes:
            raise errors.NotFound.for_object(resource="nodemetrics", group=GROUP, name=name)
        summaries = await self._summaries(request, {node["metadata"]["name"] for node in nodes})
        items = [metrics for node in nodes if node["metadata"]["name"] in summaries
                 for metrics in [node_metrics(node, summaries[node["metadata"]["name"]])] if metrics]
        if name is not None:
            if not items:
                raise errors.NotFound.for_object(resource="nodemetrics", group=GROUP, name=name)
            return _json(items[0])
        return _json(_list("NodeMetrics", items))

    async def pods(self, request: Request) -> Response:
        namespace = request.path_params.get("namespace")
        name = request.path_params.get("name")
        label_selector = selectors.parse_label_selector(request.query_params.get("labelSelector"))
        field_selector = selectors.parse_field_selector(request.query_params.get("fieldSelector"))

        def wanted(pod: dict) -> bool:
            meta = pod["metadata"]
            return ((namespace is None or meta.get("namespace") == namespace)
                    and (name is None or meta["name"] == name)
                    and (pod.get("spec") or {}).get("nodeName")
                    and label_selector.matches(meta.get("labels") or {})
                    and field_selector.matches({"metadata.name": meta["name"],
                                                "metadata.namespace": meta.get("namespace", "")}))

        pods = self._snapshot("pods", wanted)
        summaries = await self._summaries(request, {pod["spec"]["nodeName"] for pod in pods})
        by_uid = {entry["podRef"].get("uid"): entry for summary in summaries.values()
                  for entry in summary.get("pods") or []}
        items = [metrics for pod in pods if pod["metadata"].get("uid") in by_uid
                 for metrics in [pod_metrics(pod, by_uid[pod["metadata"]["uid"]])] if metrics]
        if name is not None:
            if not items:
                # metrics-server's words: `podmetrics.metrics.k8s.io "default/web" not found`
                raise errors.NotFound.for_object(resource="podmetrics", group=GROUP, name=f"{namespace}/{name}")
            return _json(items[0])
        return _json(_list("PodMetrics", items))


def add_routes(app, state: dict) -> None:
    """Serve the metrics paths on `app` ahead of its generic `/apis/{group}/{version}/...` route."""
    server = MetricsServer(state)
    app.add_route(f"{PREFIX}/nodes", server.nodes, methods=["GET"])
    app.add_route(f"{PREFIX}/nodes/{{name}}", server.nodes, methods=["GET"])
    app.add_route(f"{PREFIX}/pods", server.pods, methods=["GET"])
    app.add_route(f"{PREFIX}/namespaces/{{namespace}}/pods", server.pods, methods=["GET"])
    app.add_route(f"{PREFIX}/namespaces/{{namespace}}/pods/{{name}}", server.pods, methods=["GET"])
