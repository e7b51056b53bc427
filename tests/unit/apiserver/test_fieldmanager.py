"""Field sets, managedFields bookkeeping and server-side apply merging (orchestrator/apiserver/fieldmanager.py)."""

from __future__ import annotations

import pytest

from orchestrator.api.apps_v1 import Deployment
from orchestrator.apiserver import fieldmanager as fm

NOW = "2026-12-07T12:00:00Z"
APPLIER = fm.Manager("applier", "Apply")
SCALER = fm.Manager("kubectl-scale", "Update", "scale")


def deployment(replicas=2, image="nginx:1", labels=None, containers=None):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", **({"labels": labels} if labels else {})},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": containers or [{"name": "nginx", "image": image}]}}},
    }


def test_fields_of_uses_merge_keys_and_skips_identity():
    paths = fm.fields_of(deployment(), Deployment)
    tree = fm.to_fields_v1(paths)

    containers = tree["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers == {'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert tree["f:spec"]["f:replicas"] == {}
    assert "f:metadata" not in tree and "f:apiVersion" not in tree
    assert fm.from_fields_v1(tree) == paths


def test_update_moves_changed_fields_to_the_writer():
    created = deployment()
    created["metadata"]["managedFields"] = fm.record_create(created, model=Deployment, manager=APPLIER, now=NOW)
    scaled = deployment(replicas=5)

    entries = fm.record_update(created, scaled, model=Deployment, manager=SCALER, now=NOW)

    by_manager = {e["manager"]: e for e in entries}
    assert by_manager["kubectl-scale"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert by_manager["kubectl-scale"]["subresource"] == "scale"
    assert "f:replicas" not in by_manager["applier"]["fieldsV1"]["f:spec"]


def test_an_unchanged_write_keeps_the_entries_as_they_are():
    created = deployment()
    created["metadata"]["managedFields"] = fm.record_create(created, model=Deployment, manager=APPLIER, now=NOW)

    assert fm.record_update(created, deployment(), model=Deployment, manager=SCALER, now="later") == \
        created["metadata"]["managedFields"]


def test_apply_creates_then_merges_containers_by_name():
    first = fm.server_side_apply({}, deployment(), model=Deployment, manager=APPLIER, force=False, now=NOW)
    current = first.obj | {"metadata": {**first.obj.get("metadata", {}), "managedFields": first.managed_fields}}
    other = fm.Manager("sidecar", "Apply")
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox"}]}}}}

    result = fm.server_side_apply(current, sidecar, model=Deployment, manager=other, force=False, now=NOW)

    names = [c["name"] for c in result.obj["spec"]["template"]["spec"]["containers"]]
    assert names == ["nginx", "log"]
    assert {e["manager"] for e in result.managed_fields} == {"applier", "sidecar"}


def _applied_and_scaled():
    first = fm.server_side_apply({}, deployment(), model=Deployment, manager=APPLIER, force=False, now=NOW)
    current = dict(first.obj, metadata={"managedFields": first.managed_fields})
    scaled = dict(current, spec={**current["spec"], "replicas": 5})
    scaled["metadata"] = {"managedFields": fm.record_update(current, scaled, model=Deployment, manager=SCALER,
                                                            now=NOW)}
    return scaled


def test_apply_of_a_field_another_manager_changed_is_a_conflict():
    with pytest.raises(fm.ApplyConflict) as refused:
        fm.server_side_apply(_applied_and_scaled(), deployment(replicas=3), model=Deployment, manager=APPLIER,
                             force=False, now=NOW)

    assert str(refused.value) == ('Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource '
                                  '"scale" using apps/v1: .spec.replicas')
    assert refused.value.details["causes"] == [{"reason": "FieldManagerConflict", "field": ".spec.replicas",
                                                "message": 'conflict with "kubectl-scale" with subresource "scale" '
                                                           'using apps/v1'}]


def test_force_takes_ownership_and_same_value_is_shared_without_conflict():
    forced = fm.server_side_apply(_applied_and_scaled(), deployment(replicas=3), model=Deployment, manager=APPLIER,
                                  force=True, now=NOW)
    shared = fm.server_side_apply(_applied_and_scaled(), deployment(replicas=5), model=Deployment, manager=APPLIER,
                                  force=False, now=NOW)

    assert forced.obj["spec"]["replicas"] == 3
    assert [e["manager"] for e in forced.managed_fields] == ["applier"]
    assert shared.obj["spec"]["replicas"] == 5
    assert {e["manager"] for e in shared.managed_fields} == {"applier", "kubectl-scale"}


def test_fields_no_longer_applied_are_removed_unless_someone_else_owns_them():
    first = fm.server_side_apply({}, deployment(labels={"a": "1", "b": "2"}), model=Deployment, manager=APPLIER,
                                 force=False, now=NOW)
    current = dict(first.obj, metadata={**first.obj["metadata"], "managedFields": first.managed_fields})

    result = fm.server_side_apply(current, deployment(labels={"a": "1"}, containers=[{"name": "other", "image": "x"}]),
                                  model=Deployment, manager=APPLIER, force=False, now=NOW)

    assert result.obj["metadata"]["labels"] == {"a": "1"}
    assert [c["name"] for c in result.obj["spec"]["template"]["spec"]["containers"]] == ["other"]


def test_schema_less_lists_are_atomic():
    crd_object = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
                  "spec": {"items": [{"name": "a"}]}}

    assert fm.fields_of(crd_object, None) == {("f:spec", "f:items")}


def test_render_path_prints_keys_as_kubernetes():
    assert fm.render_path(("f:spec", 'k:{"name":"nginx"}', "f:image")) == '.spec[name="nginx"].image'
