"""Story 7: a HorizontalPodAutoscaler scales a CPU-bound Deployment up to its maximum, then back down.

The pods burn CPU (`while :; do :; done`, busybox) under a 200m limit with a 100m request until a file
appears in them; `kubectl autoscale --cpu-percent=20 --min=1 --max=3` (autoscaling/v1, stored as v2)
scales the Deployment to 3; `kubectl top pods` and `kubectl get hpa` (TARGETS `cpu: N%/20%`) show the
load; a SuccessfulRescale event gives the reason as Kubernetes words it. Then the load stops
(`kubectl exec ... touch /tmp/stop`) and, with the scale-down stabilization window shortened
through the HPA's v2 behavior, the Deployment goes back to 1. The controller syncs every 15 s (the
default), so each phase waits up to a few periods; every wait is bounded. The target is a low 20 %:
on a saturated 2-core machine a container's CPU share follows its 100m request (cpu.shares 102 against
1024 for every host process), so a pod may get well under its limit and must still read as over target.
"""

from __future__ import annotations

import json
import re

import yaml

from tests.e2e.helpers import running_pods, wait_for

NAME = "story7-burn"
SELECTOR = f"app={NAME}"
BURN_UNTIL_STOPPED = "while [ ! -f /tmp/stop ]; do :; done; exec sleep 3600"


def deployment() -> str:
    container = {"name": "burn", "image": "busybox", "command": ["sh", "-c", BURN_UNTIL_STOPPED],
                 "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": NAME},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": NAME}},
                 "template": {"metadata": {"labels": {"app": NAME}},
                              "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}}},
    })


def hpa(kubectl) -> dict:
    return json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", NAME, "-o", "json").stdout)


def replicas_of(kubectl) -> int:
    return json.loads(kubectl("get", "deployment", NAME, "-o", "json").stdout)["spec"].get("replicas", 0)


def test_story_7_hpa_scales_a_cpu_bound_deployment_up_and_down(kubectl, tmp_path):
    manifest = tmp_path / "burn.yaml"
    manifest.write_text(deployment())
    try:
        kubectl("apply", "-f", str(manifest))
        wait_for(lambda: running_pods(kubectl, SELECTOR), timeout=90, message="the first pod running")
        created = kubectl("autoscale", f"deploy/{NAME}", "--cpu-percent=20", "--min=1", "--max=3").stdout
        assert f"horizontalpodautoscaler.autoscaling/{NAME} autoscaled" in created
        kubectl("patch", "horizontalpodautoscalers.v2.autoscaling", NAME, "--type=merge", "-p", json.dumps(
            {"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}}}}))

        top = wait_for(lambda: (result := kubectl("top", "pods", "-l", SELECTOR, check=False)).returncode == 0
                       and NAME in result.stdout and result.stdout, timeout=60, message="kubectl top pods")
        assert top.split("\n")[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        assert re.search(rf"{NAME}-\S+\s+\d+m\s+\d+Mi", top), top
        nodes = kubectl("top", "nodes").stdout
        assert nodes.split("\n")[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]

        wait_for(lambda: replicas_of(kubectl) == 3, timeout=150, interval=2, message="scaled up to 3")
        row = kubectl("get", "hpa", NAME).stdout
        assert row.split("\n")[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
        assert re.search(rf"{NAME}\s+Deployment/{NAME}\s+cpu: \d+%/20%\s+1\s+3\s+\d\s+", row), row
        events = kubectl("get", "events", "--field-selector", f"involvedObject.name={NAME},reason=SuccessfulRescale",
                         "-o", "json").stdout
        messages = [event["message"] for event in json.loads(events)["items"]]
        assert any(re.fullmatch(r"New size: [23]; reason: cpu resource utilization \(percentage of request\) "
                                "above target", message) for message in messages), messages
        conditions = {c["type"]: c for c in hpa(kubectl)["status"]["conditions"]}
        assert conditions["ScalingActive"]["status"] == "True"
        assert conditions["AbleToScale"]["status"] == "True"

        # Stop the load in every pod (there may be a pod still starting: retry until all three are stopped).
        def stop_all() -> bool:
            pods = running_pods(kubectl, SELECTOR)
            for pod in pods:
                kubectl("exec", pod["metadata"]["name"], "--", "touch", "/tmp/stop", check=False)
            return len(pods) >= 3
        wait_for(stop_all, timeout=90, interval=2, message="the load stopped in three pods")

        wait_for(lambda: replicas_of(kubectl) == 1, timeout=150, interval=2, message="scaled back down to 1")
        status = hpa(kubectl)["status"]
        assert status["desiredReplicas"] == 1
        v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", NAME, "-o", "json").stdout)
        assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 20
    finally:
        kubectl("delete", "hpa", NAME, "--ignore-not-found", check=False)
        kubectl("delete", "-f", str(manifest), "--ignore-not-found", "--wait=false", check=False)
