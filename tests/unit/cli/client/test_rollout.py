"""Rollout logic without a server: status lines, revisions, the rollback patch (cli/client/rollout.py)."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError
from cli.client.rollout import rollback_patch, rollout_status, templates_equal


def deployment(*, generation: int = 2, observed: int = 2, desired: int = 5, **status) -> dict:
    return {"metadata": {"name": "web", "generation": generation, "annotations": {
                "deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "team": "a"}},
            "spec": {"replicas": desired}, "status": {"observedGeneration": observed, **status}}


@pytest.mark.parametrize("document, line, done", [
    pytest.param(deployment(observed=1), "Waiting for deployment spec update to be observed...", False,
                 id="not-observed"),
    pytest.param(deployment(updatedReplicas=2), 'Waiting for deployment "web" rollout to finish: 2 out of 5 new '
                 "replicas have been updated...", False, id="updating"),
    pytest.param(deployment(updatedReplicas=5, replicas=7), 'Waiting for deployment "web" rollout to finish: 2 old '
                 "replicas are pending termination...", False, id="old-pending"),
    pytest.param(deployment(updatedReplicas=5, replicas=5, availableReplicas=2), 'Waiting for deployment "web" '
                 "rollout to finish: 2 of 5 updated replicas are available...", False, id="availability"),
    pytest.param(deployment(updatedReplicas=5, replicas=5, availableReplicas=5),
                 'deployment "web" successfully rolled out', True, id="done"),
])
def test_status_lines(document, line, done):
    assert rollout_status(document) == (line, done)


def test_status_reports_a_missed_deadline():
    document = deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    with pytest.raises(CliError, match='deployment "web" exceeded its progress deadline'):
        rollout_status(document)


def test_templates_compare_without_the_hash_label():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}
    hashed = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}, "creationTimestamp": None},
              "spec": {"containers": [{"name": "c"}]}}
    assert templates_equal(template, hashed)
    assert not templates_equal(template, {**hashed, "spec": {"containers": [{"name": "d"}]}})


def test_rollback_patch_is_kubectls_json_patch():
    replicaset = {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "1",
                                               "kubernetes.io/change-cause": "first"}},
                  "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
                                        "spec": {"containers": [{"name": "c", "image": "v1"}]}}}}
    assert rollback_patch(deployment(), replicaset) == [
        {"op": "replace", "path": "/spec/template",
         "value": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "c", "image": "v1"}]}}},
        {"op": "replace", "path": "/metadata/annotations",
         "value": {"deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                   "kubernetes.io/change-cause": "first"}},
    ]
