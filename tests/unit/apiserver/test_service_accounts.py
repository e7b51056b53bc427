"""ServiceAccounts in the apiserver: pods run as `default` unless told otherwise; the SA table row."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from orchestrator.apiserver.strategies import STRATEGIES
from orchestrator.apiserver.tables import column_definitions, table_for


def created_pod(**spec_fields) -> dict:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"containers": [{"name": "web", "image": "busybox"}], **spec_fields}}
    strategy = STRATEGIES["Pod"]
    strategy.prepare_for_create(pod)
    strategy.default(pod)
    return pod


@pytest.mark.parametrize(
    ("spec_fields", "account"),
    [
        pytest.param({}, "default", id="unset-is-default"),
        pytest.param({"serviceAccountName": "builder"}, "builder", id="named"),
        pytest.param({"serviceAccount": "legacy"}, "legacy", id="deprecated-field-only"),
    ],
)
def test_pods_run_as_a_service_account(spec_fields, account):
    spec = created_pod(**spec_fields)["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == (account, account)
    assert STRATEGIES["Pod"].validate(created_pod(**spec_fields)) == []


def test_pod_templates_are_not_given_an_account():
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "busybox"}]}}}}
    strategy = STRATEGIES["Deployment"]
    strategy.default(deployment)
    assert "serviceAccountName" not in deployment["spec"]["template"]["spec"]
    named = copy.deepcopy(deployment)
    named["spec"]["template"]["spec"]["serviceAccountName"] = "builder"
    strategy.default(named)
    assert named["spec"]["template"]["spec"]["serviceAccount"] == "builder"


def test_bad_service_account_name_is_refused():
    messages = [error.message() for error in STRATEGIES["Pod"].validate(created_pod(serviceAccountName="Not_Valid"))]
    assert any(message.startswith('spec.serviceAccountName: Invalid value: "Not_Valid"') for message in messages)


def test_service_account_row():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    account = {"metadata": {"name": "default", "creationTimestamp": "2024-05-01T11:59:00Z"},
               "secrets": [{"name": "old-token"}]}
    assert [c["name"] for c in column_definitions("serviceaccounts")] == ["Name", "Secrets", "Age"]
    assert table_for("serviceaccounts", [account], now=now)["rows"][0]["cells"] == ["default", 1, "60s"]
    account.pop("secrets")
    assert table_for("serviceaccounts", [account], now=now)["rows"][0]["cells"] == ["default", 0, "60s"]


def test_pod_stored_before_the_echo_can_still_be_labelled():
    strategy = STRATEGIES["Pod"]
    old = created_pod(serviceAccountName="builder")
    old["spec"].pop("serviceAccount")  # as stored before `serviceAccount` was echoed
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"tier": "web"}
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    assert strategy.validate_update(new, old) == []
    assert new["spec"]["serviceAccount"] == "builder"
