"""Kubernetes' version priority (versionpriority.py)."""

from __future__ import annotations

from orchestrator.apiserver.versionpriority import version_order


def test_versions_sort_as_kubernetes_sorts_them():
    versions = ["v1alpha1", "foo", "v1beta1", "v11alpha2", "v1", "v2beta1", "v12", "v10beta3", "v3beta1", "v2"]
    assert sorted(versions, key=version_order) == [
        "v12", "v2", "v1", "v10beta3", "v3beta1", "v2beta1", "v1beta1", "v11alpha2", "v1alpha1", "foo"]
