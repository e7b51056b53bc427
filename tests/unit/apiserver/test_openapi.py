"""The OpenAPI documents: what kubectl 1.32 reads from them is there, in the form it reads it.

`supports_query_param` and `PatchMeta` below are small ports of kubectl's own look-ups
(cli-runtime query_param_verifier_v3.go and apimachinery strategicpatch
PatchMetaFromOpenAPIV3), so a document that passes here is one kubectl can use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.api import apps_v1, coordination_v1, core_v1
from orchestrator.api.errors import NotFound
from orchestrator.apiserver.openapi import (
    ResourceDoc,
    openapi_v2_document,
    openapi_v2_document_json,
    openapi_v3_document,
    openapi_v3_document_hash,
    openapi_v3_document_json,
    openapi_v3_index,
)

SCHEMAS = "#/components/schemas/"


def new_resources(**pod_overrides: Any) -> list[ResourceDoc]:
    pod = {"subresources": ["status", "binding", "log", "exec"], **pod_overrides}
    return [
        ResourceDoc("", "v1", "Pod", "pods", True, core_v1.Pod, **pod),
        ResourceDoc("", "v1", "Binding", "bindings", True, core_v1.Binding, verbs=("create",)),
        ResourceDoc("", "v1", "Service", "services", True, core_v1.Service, ("status",)),
        ResourceDoc("", "v1", "Node", "nodes", False, core_v1.Node, ("status",)),
        ResourceDoc("", "v1", "ConfigMap", "configmaps", True, core_v1.ConfigMap),
        ResourceDoc("apps", "v1", "Deployment", "deployments", True, apps_v1.Deployment, ("status", "scale")),
        ResourceDoc("apps", "v1", "ReplicaSet", "replicasets", True, apps_v1.ReplicaSet, ("status", "scale")),
        ResourceDoc("coordination.k8s.io", "v1", "Lease", "leases", True, coordination_v1.Lease),
    ]


RESOURCES = new_resources()


def v3(group_version: str) -> dict:
    return openapi_v3_document(group_version, RESOURCES)


def gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "kind": kind, "version": version}


# --- ports of kubectl's look-ups --------------------------------------------------------------


def supports_query_param(document: dict, target_gvk: dict, parameter: str) -> bool:
    """query_param_verifier_v3.go: the first PATCH operation of the GVK decides, by its own parameters."""
    for path_item in document["paths"].values():
        patch = path_item.get("patch")
        if patch is None or patch.get("x-kubernetes-group-version-kind") != target_gvk:
            continue
        return any(p["name"] == parameter and p["in"] == "query" for p in patch.get("parameters", []))
    raise AssertionError(f"no PATCH operation for {target_gvk}")


def supports_strategic_merge_patch(document: dict, target_gvk: dict) -> bool:
    """patcher.go gvkSupportsPatchOpenAPIV3."""
    for path_item in document["paths"].values():
        patch = path_item.get("patch")
        if patch and patch.get("x-kubernetes-group-version-kind") == target_gvk:
            return "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    return False


class PatchMeta:
    """strategicpatch.PatchMetaFromOpenAPIV3: walks properties, reads the extensions, follows allOf[0] and $ref."""

    def __init__(self, schema: dict, schemas: dict):
        self.schema, self.schemas = schema, schemas

    @classmethod
    def for_kind(cls, document: dict, target_gvk: dict) -> PatchMeta:
        schemas = document["components"]["schemas"]
        for schema in schemas.values():
            if target_gvk in schema.get("x-kubernetes-group-version-kind", []):
                return cls(schema, schemas)
        raise AssertionError(f"no component schema lists {target_gvk}")

    def _resolve(self, schema: dict) -> dict:
        if schema.get("allOf"):
            schema = schema["allOf"][0]
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"].removeprefix(SCHEMAS)]
        return schema

    def struct(self, key: str) -> tuple[PatchMeta, str, str]:
        prop = self.schema["properties"][key]  # KeyError is kubectl's "unable to find api field"
        meta = (prop.get("x-kubernetes-patch-strategy", ""), prop.get("x-kubernetes-patch-merge-key", ""))
        return PatchMeta(self._resolve(prop), self.schemas), *meta

    def slice(self, key: str) -> tuple[PatchMeta, str, str]:
        prop = self.schema["properties"][key]
        meta = (prop.get("x-kubernetes-patch-strategy", ""), prop.get("x-kubernetes-patch-merge-key", ""))
        return PatchMeta(self._resolve(prop.get("items", prop)), self.schemas), *meta


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def all_refs(document: dict) -> set[str]:
    return {value for key, value in walk(document) if key == "$ref"}


# --- the index --------------------------------------------------------------------------------


def test_index_names_every_group_version_with_its_document_hash() -> None:
    index = openapi_v3_index(["v1", "apps/v1", "coordination.k8s.io/v1"], resources=RESOURCES)

    assert list(index["paths"]) == ["api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1"]
    assert index["paths"]["apis/apps/v1"]["serverRelativeURL"] == (
        f"/openapi/v3/apis/apps/v1?hash={openapi_v3_document_hash('apps/v1', RESOURCES)}"
    )


def test_index_without_resources_has_plain_urls() -> None:
    assert openapi_v3_index(["v1"]) == {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1"}}}


def test_document_hash_changes_with_the_served_resources() -> None:
    fewer_pod_verbs = new_resources(verbs=("get", "list"))

    assert openapi_v3_document_hash("v1", RESOURCES) == openapi_v3_document_hash("api/v1", RESOURCES)
    assert openapi_v3_document_hash("v1", RESOURCES) != openapi_v3_document_hash("v1", fewer_pod_verbs)
    assert openapi_v3_document_hash("apps/v1", RESOURCES) == openapi_v3_document_hash("apps/v1", fewer_pod_verbs)


# --- v3 documents -----------------------------------------------------------------------------


@pytest.mark.parametrize("group_version", ["v1", "apps/v1", "coordination.k8s.io/v1", "api/v1", "apis/apps/v1"])
def test_documents_are_json_with_every_reference_resolved(group_version: str) -> None:
    document = json.loads(openapi_v3_document_json(group_version, RESOURCES))
    schemas = document["components"]["schemas"]

    assert document["openapi"] == "3.0.0"
    for ref in all_refs(document):
        assert ref.startswith(SCHEMAS) and ref.removeprefix(SCHEMAS) in schemas, ref


@pytest.mark.parametrize("group_version", ["v1", "apps/v1"])
def test_schemas_carry_no_pydantic_leftovers(group_version: str) -> None:
    # kubectl explain cannot render `additionalProperties: true`; Kubernetes schemas have no null branches or titles.
    pairs = list(walk(v3(group_version)["components"]["schemas"]))

    assert not [key for key, _ in pairs if key in ("anyOf", "$defs", "x-orc-named-schema")]
    assert ("additionalProperties", True) not in pairs and ("additionalProperties", False) not in pairs
    assert ("type", "null") not in pairs


def test_unknown_group_version_is_not_found() -> None:
    with pytest.raises(NotFound):
        openapi_v3_document("batch/v1", RESOURCES)


def test_documents_are_built_once() -> None:
    assert openapi_v3_document("apps/v1", new_resources()) is openapi_v3_document("apis/apps/v1", new_resources())


@pytest.mark.parametrize(
    ("group_version", "schema", "expected_gvks"),
    [
        pytest.param("v1", "io.k8s.api.core.v1.Pod", [gvk("", "v1", "Pod")], id="pod"),
        pytest.param("v1", "io.k8s.api.core.v1.Node", [gvk("", "v1", "Node")], id="node"),
        pytest.param("v1", "io.k8s.api.core.v1.Binding", [gvk("", "v1", "Binding")], id="binding"),
        pytest.param("v1", "io.k8s.api.core.v1.PodList", [gvk("", "v1", "PodList")], id="pod-list"),
        pytest.param("v1", "io.k8s.apimachinery.pkg.apis.meta.v1.Status", [gvk("", "v1", "Status")], id="status"),
        pytest.param("apps/v1", "io.k8s.api.apps.v1.Deployment", [gvk("apps", "v1", "Deployment")], id="deployment"),
        pytest.param("apps/v1", "io.k8s.api.autoscaling.v1.Scale", [gvk("autoscaling", "v1", "Scale")], id="scale"),
        pytest.param(
            "apps/v1",
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            [gvk("apps", "v1", "DeleteOptions")],
            id="delete-options",
        ),
        pytest.param(
            "coordination.k8s.io/v1",
            "io.k8s.api.coordination.v1.Lease",
            [gvk("coordination.k8s.io", "v1", "Lease")],
            id="lease",
        ),
    ],
)
def test_top_level_schemas_carry_their_group_version_kind(group_version: str, schema: str, expected_gvks: list) -> None:
    assert v3(group_version)["components"]["schemas"][schema]["x-kubernetes-group-version-kind"] == expected_gvks


def test_a_kind_without_list_verb_has_no_list_schema() -> None:
    assert "io.k8s.api.core.v1.BindingList" not in v3("v1")["components"]["schemas"]


@pytest.mark.parametrize(
    ("group_version", "kind_gvk", "path", "expected"),
    [
        pytest.param(
            "apps/v1",
            gvk("apps", "v1", "Deployment"),
            ["spec", "template", "spec", "containers"],
            ("merge", "name"),
            id="containers",
        ),
        pytest.param(
            "apps/v1",
            gvk("apps", "v1", "Deployment"),
            ["spec", "template", "spec", "containers", "ports"],
            ("merge", "containerPort"),
            id="container-ports",
        ),
        pytest.param(
            "apps/v1",
            gvk("apps", "v1", "Deployment"),
            ["spec", "template", "spec", "containers", "env"],
            ("merge", "name"),
            id="env",
        ),
        pytest.param(
            "apps/v1",
            gvk("apps", "v1", "Deployment"),
            ["spec", "template", "spec", "volumes"],
            ("merge,retainKeys", "name"),
            id="volumes",
        ),
        pytest.param(
            "apps/v1", gvk("apps", "v1", "Deployment"), ["spec", "strategy"], ("retainKeys", ""), id="strategy"
        ),
        pytest.param(
            "apps/v1", gvk("apps", "v1", "Deployment"), ["metadata", "finalizers"], ("merge", ""), id="finalizers"
        ),
        pytest.param(
            "apps/v1",
            gvk("apps", "v1", "Deployment"),
            ["status", "conditions"],
            ("merge", "type"),
            id="deployment-conditions",
        ),
        pytest.param(
            "v1", gvk("", "v1", "Pod"), ["metadata", "ownerReferences"], ("merge", "uid"), id="owner-references"
        ),
        pytest.param("v1", gvk("", "v1", "Pod"), ["spec", "tolerations"], ("", ""), id="tolerations"),
        pytest.param("v1", gvk("", "v1", "Service"), ["spec", "ports"], ("merge", "port"), id="service-ports"),
        pytest.param("v1", gvk("", "v1", "Node"), ["status", "addresses"], ("merge", "type"), id="node-addresses"),
    ],
)
def test_kubectl_finds_patch_metadata_along_the_path(
    group_version: str, kind_gvk: dict, path: list, expected: tuple
) -> None:
    meta = PatchMeta.for_kind(v3(group_version), kind_gvk)
    for key in path[:-1]:
        # kubectl descends into a list with the slice look-up and into a struct with the struct one.
        is_list = meta.schema["properties"][key].get("type") == "array"
        meta = (meta.slice if is_list else meta.struct)(key)[0]
    last = meta.schema["properties"][path[-1]]

    lookup = meta.slice if last.get("type") == "array" else meta.struct
    assert lookup(path[-1])[1:] == expected


@pytest.mark.parametrize(
    ("group_version", "kind_gvk"),
    [
        pytest.param("v1", gvk("", "v1", "Pod"), id="pod"),
        pytest.param("v1", gvk("", "v1", "Node"), id="node-cluster-scoped"),
        pytest.param("v1", gvk("", "v1", "ConfigMap"), id="configmap"),
        pytest.param("apps/v1", gvk("apps", "v1", "Deployment"), id="deployment"),
        pytest.param("apps/v1", gvk("autoscaling", "v1", "Scale"), id="scale"),
        pytest.param("coordination.k8s.io/v1", gvk("coordination.k8s.io", "v1", "Lease"), id="lease"),
    ],
)
def test_kubectl_sees_server_side_field_validation_and_strategic_merge_patch(
    group_version: str, kind_gvk: dict
) -> None:
    document = v3(group_version)

    assert supports_query_param(document, kind_gvk, "fieldValidation")
    assert supports_strategic_merge_patch(document, kind_gvk)


def test_every_patch_operation_offers_field_validation() -> None:
    # kubectl stops at the first PATCH of the kind it meets, in map order: every one must have it.
    for group_version in ("v1", "apps/v1", "coordination.k8s.io/v1"):
        for path, item in v3(group_version)["paths"].items():
            if "patch" in item:
                assert "fieldValidation" in [p["name"] for p in item["patch"]["parameters"]], path


@pytest.mark.parametrize(
    ("group_version", "path", "expected_methods"),
    [
        pytest.param(
            "v1", "/api/v1/namespaces/{namespace}/pods", {"get", "post", "delete"}, id="namespaced-collection"
        ),
        pytest.param(
            "v1", "/api/v1/namespaces/{namespace}/pods/{name}", {"get", "put", "patch", "delete"}, id="namespaced-item"
        ),
        pytest.param("v1", "/api/v1/pods", {"get"}, id="all-namespaces-list"),
        pytest.param("v1", "/api/v1/namespaces/{namespace}/pods/{name}/status", {"get", "put", "patch"}, id="status"),
        pytest.param("v1", "/api/v1/namespaces/{namespace}/pods/{name}/binding", {"post"}, id="binding-subresource"),
        pytest.param("v1", "/api/v1/namespaces/{namespace}/bindings", {"post"}, id="create-only-resource"),
        pytest.param("v1", "/api/v1/nodes", {"get", "post", "delete"}, id="cluster-collection"),
        pytest.param("v1", "/api/v1/nodes/{name}", {"get", "put", "patch", "delete"}, id="cluster-item"),
        pytest.param(
            "apps/v1",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
            {"get", "put", "patch"},
            id="scale",
        ),
    ],
)
def test_paths_have_the_operations_of_the_verbs(group_version: str, path: str, expected_methods: set) -> None:
    item = v3(group_version)["paths"][path]

    assert set(item) - {"parameters"} == expected_methods


def test_connect_subresources_and_missing_verbs_make_no_paths() -> None:
    paths = v3("v1")["paths"]

    assert "/api/v1/namespaces/{namespace}/pods/{name}/log" not in paths
    assert "/api/v1/namespaces/{namespace}/bindings/{name}" not in paths
    assert "/api/v1/bindings" not in paths


@pytest.mark.parametrize(
    ("path", "method", "action", "expected_gvk", "operation_id"),
    [
        pytest.param(
            "/api/v1/namespaces/{namespace}/pods",
            "get",
            "list",
            gvk("", "v1", "Pod"),
            "listCoreV1NamespacedPod",
            id="list",
        ),
        pytest.param(
            "/api/v1/namespaces/{namespace}/pods",
            "post",
            "post",
            gvk("", "v1", "Pod"),
            "createCoreV1NamespacedPod",
            id="create",
        ),
        pytest.param(
            "/api/v1/namespaces/{namespace}/pods",
            "delete",
            "deletecollection",
            gvk("", "v1", "Pod"),
            "deleteCoreV1CollectionNamespacedPod",
            id="deletecollection",
        ),  # fmt: skip
        pytest.param(
            "/api/v1/nodes/{name}",
            "put",
            "put",
            gvk("", "v1", "Node"),
            "replaceCoreV1Node",
            id="replace-cluster-scoped",
        ),
        pytest.param(
            "/api/v1/namespaces/{namespace}/pods/{name}/status",
            "patch",
            "patch",
            gvk("", "v1", "Pod"),
            "patchCoreV1NamespacedPodStatus",
            id="patch-status",
        ),  # fmt: skip
        pytest.param(
            "/api/v1/namespaces/{namespace}/pods/{name}/binding",
            "post",
            "post",
            gvk("", "v1", "Binding"),
            "createCoreV1NamespacedPodBinding",
            id="binding",
        ),  # fmt: skip
        pytest.param(
            "/api/v1/pods", "get", "list", gvk("", "v1", "Pod"), "listCoreV1PodForAllNamespaces", id="list-everywhere"
        ),
    ],
)
def test_operations_carry_action_gvk_and_kubernetes_operation_ids(
    path: str, method: str, action: str, expected_gvk: dict, operation_id: str
) -> None:
    operation = v3("v1")["paths"][path][method]

    assert operation["x-kubernetes-action"] == action
    assert operation["x-kubernetes-group-version-kind"] == expected_gvk
    assert operation["operationId"] == operation_id


@pytest.mark.parametrize(
    ("method", "expected_parameters"),
    [
        pytest.param("post", {"dryRun", "fieldManager", "fieldValidation"}, id="create"),
        pytest.param(
            "get",
            {"labelSelector", "fieldSelector", "limit", "continue", "watch", "resourceVersion", "timeoutSeconds"},
            id="list",
        ),
        pytest.param(
            "delete", {"dryRun", "gracePeriodSeconds", "propagationPolicy", "labelSelector"}, id="deletecollection"
        ),
    ],
)
def test_collection_operations_have_their_query_parameters(method: str, expected_parameters: set) -> None:
    operation = v3("apps/v1")["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"][method]

    assert expected_parameters <= {p["name"] for p in operation["parameters"] if p["in"] == "query"}


def test_item_paths_declare_their_path_parameters() -> None:
    paths = v3("v1")["paths"]

    assert [
        p["name"] for p in paths["/api/v1/namespaces/{namespace}/pods/{name}"]["parameters"] if p["in"] == "path"
    ] == [
        "namespace",
        "name",
    ]
    assert [p["name"] for p in paths["/api/v1/nodes/{name}"]["parameters"] if p["in"] == "path"] == ["name"]


@pytest.mark.parametrize(
    ("schema", "prop", "expected_ref"),
    [
        pytest.param(
            "io.k8s.api.core.v1.ServicePort",
            "targetPort",
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            id="int-or-string",
        ),
        pytest.param(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "creationTimestamp",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
            id="time",
        ),
        pytest.param(
            "io.k8s.api.core.v1.EmptyDirVolumeSource",
            "sizeLimit",
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
            id="quantity",
        ),
        pytest.param("io.k8s.api.core.v1.PodSpec", "containers", "io.k8s.api.core.v1.Container", id="list-of-structs"),
        pytest.param(
            "io.k8s.api.core.v1.Pod", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", id="struct"
        ),
    ],
)
def test_properties_reference_kubernetes_named_schemas(schema: str, prop: str, expected_ref: str) -> None:
    # As Kubernetes writes v3: a struct property is `allOf: [{$ref}]`, a list has `items: {$ref}`.
    prop_schema = v3("v1")["components"]["schemas"][schema]["properties"][prop]
    target = prop_schema["items"] if prop_schema.get("type") == "array" else prop_schema["allOf"][0]

    assert target == {"$ref": SCHEMAS + expected_ref}


def test_named_scalars_read_as_kubectl_explain_shows_them() -> None:
    # `kubectl explain` prints the schema name when a referenced schema has no type: <IntOrString>, <Quantity>.
    schemas = v3("v1")["components"]["schemas"]

    assert "type" not in schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert "type" not in schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["type"] == "string"


def test_required_fields_are_listed() -> None:
    schemas = v3("v1")["components"]["schemas"]

    assert schemas["io.k8s.api.core.v1.Container"]["required"] == ["name"]
    assert schemas["io.k8s.api.core.v1.ServicePort"]["required"] == ["port"]
    assert "required" not in schemas["io.k8s.api.core.v1.PodSpec"]


# --- v2 ---------------------------------------------------------------------------------------


def test_v2_document_is_swagger_with_definitions() -> None:
    document = json.loads(openapi_v2_document_json(RESOURCES))
    definitions = document["definitions"]

    assert document["swagger"] == "2.0"
    for ref in all_refs(document):
        assert ref.startswith("#/definitions/") and ref.removeprefix("#/definitions/") in definitions, ref
    assert definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert (
        definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]["x-kubernetes-patch-strategy"]
        == "retainKeys"
    )
    assert definitions["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        gvk("apps", "v1", "Deployment")
    ]


def test_v2_operations_declare_what_they_consume() -> None:
    # kubectl's v2 fallback picks the patch type from the PATCH operation's `consumes`.
    paths = openapi_v2_document(RESOURCES)["paths"]
    patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]

    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert patch["x-kubernetes-group-version-kind"] == gvk("apps", "v1", "Deployment")
    assert {
        "name": "body",
        "in": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"},
    } in patch["parameters"]
    assert "/api/v1/namespaces/{namespace}/pods/{name}/status" in paths
    assert "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases" in paths


def _served_resources() -> list[ResourceDoc]:
    from orchestrator.apiserver.registry import RESOURCES

    return [ResourceDoc(group=r.group, version=r.version, kind=r.kind, plural=r.plural, namespaced=r.namespaced,
                        model=r.model, subresources=r.subresources, verbs=r.verbs)
            for r in RESOURCES if r.model is not None]


def test_v2_document_builds_for_every_served_kind() -> None:
    """core/v1 and discovery/v1 both define EndpointPort: the v2 document must still build."""
    document = openapi_v2_document(_served_resources())
    definitions = document["definitions"]
    assert "io.k8s.api.core.v1.EndpointPort" in definitions
    assert "io.k8s.api.discovery.v1.EndpointPort" in definitions
    refs = {value for key, value in walk(document) if key == "$ref"}
    assert {ref.removeprefix("#/definitions/") for ref in refs} <= set(definitions)
    delete_options = definitions["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"][
        "x-kubernetes-group-version-kind"]
    assert {"group": "apps", "kind": "DeleteOptions", "version": "v1"} in delete_options
    assert {"group": "", "kind": "DeleteOptions", "version": "v1"} in delete_options


def test_v3_document_builds_for_every_served_group_version() -> None:
    resources = _served_resources()
    for group_version in sorted({r.group_version for r in resources}):
        document = openapi_v3_document(group_version, resources)
        refs = {value for key, value in walk(document) if key == "$ref"}
        assert {ref.removeprefix(SCHEMAS) for ref in refs} <= set(document["components"]["schemas"]), group_version
