"""The HPA controller's sync against an in-memory apiserver: scale, status, conditions, events, stabilization."""

from __future__ import annotations

import asyncio

from orchestrator.client.resources import PODS
from orchestrator.controllers.base import SharedInformers
from orchestrator.controllers.hpa.controller import HPAS, HorizontalPodAutoscalerController
from tests.unit.client.fakes import FakeClock
from tests.unit.controllers.fakes import FakeCluster


class MetricsCluster(FakeCluster):
    """FakeCluster plus a Deployment's /scale and the metrics API (usage in millicores per pod)."""

    def __init__(self) -> None:
        super().__init__()
        self.replicas = 1
        self.usage_millicores: dict[str, int] = {}

    async def request(self, method: str, path: str, *, params=None, body=None, headers=None, raw=False):
        if path.endswith("/deployments/web/scale"):
            if method == "PUT":
                self.replicas = body["spec"]["replicas"]
            return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web"},
                    "spec": {"replicas": self.replicas}, "status": {"replicas": self.replicas, "selector": "app=web"}}
        if path.startswith("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"):
            return {"items": [{"metadata": {"name": name}, "containers": [
                {"name": "c", "usage": {"cpu": f"{usage}m", "memory": "1Mi"}}]}
                for name, usage in self.usage_millicores.items()]}
        raise AssertionError(f"unexpected {method} {path}")


def new_pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                           "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


def new_hpa(*, scale_down_window: int) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "uid": "hpa-uid"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 3,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 50}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": scale_down_window}}}}


async def settle(check) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0)


async def hpa_seen(cluster, controller) -> None:
    """Until the controller's cache holds the HPA as stored (its own status write included)."""
    def current() -> bool:
        stored = cluster.objects[("horizontalpodautoscalers", "default/web")]["metadata"]["resourceVersion"]
        return (controller.hpas.get("default/web") or {}).get("metadata", {}).get("resourceVersion") == stored
    await settle(current)


async def test_scales_up_to_max_then_down_after_the_window():
    cluster, clock = MetricsCluster(), FakeClock()
    await cluster.create(PODS, new_pod("web-1"), namespace="default")
    await cluster.create(HPAS, new_hpa(scale_down_window=60), namespace="default")
    cluster.usage_millicores = {"web-1": 200}
    informers = SharedInformers(cluster)
    controller = HorizontalPodAutoscalerController(cluster, informers, clock=clock)
    task = asyncio.create_task(informers.run())
    await informers.wait_synced()
    try:
        await controller.sync("default/web")
        assert cluster.replicas == 3  # 200 % of request against 50 %: 4, capped at max
        status = cluster.objects[("horizontalpodautoscalers", "default/web")]["status"]
        assert (status["currentReplicas"], status["desiredReplicas"]) == (1, 3)
        assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 200
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["ScalingLimited"]["reason"] == "TooManyReplicas"
        assert conditions["ScalingActive"]["reason"] == "ValidMetricFound"
        await controller.recorder.flush()
        messages = [obj["message"] for (plural, _), obj in cluster.objects.items() if plural == "events"]
        assert "New size: 3; reason: cpu resource utilization (percentage of request) above target" in messages

        for name in ("web-2", "web-3"):
            await cluster.create(PODS, new_pod(name), namespace="default")
        cluster.usage_millicores = {"web-1": 0, "web-2": 0, "web-3": 0}
        await settle(lambda: len(controller.pods.list()) == 3)
        await hpa_seen(cluster, controller)
        clock.now += 15
        await controller.sync("default/web")
        assert cluster.replicas == 3, "the 60 s scale-down window still remembers the recommendation of 3"
        conditions = {c["type"]: c for c in cluster.objects[("horizontalpodautoscalers", "default/web")]["status"]
                      ["conditions"]}
        assert conditions["AbleToScale"]["reason"] == "ScaleDownStabilized"
        clock.now += 61
        await hpa_seen(cluster, controller)
        await controller.sync("default/web")
        assert cluster.replicas == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_no_metrics_sets_scaling_active_false_and_keeps_the_scale():
    cluster, clock = MetricsCluster(), FakeClock()
    await cluster.create(PODS, new_pod("web-1"), namespace="default")
    await cluster.create(HPAS, new_hpa(scale_down_window=0), namespace="default")
    informers = SharedInformers(cluster)
    controller = HorizontalPodAutoscalerController(cluster, informers, clock=clock)
    task = asyncio.create_task(informers.run())
    await informers.wait_synced()
    try:
        await controller.sync("default/web")
        assert cluster.replicas == 1
        status = cluster.objects[("horizontalpodautoscalers", "default/web")]["status"]
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["ScalingActive"]["status"] == "False"
        assert conditions["ScalingActive"]["reason"] == "FailedGetResourceMetric"
        assert status["desiredReplicas"] == 0 and status["currentReplicas"] == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
