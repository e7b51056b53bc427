"""Tests for orchestrator.apiserver.patch: merge, JSON and strategic merge patches, and kubectl apply's three-way patch.

Strategic-merge cases use small models defined here (the real ones live in orchestrator/api and
carry the same tags); expected results follow Kubernetes' strategicpatch package.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestrator.api import errors
from orchestrator.api.base import K8sModel, merge_list, retain_keys
from orchestrator.apiserver.patch import (
    UnprocessablePatch,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    create_three_way_json_merge_patch,
    create_three_way_merge_patch,
)

# --- models and builders -----------------------------------------------------------------------


class EnvVar(K8sModel):
    name: str
    value: str | None = None


class ContainerPort(K8sModel):
    container_port: int
    protocol: str | None = None


class Container(K8sModel):
    name: str
    image: str | None = None
    image_pull_policy: str | None = None
    args: list[str] | None = None
    env: list[EnvVar] | None = merge_list("name")
    ports: list[ContainerPort] | None = merge_list("containerPort")


class Volume(K8sModel):
    name: str
    host_path: dict[str, str] | None = None
    empty_dir: dict[str, str] | None = None


class PodSpec(K8sModel):
    containers: list[Container] | None = merge_list("name")
    volumes: list[Volume] | None = merge_list("name", retain_keys=True)
    node_selector: dict[str, str] | None = None


class ObjectMeta(K8sModel):
    name: str | None = None
    uid: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = merge_list()


class PodTemplateSpec(K8sModel):
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class RollingUpdateDeployment(K8sModel):
    max_surge: int | str | None = None
    max_unavailable: int | str | None = None


class DeploymentStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(K8sModel):
    replicas: int | None = None
    paused: bool | None = None
    strategy: DeploymentStrategy | None = retain_keys()
    template: PodTemplateSpec | None = None


class Deployment(K8sModel):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: DeploymentSpec | None = None
    status: dict[str, Any] | None = None


RESTARTED = {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}
ROLLING_UPDATE = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}


def container(name: str, image: str | None = None, **fields: Any) -> dict:
    return {"name": name, "image": image or f"{name}:1", **fields}


def env(*names: str) -> list[dict]:
    return [{"name": name, "value": name.lower()} for name in names]


def deployment(
    *containers: dict,
    labels: dict | None = None,
    finalizers: list | None = None,
    replicas: int | None = None,
    strategy: dict | None = None,
    **extra: Any,
) -> dict:
    """A Deployment in wire form; only the given parts are present."""
    metadata: dict = {"name": "web", **({"labels": labels} if labels is not None else {})}
    if finalizers is not None:
        metadata["finalizers"] = finalizers
    spec: dict = {"template": {"spec": {"containers": list(containers)}}}
    if replicas is not None:
        spec["replicas"] = replicas
    if strategy is not None:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec, **extra}


def with_spec(obj: dict, **fields: Any) -> dict:
    changed = copy.deepcopy(obj)
    changed["spec"].update(fields)
    return changed


def containers_of(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def template_patch(**pod_spec: Any) -> dict:
    return {"spec": {"template": {"spec": pod_spec}}}


# --- JSON merge patch --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        pytest.param({"a": 1, "b": 2}, {"a": None}, {"b": 2}, id="null-deletes-a-key"),
        pytest.param({"a": 1}, {"missing": None}, {"a": 1}, id="null-for-absent-key-is-ignored"),
        pytest.param(
            {"metadata": {"labels": {"app": "web"}}},
            {"metadata": {"labels": {"env": "prod"}}},
            {"metadata": {"labels": {"app": "web", "env": "prod"}}},
            id="kubectl-label-adds-to-labels",
        ),
        pytest.param(
            {"metadata": {"labels": {"app": "web", "env": "prod"}}},
            {"metadata": {"labels": {"env": None}}},
            {"metadata": {"labels": {"app": "web"}}},
            id="kubectl-label-removal-env-dash",
        ),
        pytest.param(
            {"kind": "Scale", "spec": {"replicas": 1}, "status": {"replicas": 1}},
            {"spec": {"replicas": 3}},
            {"kind": "Scale", "spec": {"replicas": 3}, "status": {"replicas": 1}},
            id="kubectl-scale-on-the-scale-subresource",
        ),
        pytest.param({"list": [1, 2, 3]}, {"list": [4]}, {"list": [4]}, id="lists-are-replaced"),
        pytest.param({"a": "x"}, {"a": {"b": 1, "c": None}}, {"a": {"b": 1}}, id="new-subtree-loses-its-nulls"),
        pytest.param({"a": {"b": 1}}, {"a": 5}, {"a": 5}, id="scalar-replaces-map"),
    ],
)
def test_merge_patch(original, patch, expected):
    assert apply_merge_patch(original, patch) == expected


def test_merge_patch_that_is_not_an_object_is_a_bad_request():
    with pytest.raises(errors.BadRequest):
        apply_merge_patch({"a": 1}, [1, 2])


# --- JSON patch --------------------------------------------------------------------------------


POD = {"metadata": {"name": "p", "annotations": {"example.com/owner": "me"}}, "spec": {"items": ["a", "b"]}}


@pytest.mark.parametrize(
    ("operations", "expected_change"),
    [
        pytest.param(
            [{"op": "add", "path": "/metadata/labels", "value": {"app": "web"}}],
            lambda o: o["metadata"].update(labels={"app": "web"}),
            id="add-member",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/items/1", "value": "x"}],
            lambda o: o["spec"]["items"].insert(1, "x"),
            id="add-inserts-at-index",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/items/-", "value": "z"}],
            lambda o: o["spec"]["items"].append("z"),
            id="add-dash-appends",
        ),
        pytest.param(
            [{"op": "remove", "path": "/spec/items/0"}], lambda o: o["spec"]["items"].pop(0), id="remove-element"
        ),
        pytest.param(
            [{"op": "remove", "path": "/metadata/annotations/example.com~1owner"}],
            lambda o: o["metadata"]["annotations"].clear(),
            id="tilde-one-escapes-slash",
        ),
        pytest.param(
            [{"op": "add", "path": "/metadata/annotations/a~0b", "value": "t"}],
            lambda o: o["metadata"]["annotations"].update({"a~b": "t"}),
            id="tilde-zero-escapes-tilde",
        ),
        pytest.param(
            [{"op": "replace", "path": "/metadata/name", "value": "q"}],
            lambda o: o["metadata"].update(name="q"),
            id="replace",
        ),
        pytest.param(
            [{"op": "replace", "path": "/metadata/uid", "value": "u"}],
            lambda o: o["metadata"].update(uid="u"),
            id="replace-of-missing-member-adds-it-as-kubernetes-does",
        ),
        pytest.param(
            [{"op": "remove", "path": "/spec/items/-1"}],
            lambda o: o["spec"]["items"].pop(),
            id="negative-index-counts-from-the-end",
        ),
        pytest.param(
            [{"op": "move", "from": "/spec/items/0", "path": "/spec/first"}],
            lambda o: o["spec"].update(first=o["spec"]["items"].pop(0)),
            id="move",
        ),
        pytest.param(
            [{"op": "copy", "from": "/metadata/name", "path": "/spec/name"}],
            lambda o: o["spec"].update(name="p"),
            id="copy",
        ),
        pytest.param(
            [{"op": "test", "path": "/spec/items", "value": ["a", "b"]}, {"op": "remove", "path": "/spec"}],
            lambda o: o.pop("spec"),
            id="passing-test-lets-the-rest-apply",
        ),
        pytest.param(
            [{"op": "test", "path": "/metadata/missing", "value": None}], lambda o: None, id="missing-tests-as-null"
        ),
    ],
)
def test_json_patch(operations, expected_change):
    expected = copy.deepcopy(POD)
    expected_change(expected)
    assert apply_json_patch(POD, operations) == expected


def test_json_patch_kubectl_rollout_undo_replaces_template_and_annotations():
    current = deployment(container("web", "web:2"))
    current["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    previous_template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container("web", "web:1")]}}
    operations = [
        {"op": "replace", "path": "/spec/template", "value": previous_template},
        {"op": "replace", "path": "/metadata/annotations", "value": {"deployment.kubernetes.io/revision": "1"}},
    ]

    patched = apply_json_patch(current, operations)

    assert patched["spec"]["template"] == previous_template
    assert patched["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param([{"op": "test", "path": "/metadata/name", "value": "other"}], id="failing-test"),
        pytest.param([{"op": "test", "path": "/spec/items/0", "value": 1}], id="test-compares-types"),
        pytest.param([{"op": "remove", "path": "/metadata/labels"}], id="remove-missing-member"),
        pytest.param([{"op": "add", "path": "/status/phase", "value": "x"}], id="add-under-missing-parent"),
        pytest.param([{"op": "add", "path": "/spec/items/5", "value": "x"}], id="index-out-of-range"),
        pytest.param([{"op": "replace", "path": "/spec/items/x", "value": "x"}], id="index-not-a-number"),
        pytest.param([{"op": "add", "path": "metadata", "value": 1}], id="pointer-without-slash"),
        pytest.param([{"op": "frobnicate", "path": "/a"}], id="unknown-operation"),
        pytest.param([{"op": "add", "value": 1}], id="missing-path"),
        pytest.param([{"op": "move", "from": "/nope", "path": "/a"}], id="move-from-missing"),
        pytest.param([{"op": "replace", "path": "", "value": [1]}], id="document-replaced-by-non-object"),
    ],
)
def test_json_patch_that_does_not_apply_is_422_and_changes_nothing(operations):
    original = copy.deepcopy(POD)
    with pytest.raises(UnprocessablePatch) as raised:
        apply_json_patch(original, [{"op": "add", "path": "/metadata/touched", "value": True}, *operations])
    assert raised.value.to_status()["code"] == 422
    assert raised.value.to_status()["reason"] == "Invalid"
    assert raised.value.message == "the server rejected our request due to an error in our request"
    assert original == POD


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        pytest.param({"op": "add"}, errors.BadRequest, id="not-a-list"),
        pytest.param(["add"], errors.BadRequest, id="operation-not-an-object"),
        pytest.param([{"op": "test", "path": "/a", "value": 1}] * 10001, errors.RequestEntityTooLarge, id="too-many"),
    ],
)
def test_malformed_json_patch(operations, error):
    with pytest.raises(error):
        apply_json_patch({"a": 1}, operations)


# --- strategic merge patch ---------------------------------------------------------------------


def smp(original: dict, patch: dict) -> dict:
    return apply_strategic_merge_patch(original, patch, model=Deployment)


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        pytest.param(
            deployment(container("web"), container("log")),
            template_patch(containers=[{"name": "log", "image": "log:2"}]),
            deployment(container("web"), container("log", "log:2")),
            id="containers-merge-by-name",
        ),
        pytest.param(
            deployment(container("nginx", "nginx:1.24", imagePullPolicy="IfNotPresent"), container("sidecar")),
            template_patch(
                **{
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [{"image": "nginx:1.25", "name": "nginx"}],
                }
            ),
            deployment(container("nginx", "nginx:1.25", imagePullPolicy="IfNotPresent"), container("sidecar")),
            id="kubectl-set-image",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            template_patch(containers=[container("new")]),
            deployment(container("new"), container("web"), container("log")),
            id="new-element-goes-first-without-set-element-order-as-in-kubernetes",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            template_patch(**{"$setElementOrder/containers": [{"name": "log"}, {"name": "web"}]}),
            deployment(container("log"), container("web")),
            id="set-element-order-reorders",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            template_patch(containers=[{"name": "log", "$patch": "delete"}]),
            deployment(container("web")),
            id="patch-delete-on-list-element",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            template_patch(containers=[container("only"), {"$patch": "replace"}]),
            deployment(container("only")),
            id="patch-replace-on-list",
        ),
        pytest.param(
            deployment(container("web", env=env("A", "B"))),
            template_patch(containers=[{"name": "web", "env": [{"name": "B", "value": "new"}, {"name": "C"}]}]),
            deployment(
                container("web", env=[{"name": "A", "value": "a"}, {"name": "B", "value": "new"}, {"name": "C"}])
            ),
            id="nested-merge-lists",
        ),
        pytest.param(
            deployment(container("web", ports=[{"containerPort": 80}, {"containerPort": 443}])),
            template_patch(containers=[{"name": "web", "ports": [{"containerPort": 443, "protocol": "TCP"}]}]),
            deployment(container("web", ports=[{"containerPort": 80}, {"containerPort": 443, "protocol": "TCP"}])),
            id="merge-key-by-wire-name",
        ),
        pytest.param(
            deployment(container("web", args=["a", "b"])),
            template_patch(containers=[{"name": "web", "args": ["c"]}]),
            deployment(container("web", args=["c"])),
            id="list-without-merge-strategy-is-replaced",
        ),
        pytest.param(
            deployment(labels={"app": "web"}),
            {"metadata": {"labels": {"tier": "fe"}}},
            deployment(labels={"app": "web", "tier": "fe"}),
            id="labels-map-merge",
        ),
        pytest.param(
            deployment(labels={"app": "web", "tier": "fe"}),
            {"metadata": {"labels": {"tier": None}}},
            deployment(labels={"app": "web"}),
            id="null-deletes-map-key",
        ),
        pytest.param(
            deployment(labels={"app": "web", "tier": "fe"}),
            {"metadata": {"labels": {"$patch": "replace", "only": "this"}}},
            deployment(labels={"only": "this"}),
            id="patch-replace-on-map",
        ),
        pytest.param(
            deployment(labels={"app": "web"}),
            {"metadata": {"labels": {"$patch": "delete"}}},
            deployment(labels={}),
            id="patch-delete-on-map",
        ),
        pytest.param(
            deployment(labels={"app": "web"}),
            {"metadata": {"labels": {"$patch": "merge", "tier": "fe"}}},
            deployment(labels={"app": "web", "tier": "fe"}),
            id="patch-merge-on-map-is-the-default",
        ),
        pytest.param(
            deployment(finalizers=["a", "b"]),
            {"metadata": {"finalizers": ["b", "c"]}},
            deployment(finalizers=["a", "b", "c"]),
            id="primitive-list-merges-as-a-set",
        ),
        pytest.param(
            deployment(finalizers=["a"]),
            {"metadata": {"finalizers": ["z"]}},
            deployment(finalizers=["z", "a"]),
            id="new-primitive-goes-first-as-in-kubernetes",
        ),
        pytest.param(
            deployment(finalizers=["a", "b", "c"]),
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
            deployment(finalizers=["a", "c"]),
            id="delete-from-primitive-list",
        ),
        pytest.param(
            deployment(finalizers=["a", "b"]),
            {"metadata": {"$setElementOrder/finalizers": ["b", "a"], "finalizers": None}},
            deployment(),
            id="null-list-with-set-element-order-is-deleted",
        ),
        pytest.param(
            deployment(),
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
            deployment(),
            id="delete-from-absent-primitive-list-does-nothing",
        ),
        pytest.param(
            deployment(strategy=ROLLING_UPDATE),
            {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
            deployment(strategy={"type": "Recreate"}),
            id="retain-keys-clears-rolling-update",
        ),
        pytest.param(
            deployment(strategy=ROLLING_UPDATE),
            {"spec": {"strategy": {"type": "Recreate"}}},
            deployment(strategy={**ROLLING_UPDATE, "type": "Recreate"}),
            id="without-retain-keys-rolling-update-stays",
        ),
        pytest.param(
            deployment(),
            {"spec": {"template": {"metadata": RESTARTED}}},
            with_spec(deployment(), template={"metadata": RESTARTED, "spec": {"containers": []}}),
            id="kubectl-rollout-restart",
        ),
        pytest.param(
            deployment(replicas=1),
            {"spec": {"paused": True}},
            with_spec(deployment(replicas=1), paused=True),
            id="kubectl-rollout-pause",
        ),
        pytest.param(
            deployment(status={"conditions": [{"type": "A"}]}),
            {"status": {"conditions": [{"type": "B"}], "observed": None}},
            deployment(status={"conditions": [{"type": "B"}]}),
            id="untyped-field-behaves-like-merge-patch",
        ),
        pytest.param(
            deployment(container("web")),
            template_patch(
                containers=[
                    {"name": "sidecar", "image": "s:1", "args": None, "env": [{"name": "X", "$patch": "delete"}]}
                ]
            ),
            deployment(container("sidecar", "s:1", env=[]), container("web")),
            id="new-element-loses-nulls-and-directives",
        ),
    ],
)
def test_strategic_merge_patch(original, patch, expected):
    assert smp(original, patch) == expected


def test_volume_source_switch_uses_element_retain_keys():
    current = {"spec": {"volumes": [{"name": "data", "hostPath": {"path": "/srv"}}]}}
    patch = {"spec": {"volumes": [{"name": "data", "emptyDir": {}, "$retainKeys": ["emptyDir", "name"]}]}}

    patched = apply_strategic_merge_patch(current, patch, model=PodTemplateSpec)

    assert patched == {"spec": {"volumes": [{"name": "data", "emptyDir": {}}]}}


def test_without_a_model_lists_are_replaced():
    current = deployment(container("web"), container("log"))
    patched = apply_strategic_merge_patch(current, template_patch(containers=[container("log", "log:2")]), model=None)
    assert containers_of(patched) == [container("log", "log:2")]


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        pytest.param(["not", "a", "map"], errors.BadRequest, id="patch-not-an-object"),
        pytest.param(template_patch(containers=[{"image": "x"}]), errors.InternalError, id="element-without-merge-key"),
        pytest.param({"spec": {"strategy": {"$retainKeys": "type"}}}, errors.BadRequest, id="retain-keys-not-a-list"),
        pytest.param(
            {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
            errors.BadRequest,
            id="patched-key-missing-from-retain-keys",
        ),
        pytest.param(
            {"metadata": {"$deleteFromPrimitiveList": ["a"]}}, errors.BadRequest, id="directive-without-field"
        ),
        pytest.param({"metadata": {"$setElementOrder/finalizers": "a"}}, errors.BadRequest, id="order-not-a-list"),
        pytest.param({"metadata": {"finalizers": [["a"]]}}, UnprocessablePatch, id="list-of-lists"),
        pytest.param({"metadata": {"labels": {"$patch": "explode"}}}, errors.InternalError, id="unknown-directive"),
        pytest.param(
            template_patch(
                **{"$setElementOrder/containers": [{"name": "web"}], "containers": [{"name": "log", "image": "x"}]}
            ),
            errors.InternalError,
            id="patch-list-not-in-set-element-order",
        ),
    ],
)
def test_strategic_merge_patch_errors(patch, error):
    current = deployment(container("web"), finalizers=["a"], strategy=ROLLING_UPDATE, labels={"app": "web"})
    with pytest.raises(error):
        smp(current, patch)


# --- three-way merge patch (kubectl apply) -----------------------------------------------------


@pytest.mark.parametrize(
    ("original", "modified", "current", "expected"),
    [
        pytest.param(
            deployment(container("web", env=env("A", "B"))),
            deployment(container("web", env=env("A"))),
            deployment(container("web", env=env("A", "B"))),
            deployment(container("web", env=env("A"))),
            id="env-var-removed-from-file",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            deployment(container("web")),
            deployment(container("web"), container("log")),
            deployment(container("web")),
            id="container-removed-from-file",
        ),
        pytest.param(
            deployment(container("web")),
            deployment(container("web", "web:2")),
            deployment(container("web", imagePullPolicy="Always"), container("injected")),
            deployment(container("web", "web:2", imagePullPolicy="Always"), container("injected")),
            id="image-change-keeps-defaults-and-foreign-containers",
        ),
        pytest.param(
            deployment(container("web", args=["-v"])),
            deployment(container("web")),
            deployment(container("web", args=["-v"])),
            deployment(container("web")),
            id="field-removed-from-file",
        ),
        pytest.param(
            deployment(container("web"), replicas=2),
            deployment(container("web"), replicas=3),
            deployment(container("web"), replicas=5, status={"readyReplicas": 5})
            | {"metadata": {"name": "web", "uid": "u1", "annotations": {"deployment.kubernetes.io/revision": "3"}}},
            deployment(container("web"), replicas=3, status={"readyReplicas": 5})
            | {"metadata": {"name": "web", "uid": "u1", "annotations": {"deployment.kubernetes.io/revision": "3"}}},
            id="live-only-fields-are-kept",
        ),
        pytest.param(
            deployment(container("web"), replicas=2),
            deployment(container("web")),
            deployment(container("web"), replicas=2),
            deployment(container("web")),
            id="replicas-removed-from-file",
        ),
        pytest.param(
            deployment(container("web")),
            deployment(container("web"), strategy={"type": "Recreate"}),
            deployment(container("web"), strategy=ROLLING_UPDATE),
            deployment(container("web"), strategy={"type": "Recreate"}),
            id="strategy-to-recreate-drops-defaulted-rolling-update",
        ),
        pytest.param(
            deployment(labels={"app": "web", "tier": "fe"}),
            deployment(labels={"app": "web"}),
            deployment(labels={"app": "web", "tier": "fe", "injected": "yes"}),
            deployment(labels={"app": "web", "injected": "yes"}),
            id="label-removed-from-file",
        ),
        pytest.param(
            deployment(finalizers=["a"]),
            deployment(finalizers=["b"]),
            deployment(finalizers=["a", "x"]),
            deployment(finalizers=["b", "x"]),
            id="finalizers",
        ),
        pytest.param(
            None,
            deployment(container("web", "web:2")),
            deployment(container("web"), labels={"created": "by-create"}),
            deployment(container("web", "web:2"), labels={"created": "by-create"}),
            id="no-last-applied-configuration-deletes-nothing",
        ),
        pytest.param(
            deployment(container("web"), container("log")),
            deployment(container("log"), container("web", "web:2")),
            deployment(container("web"), container("log")),
            deployment(container("log"), container("web", "web:2")),
            id="order-of-the-file-wins",
        ),
    ],
)
def test_three_way_merge_patch_gives_what_kubectl_apply_gets(original, modified, current, expected):
    patch = create_three_way_merge_patch(original, modified, current, model=Deployment)
    assert smp(current, patch) == expected


def test_three_way_patch_of_env_removal_uses_delete_directive():
    original = deployment(container("web", env=env("A", "B")))
    modified = deployment(container("web", env=env("A")))

    patch = create_three_way_merge_patch(original, modified, copy.deepcopy(original), model=Deployment)

    assert patch == template_patch(
        **{
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [
                {"name": "web", "$setElementOrder/env": [{"name": "A"}], "env": [{"$patch": "delete", "name": "B"}]}
            ],
        }
    )


def test_three_way_patch_is_empty_when_nothing_changed():
    live = deployment(container("web"), labels={"app": "web"}, status={"replicas": 1})
    assert (
        create_three_way_merge_patch(deployment(container("web")), deployment(container("web")), live, model=Deployment)
        == {}
    )


@pytest.mark.parametrize(
    ("original", "modified", "current", "expected_patch", "expected"),
    [
        pytest.param(
            {"spec": {"a": 1, "b": 2}},
            {"spec": {"a": 1}},
            {"spec": {"a": 1, "b": 2, "c": 3}},
            {"spec": {"b": None}},
            {"spec": {"a": 1, "c": 3}},
            id="deletion-from-original-keeps-live-only-fields",
        ),
        pytest.param(
            {"spec": {"items": [1, 2]}},
            {"spec": {"items": [1]}},
            {"spec": {"items": [1, 2], "x": True}},
            {"spec": {"items": [1]}},
            {"spec": {"items": [1], "x": True}},
            id="lists-are-replaced",
        ),
        pytest.param(
            None,
            {"spec": {"a": {"b": 1}}},
            {"spec": {"a": {"c": 2}}},
            {"spec": {"a": {"b": 1}}},
            {"spec": {"a": {"b": 1, "c": 2}}},
            id="no-original",
        ),
    ],
)
def test_three_way_json_merge_patch(original, modified, current, expected_patch, expected):
    patch = create_three_way_json_merge_patch(original, modified, current)
    assert patch == expected_patch
    assert apply_merge_patch(current, patch) == expected


# --- inputs are never mutated ------------------------------------------------------------------

ORIGINAL = deployment(container("web", env=env("A", "B")), container("log"), finalizers=["a"], strategy=ROLLING_UPDATE)
MODIFIED = deployment(container("web", "web:2", env=env("A")), finalizers=["b"], strategy={"type": "Recreate"})
DIRECTIVE_PATCH = {
    "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "labels": {"$patch": "replace", "x": "y"}},
    "spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
        "template": {
            "spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
                "containers": [{"name": "log", "$patch": "delete"}, {"name": "web", "env": [{"name": "C"}]}],
            }
        },
    },
}


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        pytest.param(apply_merge_patch, (ORIGINAL, {"metadata": {"labels": {"a": None}}, "spec": None}), id="merge"),
        pytest.param(
            apply_json_patch,
            (
                ORIGINAL,
                [{"op": "move", "from": "/spec/template", "path": "/t"}, {"op": "copy", "from": "/t", "path": "/u"}],
            ),
            id="json",
        ),
        pytest.param(lambda o, p: smp(o, p), (ORIGINAL, DIRECTIVE_PATCH), id="strategic"),
        pytest.param(
            lambda o, m, c: create_three_way_merge_patch(o, m, c, model=Deployment),
            (ORIGINAL, MODIFIED, ORIGINAL),
            id="three-way",
        ),
        pytest.param(create_three_way_json_merge_patch, (ORIGINAL, MODIFIED, ORIGINAL), id="three-way-json"),
    ],
)
def test_inputs_are_never_mutated(function, arguments):
    before = copy.deepcopy(arguments)
    result = function(*arguments)
    assert arguments == before
    result_again = function(*arguments)
    assert result_again == result
