"""apps/v1 DaemonSet defaulting and validation produce what a Kubernetes 1.32 apiserver produces (strategies/apps.py)."""

from __future__ import annotations

import copy

import pytest

from orchestrator.apiserver.strategies import STRATEGIES

STRATEGY = STRATEGIES["DaemonSet"]


def new_daemon_set(**spec_fields) -> dict:
    spec = {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                         "spec": {"containers": [{"name": "agent", "image": "busybox"}]}},
            **spec_fields}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": spec}


def created(daemon_set: dict) -> dict:
    daemon_set = copy.deepcopy(daemon_set)
    STRATEGY.prepare_for_create(daemon_set)
    STRATEGY.default(daemon_set)
    return daemon_set


def errors_of(daemon_set: dict) -> list[str]:
    return [error.message() for error in STRATEGY.validate(created(daemon_set))]


def test_defaults():
    daemon_set = created(new_daemon_set())
    assert daemon_set["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert daemon_set["spec"]["revisionHistoryLimit"] == 10
    assert daemon_set["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    assert daemon_set["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert errors_of(new_daemon_set()) == []


@pytest.mark.parametrize(
    ("spec_fields", "message"),
    [
        pytest.param({"selector": {"matchLabels": {"app": "other"}}},
                     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"agent"}: '
                     "`selector` does not match template `labels`", id="selector-mismatch"),
        pytest.param({"updateStrategy": {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}},
                     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
                     id="nothing-may-move"),
        pytest.param({"updateStrategy": {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}},
                     "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "
                     'intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero',
                     id="both"),
        pytest.param({"updateStrategy": {"type": "Sometimes"}},
                     'spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Sometimes", '
                     'RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "RollingUpdate", '
                     '"OnDelete"', id="strategy-type"),
        pytest.param({"minReadySeconds": -1}, "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
                     id="min-ready"),
    ],
)
def test_errors(spec_fields, message):
    assert message in errors_of(new_daemon_set(**spec_fields))


def test_pods_must_restart_always():
    daemon_set = new_daemon_set()
    daemon_set["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert errors_of(daemon_set) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']


def test_template_change_is_a_new_template_generation_and_selector_is_fixed():
    old = created(new_daemon_set())
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["annotations"] = {}  # kubectl replace of a manifest without it
    STRATEGY.prepare_for_update(relabelled, old)
    assert relabelled["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"

    new_image = copy.deepcopy(old)
    new_image["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
    STRATEGY.prepare_for_update(new_image, old)
    assert new_image["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"

    other_selector = copy.deepcopy(old)
    other_selector["spec"]["selector"] = {"matchLabels": {"app": "agent", "tier": "x"}}
    other_selector["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    messages = [error.message() for error in STRATEGY.validate_update(other_selector, old)]
    assert any(message.startswith("spec.selector: Invalid value: ") and message.endswith("field is immutable")
               for message in messages)
