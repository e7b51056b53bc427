"""Unit tests of the TaintToleration filter and score."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator.scheduler.plugins.tainttoleration import TaintToleration
from tests.unit.scheduler.builders import (
    assert_filter_forms_agree,
    assert_score_forms_agree,
    cache_with,
    new_node,
    node_info,
    pod_info,
    taint,
)

UNREACHABLE = taint("node.kubernetes.io/unreachable", effect="NoExecute")
GPU = taint("dedicated", "gpu")
PREFER_NOT = taint("spot", "true", effect="PreferNoSchedule")


@pytest.mark.parametrize(
    ("taints", "tolerations", "reasons"),
    [
        pytest.param([], None, (), id="no-taints"),
        pytest.param([UNREACHABLE], None, ("node(s) had untolerated taint {node.kubernetes.io/unreachable: }",),
                     id="unreachable"),
        pytest.param([GPU], None, ("node(s) had untolerated taint {dedicated: gpu}",), id="key-and-value"),
        pytest.param([GPU], [{"key": "dedicated", "operator": "Equal", "value": "gpu"}], (), id="tolerated"),
        pytest.param([PREFER_NOT], None, (), id="prefer-no-schedule-is-not-a-filter"),
        pytest.param([GPU, UNREACHABLE], [{"key": "dedicated", "operator": "Exists"}],
                     ("node(s) had untolerated taint {node.kubernetes.io/unreachable: }",),
                     id="first-untolerated-is-named"),
    ],
)
def test_filter(taints, tolerations, reasons):
    status = TaintToleration().filter(pod_info(tolerations=tolerations), node_info(new_node(taints=taints)))
    assert status.reasons == reasons


@pytest.mark.parametrize(
    "tolerations",
    [None, [{"key": "dedicated", "operator": "Exists"}], [{"operator": "Exists"}]],
    ids=["none", "gpu", "everything"],
)
def test_vectorised_forms_agree(tolerations):
    cache = cache_with([
        new_node("plain"), new_node("gpu", taints=[GPU]), new_node("dead", taints=[UNREACHABLE]),
        new_node("gpu-dead", taints=[GPU, UNREACHABLE]), new_node("spot", taints=[PREFER_NOT]),
        new_node("gpu-2", taints=[GPU]),
    ])
    pod = pod_info(tolerations=tolerations)
    assert_filter_forms_agree(TaintToleration(), pod, cache)
    assert_score_forms_agree(TaintToleration(), pod, cache)


def test_score_prefers_nodes_without_untolerated_preferences():
    plugin = TaintToleration()
    raw = np.array([0, 1, 2])
    assert plugin.normalize(raw).tolist() == [100, 50, 0]
    assert plugin.normalize(np.array([0, 0])).tolist() == [100, 100]
