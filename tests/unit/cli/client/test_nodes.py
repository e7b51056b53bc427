"""kubectl drain's pod filters (cli/client/nodes.py)."""

from __future__ import annotations

import pytest

from cli.client.nodes import plan_drain


def pod(name: str, *, owner: str | None = None, phase: str = "Running", empty_dir: bool = False,
        mirror: bool = False) -> dict:
    metadata: dict = {"name": name, "namespace": "ns"}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    if mirror:
        metadata["annotations"] = {"kubernetes.io/config.mirror": "hash"}
    spec = {"volumes": [{"name": "v", "emptyDir": {}}]} if empty_dir else {}
    return {"metadata": metadata, "spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize("pods, flags, deleted, errors", [
    pytest.param([pod("a", owner="ReplicaSet")], {}, ["a"], [], id="managed"),
    pytest.param([pod("a")], {}, [], ["cannot delete cannot delete Pods that declare no controller (use --force to "
                                      "override): ns/a"], id="unmanaged"),
    pytest.param([pod("a")], {"force": True}, ["a"], [], id="unmanaged-forced"),
    pytest.param([pod("a", owner="DaemonSet")], {}, [], ["cannot delete DaemonSet-managed Pods (use "
                                                         "--ignore-daemonsets to ignore): ns/a"], id="daemonset"),
    pytest.param([pod("a", owner="DaemonSet")], {"ignore_daemonsets": True}, [], [], id="daemonset-ignored"),
    pytest.param([pod("a", owner="ReplicaSet", empty_dir=True)], {}, [],
                 ["cannot delete Pods with local storage (use --delete-emptydir-data to override): ns/a"],
                 id="local-storage"),
    pytest.param([pod("a", phase="Succeeded")], {}, ["a"], [], id="finished"),
    pytest.param([pod("a", mirror=True)], {}, [], [], id="mirror"),
])
def test_plan_drain(pods, flags, deleted, errors):
    plan = plan_drain(pods, ignore_daemonsets=flags.get("ignore_daemonsets", False), force=flags.get("force", False),
                      delete_emptydir_data=flags.get("delete_emptydir_data", False))
    assert [item["metadata"]["name"] for item in plan.to_delete] == deleted
    assert plan.error_texts() == errors
