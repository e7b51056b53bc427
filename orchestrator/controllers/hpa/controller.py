"""The HorizontalPodAutoscaler controller: every sync period, fit each HPA's target to its metrics.

`sync(key)` reads the HPA from the cache, reads its target's `/scale` (Deployment, ReplicaSet,
StatefulSet: any kind with a scale subresource in `SCALABLE`), the target's pods (shared pod
informer, by the scale's selector) and their usage from the metrics API (metrics.k8s.io, served by
the apiserver from the kubelets), computes the wanted count (replicas.py, pure), writes the scale if
it changed — with a `SuccessfulRescale` event `New size: 4; reason: cpu resource utilization
(percentage of request) above target` — and writes status (current/desired replicas, current
metrics, conditions AbleToScale, ScalingActive, ScalingLimited) every time. Then the key comes back
after `sync_period` (15 s by default, `--horizontal-pod-autoscaler-sync-period`), as
kube-controller-manager's resync.

The recommendations and scale events behind stabilization windows and policies live in memory per
HPA (as in Kubernetes); a restarted controller starts them afresh. The clock is injected.

Built by orchestrator/controllers/manager.py.
"""

from __future__ import annotations

import math
import time
from typing import Any

from orchestrator.api.errors import APIError, NotFound
from orchestrator.apiserver.selectors import parse_label_selector
from orchestrator.client.events import EventRecorder
from orchestrator.client.resources import HORIZONTALPODAUTOSCALERS as HPAS
from orchestrator.client.resources import PODS, Resource
from orchestrator.controllers.base import NAMESPACE_INDEX, Clock, Controller, SharedInformers, format_time, split_key
from orchestrator.controllers.hpa import replicas as calc

POD_METRICS = Resource("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True)
DEFAULT_SYNC_PERIOD = 15.0
# Kinds whose /scale the HPA drives: (group, kind) -> plural.
SCALABLE = {("apps", "Deployment"): "deployments", ("apps", "ReplicaSet"): "replicasets",
            ("apps", "StatefulSet"): "statefulsets", ("", "ReplicationController"): "replicationcontrollers"}


def scale_resource(ref: dict) -> Resource | None:
    group, _, version = (ref.get("apiVersion") or "").rpartition("/")
    plural = SCALABLE.get((group, ref.get("kind") or ""))
    if plural is None or not version:
        return None
    return Resource(group, version, plural, ref["kind"], True)


def pod_request(pod: dict, resource: str, container: str | None = None) -> float | None:
    """The pod's request of `resource` (sum over its containers, or one container's); None if one has none."""
    total = 0.0
    for spec in (pod.get("spec") or {}).get("containers") or []:
        if container is not None and spec.get("name") != container:
            continue
        value = ((spec.get("resources") or {}).get("requests") or {}).get(resource)
        if value is None:
            return None
        total += calc.quantity_value(value)
    return total


def pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def metric_usage(metrics: dict, resource: str, container: str | None = None) -> float | None:
    values = [calc.quantity_value(c["usage"][resource]) for c in metrics.get("containers") or []
              if resource in (c.get("usage") or {}) and (container is None or c.get("name") == container)]
    return sum(values) if values else None


def condition(type_: str, status: bool, reason: str, message: str) -> dict:
    return {"type": type_, "status": "True" if status else "False", "reason": reason, "message": message}


def merge_conditions(old: list[dict], new: list[dict], now: str) -> list[dict]:
    """New conditions, keeping lastTransitionTime of those whose status did not change."""
    previous = {c.get("type"): c for c in old or []}
    merged = []
    for cond in new:
        before = previous.get(cond["type"])
        keep = before is not None and before.get("status") == cond["status"] and before.get("lastTransitionTime")
        merged.append({**cond, "lastTransitionTime": before["lastTransitionTime"] if keep else now})
    return merged


class HorizontalPodAutoscalerController(Controller):
    name = "horizontal-pod-autoscaler"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 2, clock: Clock = time.time, sync_period: float = DEFAULT_SYNC_PERIOD,
                 downscale_stabilization: int = calc.DEFAULT_DOWNSCALE_STABILIZATION_SECONDS):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="horizontal-pod-autoscaler")
        self.sync_period = sync_period
        self.downscale_stabilization = downscale_stabilization
        self.hpas = informers.get(HPAS)
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX])
        self.histories: dict[str, calc.History] = {}
        self.hpas.add_handler(on_add=self.enqueue, on_update=self._update_hpa, on_delete=self._delete_hpa)

    # --- event handlers: compute keys, nothing else ---------------------------------

    def _update_hpa(self, old: dict, new: dict) -> None:
        if old.get("spec") != new.get("spec"):
            self.enqueue(new)  # status writes (ours) wait for the next period

    def _delete_hpa(self, hpa: dict) -> None:
        self.enqueue(hpa)

    # --- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        hpa = self.hpas.get(key)
        if hpa is None:
            self.histories.pop(key, None)
            return
        try:
            await self._reconcile(key, hpa)
        finally:
            self.queue.add_after(key, self.sync_period)

    async def _reconcile(self, key: str, hpa: dict) -> None:
        namespace, _ = split_key(key)
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        ref = spec.get("scaleTargetRef") or {}
        reference = f"{ref.get('kind')}/{ref.get('name')}"
        min_replicas, max_replicas = spec.get("minReplicas") or 1, spec.get("maxReplicas") or 1
        conditions: list[dict] = []
        resource = scale_resource(ref)
        if resource is None:
            message = f'the HPA controller was unable to get the target\'s current scale: no scale for {reference}'
            self.recorder.record(hpa, "Warning", "FailedGetScale", message)
            await self._write_status(hpa, status, [condition("AbleToScale", False, "FailedGetScale", message)])
            return
        try:
            scale = await self.client.request("GET", resource.path(namespace, ref["name"], "scale"))
        except APIError as error:
            message = f"the HPA controller was unable to get the target's current scale: {error}"
            self.recorder.record(hpa, "Warning", "FailedGetScale", message)
            await self._write_status(hpa, status, [condition("AbleToScale", False, "FailedGetScale", message)])
            return
        current = (scale.get("spec") or {}).get("replicas") or 0
        able = condition("AbleToScale", True, "SucceededGetScale", "the HPA controller was able to get the target's "
                         "current scale")
        current_metrics: list[dict] = []
        reason_text = ""
        if current == 0 and min_replicas != 0:
            desired = 0
            conditions += [able, condition("ScalingActive", False, "ScalingDisabled",
                                           "scaling is disabled since the replica count of the target is zero")]
        elif current > max_replicas or current < min_replicas:
            desired = max(min(current, max_replicas), min_replicas)
            reason_text = ("Current number of replicas above Spec.MaxReplicas" if current > max_replicas
                           else "Current number of replicas below Spec.MinReplicas")
            conditions += [able, condition("ScalingActive", True, "ValidMetricFound", "the HPA was able to "
                                           "successfully calculate a replica count from " + _first_metric_text(spec)),
                           condition("ScalingLimited", True, "TooManyReplicas" if current > max_replicas
                                     else "TooFewReplicas", "the desired replica count is "
                                     + ("more than the maximum" if current > max_replicas else "less than the minimum")
                                     + " replica count")]
        else:
            try:
                proposal, reason_text, current_metrics, metric_name = await self._recommend(
                    namespace, scale, spec, current)
            except calc.MetricsError as error:
                self.recorder.record(hpa, "Warning", error.reason, error.message)
                conditions += [able, condition("ScalingActive", False, error.reason,
                                               f"the HPA was unable to compute the replica count: {error.message}")]
                await self._write_status(hpa, {**status, "currentReplicas": current}, conditions)
                return
            history = self.histories.setdefault(key, calc.History())
            up, down = self._rules(spec)
            normalized = calc.normalize(desired=proposal, current=current, min_replicas=min_replicas,
                                        max_replicas=max_replicas, up=up, down=down, history=history,
                                        now=self.clock())
            desired = normalized.replicas
            conditions += [condition("AbleToScale", True, normalized.able_reason, normalized.able_message),
                           condition("ScalingActive", True, "ValidMetricFound", "the HPA was able to successfully "
                                     f"calculate a replica count from {metric_name}"),
                           condition("ScalingLimited", normalized.limited, normalized.limited_reason,
                                     normalized.limited_message)]
        new_status = {**status, "currentReplicas": current, "desiredReplicas": desired,
                      "currentMetrics": current_metrics or status.get("currentMetrics")}
        if desired != current:
            try:
                await self.client.request("PUT", resource.path(namespace, ref["name"], "scale"),
                                          body={**scale, "spec": {**(scale.get("spec") or {}), "replicas": desired}})
            except APIError as error:
                message = f"New size: {desired}; reason: {reason_text}; error: {error}"
                self.recorder.record(hpa, "Warning", "FailedRescale", message)
                conditions = [condition("AbleToScale", False, "FailedUpdateScale",
                                        f"the HPA controller was unable to update the target scale: {error}"),
                              *[c for c in conditions if c["type"] != "AbleToScale"]]
                await self._write_status(hpa, new_status, conditions)
                return
            up, down = self._rules(spec)
            calc.record_scale(self.histories.setdefault(key, calc.History()), old=current, new=desired,
                              now=self.clock(), up=up, down=down)
            self.recorder.record(hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason_text}")
            self.log.info("hpa %s: rescaled %s from %d to %d (%s)", key, reference, current, desired, reason_text)
            new_status["lastScaleTime"] = format_time(self.clock())
        await self._write_status(hpa, new_status, conditions)

    def _rules(self, spec: dict) -> tuple[calc.Rules, calc.Rules]:
        behavior = spec.get("behavior") or {}
        return (calc.rules_from_spec(behavior.get("scaleUp"), calc.DEFAULT_SCALE_UP),
                calc.rules_from_spec(behavior.get("scaleDown"), calc.DEFAULT_SCALE_DOWN,
                                     default_window=self.downscale_stabilization))

    async def _recommend(self, namespace: str, scale: dict, spec: dict, current: int):
        """(replicas, reason text, status.currentMetrics, metric name) over the HPA's resource metrics:
        the largest proposal wins, as in Kubernetes."""
        selector_text = (scale.get("status") or {}).get("selector") or ""
        if not selector_text:
            raise calc.MetricsError("InvalidSelector", "the HPA target's scale is missing a selector")
        selector = parse_label_selector(selector_text)
        pods = [pod for pod in self.pods.by_index(NAMESPACE_INDEX, namespace)
                if selector.matches((pod.get("metadata") or {}).get("labels") or {})
                and not (pod.get("metadata") or {}).get("deletionTimestamp")
                and (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded")]
        try:
            listed = await self.client.request("GET", POD_METRICS.path(namespace),
                                               params={"labelSelector": selector_text})
        except APIError as error:
            raise calc.MetricsError("FailedGetResourceMetric", "unable to get metrics for resource: unable to fetch "
                                    f"metrics from resource metrics API: {error}") from error
        metrics_by_pod = {m["metadata"]["name"]: m for m in listed.get("items") or []}
        best: tuple[int, str, str] | None = None
        statuses = []
        for metric in spec.get("metrics") or []:
            kind = metric.get("type")
            if kind not in ("Resource", "ContainerResource"):
                statuses.append({"type": kind})
                continue
            source = metric.get("resource" if kind == "Resource" else "containerResource") or {}
            name, container = source.get("name") or "cpu", source.get("container") if kind != "Resource" else None
            target = source.get("target") or {}
            infos = [calc.PodInfo(name=pod["metadata"]["name"], request=pod_request(pod, name, container),
                                  ready=pod_ready(pod),
                                  usage=metric_usage(metrics_by_pod[pod["metadata"]["name"]], name, container)
                                  if pod["metadata"]["name"] in metrics_by_pod else None) for pod in pods]
            if target.get("type") == "Utilization" or target.get("averageValue") is None:
                result = calc.resource_replicas(current_replicas=current, pods=infos, resource=name,
                                                target_utilization=target.get("averageUtilization") or 80)
                average = _average_usage(infos)
                current_value = {"averageUtilization": result.utilization, "averageValue": _format(name, average)}
                text = f"{name} resource utilization (percentage of request)"
            else:
                result = calc.resource_replicas(current_replicas=current, pods=infos, resource=name,
                                                target_average_value=calc.quantity_value(target["averageValue"]))
                current_value = {"averageValue": _format(name, result.average_value or 0.0)}
                text = f"{name} resource"
            field = "resource" if kind == "Resource" else "containerResource"
            statuses.append({"type": kind, field: {"name": name, **({"container": container} if container else {}),
                                                   "current": current_value}})
            direction = "above" if result.replicas > current else "below" if result.replicas < current else "at"
            if best is None or result.replicas > best[0]:
                best = (result.replicas, f"{text} {direction} target", text)
        if best is None:
            raise calc.MetricsError("FailedGetResourceMetric", "no resource metrics to compute a replica count from")
        return best[0], best[1], statuses, best[2]

    async def _write_status(self, hpa: dict, status: dict, conditions: list[dict]) -> None:
        now = format_time(self.clock())
        new_status = {key: value for key, value in status.items() if value is not None}
        new_status.setdefault("desiredReplicas", 0)  # never omitted on the wire (the official client needs it)
        new_status["conditions"] = merge_conditions((hpa.get("status") or {}).get("conditions") or [], conditions, now)
        generation = (hpa.get("metadata") or {}).get("generation")
        if generation is not None:
            new_status["observedGeneration"] = generation
        if new_status == hpa.get("status"):
            return
        body = {**hpa, "status": new_status}
        try:
            await self.client.update(HPAS, body, subresource="status")
        except NotFound:
            return  # deleted meanwhile
        # A conflict raises: the work queue retries with backoff against the fresh cache.


def _average_usage(infos: list[calc.PodInfo]) -> float:
    measured = [info.usage for info in infos if info.usage is not None]
    return sum(measured) / len(measured) if measured else 0.0


def _format(resource: str, value: float) -> str:
    """A usage quantity as metrics-server's would read: millicores for CPU, bytes otherwise."""
    if resource == "cpu":
        return f"{math.ceil(value * 1000)}m"
    return str(int(value))


def _first_metric_text(spec: dict) -> str:
    metric = (spec.get("metrics") or [{}])[0]
    name = ((metric.get("resource") or metric.get("containerResource") or {}).get("name")) or "cpu"
    return f"{name} resource utilization (percentage of request)"
