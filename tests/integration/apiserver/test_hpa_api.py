"""HorizontalPodAutoscaler and metrics.k8s.io on a real apiserver: discovery, kubectl, the Python client.

One apiserver for the module (no kubelet: the metrics lists are empty). Covers: the autoscaling group
listing v2 (preferred) and v1, metrics.k8s.io in discovery, `kubectl autoscale` (a v1 protobuf body)
stored as v2 and read in both versions, `kubectl get hpa` columns, 422 Invalid naming the field, the
official client's AutoscalingV2Api, and the metrics lists.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "web", "image": "busybox"}]}}}}


@pytest.fixture
def autoscaling(apiserver):
    api_client = config.new_client_from_config(str(apiserver.kubeconfig))
    yield client.AutoscalingV2Api(api_client)
    api_client.close()


def test_discovery_lists_both_autoscaling_versions_and_the_metrics_group(kubectl):
    group = json.loads(kubectl("get", "--raw", "/apis/autoscaling").stdout)
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    assert group["preferredVersion"]["version"] == "v2"
    versions = kubectl("api-versions").stdout.split()
    assert {"autoscaling/v2", "autoscaling/v1", "metrics.k8s.io/v1beta1"} <= set(versions)
    resources = kubectl("api-resources", "--api-group=metrics.k8s.io").stdout
    assert "PodMetrics" in resources and "NodeMetrics" in resources


def test_kubectl_autoscale_stores_v2_and_serves_v1(kubectl):
    kubectl("apply", "-f", "-", input=json.dumps(DEPLOYMENT))
    try:
        out = kubectl("autoscale", "deploy/web", "--cpu-percent=50", "--min=1", "--max=3").stdout
        assert "horizontalpodautoscaler.autoscaling/web autoscaled" in out
        v2 = json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "json").stdout)
        assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 50}}}]
        v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json").stdout)
        assert v1["apiVersion"] == "autoscaling/v1"
        assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
        table = kubectl("get", "hpa").stdout.splitlines()
        assert table[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
        assert table[1].split()[:6] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "1", "3"]
    finally:
        kubectl("delete", "hpa", "web", "--ignore-not-found")
        kubectl("delete", "deployment", "web", "--ignore-not-found")


def test_invalid_hpa_is_a_422_naming_the_field(kubectl):
    bad = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "bad"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "minReplicas": 5, "maxReplicas": 2}}
    result = kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
    assert result.returncode != 0
    assert "spec.maxReplicas" in result.stderr and "must be greater than or equal to `minReplicas`" in result.stderr
    assert "bad" not in kubectl("get", "hpa", "-o", "name").stdout


def test_python_client_creates_and_reads_an_hpa_with_behavior(autoscaling):
    body = client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="py-hpa"),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment",
                                                                  name="web"),
            max_replicas=4,
            metrics=[client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
                name="memory", target=client.V2MetricTarget(type="AverageValue", average_value="100Mi")))],
            behavior=client.V2HorizontalPodAutoscalerBehavior(
                scale_down=client.V2HPAScalingRules(stabilization_window_seconds=10))))
    try:
        autoscaling.create_namespaced_horizontal_pod_autoscaler("default", body)
        read = autoscaling.read_namespaced_horizontal_pod_autoscaler("py-hpa", "default")
        assert read.spec.min_replicas == 1
        assert read.spec.behavior.scale_down.stabilization_window_seconds == 10
        assert read.spec.behavior.scale_up.select_policy == "Max"
        with pytest.raises(ApiException) as raised:
            autoscaling.create_namespaced_horizontal_pod_autoscaler("default", body)
        assert raised.value.status == 409
    finally:
        autoscaling.delete_namespaced_horizontal_pod_autoscaler("py-hpa", "default")


def test_metrics_lists_answer_without_kubelets(kubectl):
    pods = json.loads(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").stdout)
    assert pods["kind"] == "PodMetricsList" and pods["items"] == []
    nodes = json.loads(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes").stdout)
    assert nodes["kind"] == "NodeMetricsList"
    missing = kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/nowhere", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr.lower()


def test_a_v1_manifest_applied_twice_is_patched_through_v1(kubectl):
    manifest = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "v1web"},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                         "minReplicas": 1, "maxReplicas": 2, "targetCPUUtilizationPercentage": 60}}
    try:
        assert "created" in kubectl("apply", "-f", "-", input=json.dumps(manifest)).stdout
        manifest["spec"].update(maxReplicas=4, targetCPUUtilizationPercentage=70)
        assert "configured" in kubectl("apply", "-f", "-", input=json.dumps(manifest)).stdout
        stored = json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", "v1web", "-o", "json").stdout)
        assert stored["spec"]["maxReplicas"] == 4
        assert stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    finally:
        kubectl("delete", "hpa", "v1web", "--ignore-not-found")
