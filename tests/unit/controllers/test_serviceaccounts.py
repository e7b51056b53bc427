"""Unit tests of the service accounts controller's decision (orchestrator.controllers.serviceaccounts)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.serviceaccounts import missing_service_accounts
from tests.unit.controllers.builders import ts


def namespace(*, deleting: bool = False, phase: str = "Active") -> dict:
    metadata = {"name": "team", "uid": "ns-1"}
    if deleting:
        metadata["deletionTimestamp"] = ts(0)
    return {"metadata": metadata, "status": {"phase": phase}}


@pytest.mark.parametrize(
    ("ns", "existing", "missing"),
    [
        pytest.param(namespace(), set(), ["default"], id="new-namespace"),
        pytest.param(namespace(), {"default"}, [], id="already-there"),
        pytest.param(namespace(deleting=True, phase="Terminating"), set(), [], id="terminating"),
        pytest.param(namespace(phase="Terminating"), set(), [], id="terminating-phase-only"),
        pytest.param(None, set(), [], id="gone"),
    ],
)
def test_missing_service_accounts(ns, existing, missing):
    assert missing_service_accounts(ns, existing) == missing


def test_other_wanted_accounts():
    assert missing_service_accounts(namespace(), {"default"}, ("default", "builder")) == ["builder"]
