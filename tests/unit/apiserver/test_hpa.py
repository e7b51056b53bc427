"""HorizontalPodAutoscaler: defaults and validation, the TARGETS column, v1 <-> v2 conversion, metrics objects."""

from __future__ import annotations

import pytest

from orchestrator.apiserver import hpa_v1, metrics, tables_autoscaling
from orchestrator.apiserver.strategies.autoscaling import HorizontalPodAutoscalerStrategy


def new_hpa(**spec):
    base = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 3}
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"}, "spec": {**base, **spec}}


def cpu_metric(utilization=50):
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                      "averageUtilization": utilization}}}


def test_defaults_fill_min_replicas_a_cpu_metric_and_partial_behavior():
    hpa = new_hpa(behavior={"scaleDown": {"stabilizationWindowSeconds": 10}})
    HorizontalPodAutoscalerStrategy().default(hpa)
    spec = hpa["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [cpu_metric(80)]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 10
    assert spec["behavior"]["scaleDown"]["policies"] == [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0


@pytest.mark.parametrize(("spec", "field"), [
    pytest.param({"minReplicas": 4}, "spec.maxReplicas", id="min-above-max"),
    pytest.param({"minReplicas": 0}, "spec.minReplicas", id="min-zero"),
    pytest.param({"scaleTargetRef": {"kind": "Deployment"}}, "spec.scaleTargetRef.name", id="no-target-name"),
    pytest.param({"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 0}}}]}, "spec.metrics[0].resource.target.averageUtilization",
        id="zero-utilization"),
    pytest.param({"metrics": [{"type": "Bogus"}]}, "spec.metrics[0].type", id="unknown-metric-type"),
    pytest.param({"behavior": {"scaleDown": {"stabilizationWindowSeconds": 4000}}},
                 "spec.behavior.scaleDown.stabilizationWindowSeconds", id="window-too-long"),
    pytest.param({"behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}}},
                 "spec.behavior.scaleUp.policies[0].value", id="policy-value-zero"),
])
def test_validation_names_the_field(spec, field):
    hpa = new_hpa(**spec)
    strategy = HorizontalPodAutoscalerStrategy()
    strategy.default(hpa)
    assert field in [error.field for error in strategy.validate(hpa)]


def test_a_valid_hpa_passes():
    hpa = new_hpa(minReplicas=1, metrics=[cpu_metric()])
    HorizontalPodAutoscalerStrategy().default(hpa)
    assert HorizontalPodAutoscalerStrategy().validate(hpa) == []


@pytest.mark.parametrize(("specs", "statuses", "expected"), [
    pytest.param([cpu_metric()], [], "cpu: <unknown>/50%", id="unknown"),
    pytest.param([cpu_metric()], [{"type": "Resource", "resource": {"name": "cpu", "current": {
        "averageUtilization": 180}}}], "cpu: 180%/50%", id="utilization"),
    pytest.param([{"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "100Mi"}}}], [{"type": "Resource", "resource": {
            "name": "memory", "current": {"averageValue": "20Mi"}}}], "memory: 20Mi/100Mi", id="average-value"),
    pytest.param([cpu_metric(), cpu_metric(60), cpu_metric(70)], [],
                 "cpu: <unknown>/50%, cpu: <unknown>/60% + 1 more...", id="more"),
    pytest.param([], [], "<none>", id="none"),
])
def test_targets_column(specs, statuses, expected):
    assert tables_autoscaling.format_targets(specs, statuses) == expected


def test_v1_round_trip_keeps_the_cpu_target_and_v2_extras():
    stored = new_hpa(minReplicas=1, metrics=[cpu_metric(50), {"type": "Resource", "resource": {
        "name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}}],
        behavior={"scaleDown": {"stabilizationWindowSeconds": 5}})
    stored["status"] = {"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 120}}}]}
    v1 = hpa_v1.to_v1(stored)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"] == {"scaleTargetRef": stored["spec"]["scaleTargetRef"], "minReplicas": 1, "maxReplicas": 3,
                          "targetCPUUtilizationPercentage": 50}
    assert v1["status"]["currentCPUUtilizationPercentage"] == 120
    v1["spec"]["targetCPUUtilizationPercentage"] = 70
    back = hpa_v1.to_v2({k: v for k, v in v1.items() if k != "status"}, stored)
    assert back["spec"]["metrics"][0] == cpu_metric(70)
    assert back["spec"]["metrics"][1]["resource"]["name"] == "memory"
    assert back["spec"]["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 5}}


def test_kubectl_autoscale_body_becomes_v2():
    body = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}, "status": {}}
    converted = hpa_v1.to_v2(body)
    assert converted["apiVersion"] == "autoscaling/v2"
    assert converted["spec"]["metrics"] == [cpu_metric(50)]


def test_pod_metrics_from_a_summary_entry():
    pod = {"metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}}}
    entry = {"cpu": {"time": "2026-01-01T00:00:00Z", "usageNanoCores": 5},
             "containers": [{"name": "c", "cpu": {"time": "2026-01-01T00:00:00Z", "usageNanoCores": 250_000_000},
                             "memory": {"workingSetBytes": 4096 * 1024}}]}
    result = metrics.pod_metrics(pod, entry)
    assert result["containers"] == [{"name": "c", "usage": {"cpu": "250000000n", "memory": "4096Ki"}}]
    assert result["metadata"]["labels"] == {"app": "web"}
    without_rate = {"containers": [{"name": "c", "cpu": {"time": "t"}, "memory": {"workingSetBytes": 1}}]}
    assert metrics.pod_metrics(pod, without_rate) is None
