"""policy/v1 PodDisruptionBudget and scheduling.k8s.io/v1 PriorityClass through real kubectl:
stored, printed with kubectl 1.32's columns, refused with Kubernetes' messages when invalid.
The disruption controller and priority admission are not written yet.
"""

from __future__ import annotations

import json

MANIFEST = """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
"""


def test_policy_kinds_apply_and_print_as_kubectl_does(kubectl):
    kubectl("apply", "-f", "-", input=MANIFEST)

    budgets = kubectl("get", "pdb", "web").stdout.split("\n")
    classes = kubectl("get", "priorityclass", "high").stdout.split("\n")

    assert budgets[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert budgets[1].split()[:4] == ["web", "1", "N/A", "0"]
    assert classes[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert classes[1].split()[:3] == ["high", "1000", "false"]
    stored = json.loads(kubectl("get", "pc", "high", "-o", "json").stdout)
    assert stored["preemptionPolicy"] == "PreemptLowerPriority"  # defaulted as Kubernetes does


def test_invalid_budget_and_priority_class_are_refused_with_kubernetes_messages(kubectl):
    both = kubectl("create", "-f", "-", check=False, input="""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: both}
spec: {minAvailable: 1, maxUnavailable: "120%"}
""")
    too_high = kubectl("create", "-f", "-", check=False, input="""
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: too-high}
value: 2000000000
""")

    assert both.returncode != 0
    assert "minAvailable and maxUnavailable cannot be both set" in both.stderr
    assert "must not be greater than 100%" in both.stderr
    assert too_high.returncode != 0
    assert "maximum allowed value of a user defined priority is 1000000000" in too_high.stderr
