"""CustomResourceDefinitions and their objects through real kubectl and the `kubernetes` client's CustomObjectsApi.

One apiserver per module; the CRDs below are created once (module fixtures) and every test
works in a namespace of its own. Covers: Established/NamesAccepted, CRUD and watch through
CustomObjectsApi, cluster scope, 422 naming the field, defaulting and pruning, the status
and scale subresources, additionalPrinterColumns, generation, label/field selectors,
finalizers, and deleting a CRD deleting its objects.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION = "example.com", "v1"

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [{
            "name": VERSION, "served": True, "storage": True,
            "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                     "statusReplicasPath": ".status.replicas",
                                                     "labelSelectorPath": ".status.selector"}},
            "selectableFields": [{"jsonPath": ".spec.color"}],
            "additionalPrinterColumns": [
                {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                {"name": "Color", "type": "string", "jsonPath": ".spec.color", "priority": 1},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1, "description": "How big the widget is."},
                        "color": {"type": "string", "enum": ["blue", "red"], "default": "blue"},
                        "replicas": {"type": "integer"},
                    }},
                    "status": {"type": "object", "properties": {
                        "phase": {"type": "string"}, "replicas": {"type": "integer"}, "selector": {"type": "string"},
                    }},
                },
            }},
        }],
    },
}


def crd(plural: str, kind: str, *, scope: str = "Namespaced", group: str = GROUP) -> dict:
    """A minimal CRD: spec preserved as it is, status subresource on."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": scope, "names": {"plural": plural, "kind": kind},
                 "versions": [{"name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }


def widget(name: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": name},
            "spec": {"size": 1, **spec}}


def eventually(check, *, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def api_client(apiserver):
    api = config.new_client_from_config(str(apiserver.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def extensions(api_client):
    return client.ApiextensionsV1Api(api_client)


@pytest.fixture(scope="module")
def custom(api_client):
    return client.CustomObjectsApi(api_client)


def established(extensions, name: str) -> dict:
    def check():
        found = extensions.read_custom_resource_definition(name)
        conditions = {c.type: c.status for c in ((found.status and found.status.conditions) or [])}
        return found if conditions.get("Established") == "True" and conditions.get("NamesAccepted") == "True" else None

    return eventually(check, what=f"crd {name} established")


def create_crd(api_client, extensions, body: dict):
    extensions.create_custom_resource_definition(body)  # a dict is sent as it is
    return established(extensions, body["metadata"]["name"])


@pytest.fixture(scope="module")
def widgets(api_client, extensions):
    return create_crd(api_client, extensions, WIDGET_CRD)


@pytest.fixture
def namespace(api_client):
    name = f"cr-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def test_crd_is_established_with_accepted_names(widgets):
    assert widgets.status.accepted_names.kind == "Widget"
    assert widgets.status.accepted_names.list_kind == "WidgetList"
    assert widgets.status.stored_versions == ["v1"]


def test_crud_through_custom_objects_api(widgets, custom, namespace):
    body = widget("one", size=3, unknown="pruned")
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)
    assert created["spec"] == {"size": 3, "color": "blue"}  # pruned and defaulted
    assert created["metadata"]["generation"] == 1

    got = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one")
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "widgets")
    assert listed["kind"] == "WidgetList" and [item["metadata"]["name"] for item in listed["items"]] == ["one"]

    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one", {"spec": {"size": 5}})
    assert patched["spec"]["size"] == 5 and patched["metadata"]["generation"] == 2

    patched["spec"]["color"] = "red"
    replaced = custom.replace_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one", patched)
    assert replaced["spec"]["color"] == "red"
    with pytest.raises(ApiException) as stale:
        custom.replace_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one", patched)
    assert stale.value.status == 409

    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one")
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "one")
    assert gone.value.status == 404


def test_watch_streams_added_modified_deleted(widgets, custom, namespace):
    seen: list[tuple[str, str]] = []
    stream = watch.Watch()

    def follow():
        for event in stream.stream(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, "widgets",
                                   timeout_seconds=20):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                stream.stop()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    time.sleep(0.5)  # let the watch open (events before it would come as ADDED from the list anyway)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", widget("w"))
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w", {"spec": {"size": 2}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w")
    follower.join(timeout=25)
    assert [kind for kind, _ in seen] == ["ADDED", "MODIFIED", "DELETED"]


def test_schema_violation_is_422_naming_the_field(widgets, custom, namespace):
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", widget("bad", size="big"))
    assert invalid.value.status == 422
    status = json.loads(invalid.value.body)
    assert status["reason"] == "Invalid"
    assert [cause["field"] for cause in status["details"]["causes"]] == ["spec.size"]
    assert "spec.size in body must be of type integer" in status["message"]

    with pytest.raises(ApiException) as below_minimum:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", widget("bad", size=0))
    assert below_minimum.value.status == 422
    with pytest.raises(ApiException) as missing:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets",
                                               {**widget("bad"), "spec": {"color": "red"}})
    assert json.loads(missing.value.body)["details"]["causes"][0] == {
        "reason": "FieldValueRequired", "message": "Required value", "field": "spec.size"}
    with pytest.raises(ApiException):
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "bad")


def test_status_subresource_separates_spec_and_status(widgets, custom, namespace):
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", widget("s"))
    through_main = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "s",
                                                         {"status": {"phase": "Ignored"}})
    assert "status" not in through_main
    through_status = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "widgets", "s", {"status": {"phase": "Ready"}, "spec": {"size": 9}})
    assert through_status["status"] == {"phase": "Ready"}
    assert through_status["spec"]["size"] == 1
    # A status write is no spec change: generation stays.
    assert through_status["metadata"]["generation"] == 1
    assert custom.get_namespaced_custom_object_status(GROUP, VERSION, namespace, "widgets", "s")["status"]["phase"] == "Ready"


def test_label_and_field_selectors(widgets, custom, namespace):
    for name, tier in (("a", "front"), ("b", "back"), ("c", "front")):
        body = widget(name)
        body["metadata"]["labels"] = {"tier": tier}
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)

    def names(**selectors) -> list[str]:
        listed = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", **selectors)
        return sorted(item["metadata"]["name"] for item in listed["items"])

    assert names(label_selector="tier=front") == ["a", "c"]
    assert names(label_selector="tier!=front") == ["b"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector=f"metadata.namespace={namespace},metadata.name!=a") == ["b", "c"]
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "c", {"spec": {"color": "red"}})
    assert names(field_selector="spec.color=red") == ["c"]  # the CRD's selectableFields
    assert names(field_selector="spec.color!=red,metadata.name!=a") == ["b"]
    with pytest.raises(ApiException) as unsupported:
        names(field_selector="spec.size=1")
    assert unsupported.value.status == 400
    assert json.loads(unsupported.value.body)["message"] == "field label not supported: spec.size"


def test_finalizers_hold_deletion_until_removed(widgets, custom, namespace):
    body = widget("held")
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "held")
    terminating = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "held")
    assert terminating["metadata"]["deletionTimestamp"]
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "held",
                                          {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "held")
    assert gone.value.status == 404


def test_cluster_scoped_custom_resource(api_client, extensions, custom):
    create_crd(api_client, extensions, crd("gadgets", "Gadget", scope="Cluster"))
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"any": ["thing"]}}
    created = custom.create_cluster_custom_object(GROUP, VERSION, "gadgets", body)
    assert "namespace" not in created["metadata"]
    assert created["spec"] == {"any": ["thing"]}  # preserved: x-kubernetes-preserve-unknown-fields
    listed = custom.list_cluster_custom_object(GROUP, VERSION, "gadgets")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["g1"]
    custom.patch_cluster_custom_object(GROUP, VERSION, "gadgets", "g1", {"spec": {"more": 1}})
    assert custom.get_cluster_custom_object(GROUP, VERSION, "gadgets", "g1")["spec"] == {"any": ["thing"], "more": 1}
    custom.delete_cluster_custom_object(GROUP, VERSION, "gadgets", "g1")


def test_deleting_the_crd_deletes_its_objects(api_client, extensions, custom, namespace):
    create_crd(api_client, extensions, crd("doomeds", "Doomed"))
    for name in ("x", "y"):
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "doomeds",
                                               {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Doomed",
                                                "metadata": {"name": name}})
    extensions.delete_custom_resource_definition("doomeds.example.com")

    def crd_gone():
        try:
            extensions.read_custom_resource_definition("doomeds.example.com")
        except ApiException as error:
            return error.status == 404
        return False

    eventually(crd_gone, what="the CRD deleted")
    # Recreated, the CRD starts empty: its old objects went with it.
    create_crd(api_client, extensions, crd("doomeds", "Doomed"))
    assert custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "doomeds")["items"] == []


def test_kubectl_short_names_and_schema_error(widgets, kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(widget("k", size=2)))
    names = kubectl("get", "wd", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert names == "k"
    result = kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(widget("k2", size="x")), check=False)
    assert result.returncode != 0
    assert "spec.size" in result.stderr and "must be of type integer" in result.stderr
    kubectl("delete", "wd", "k", "-n", namespace)


def test_printer_columns_in_kubectl_get(widgets, kubectl, namespace, custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", widget("p", size=4, color="red"))
    plain = kubectl("get", "widgets", "-n", namespace).stdout.splitlines()
    assert plain[0].split() == ["NAME", "SIZE", "AGE"]
    assert plain[1].split()[:2] == ["p", "4"]
    wide = kubectl("get", "widgets", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "SIZE", "COLOR", "AGE"]
    assert wide[1].split()[:3] == ["p", "4", "red"]


def test_scale_subresource_and_kubectl_scale(widgets, kubectl, namespace, custom):
    body = widget("sc", replicas=1)
    body["metadata"]["labels"] = {"app": "sc"}
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "widgets", "sc",
                                                 {"status": {"replicas": 1, "selector": "app=sc"}})
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, "widgets", "sc")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"] == {"replicas": 1, "selector": "app=sc"}

    kubectl("scale", "widget", "sc", "-n", namespace, "--replicas=3")
    scaled = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "sc")
    assert scaled["spec"]["replicas"] == 3
    assert scaled["metadata"]["generation"] == 2
    patched = custom.patch_namespaced_custom_object_scale(GROUP, VERSION, namespace, "widgets", "sc",
                                                          {"spec": {"replicas": 5}})
    assert patched["spec"]["replicas"] == 5
    assert custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "sc")["status"]["replicas"] == 1


def test_generation_without_status_subresource_counts_status_too(api_client, extensions, custom, namespace):
    definition = crd("plains", "Plain")
    del definition["spec"]["versions"][0]["subresources"]
    create_crd(api_client, extensions, definition)
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Plain", "metadata": {"name": "p"}, "spec": {"a": 1}}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "plains", body)
    assert created["metadata"]["generation"] == 1
    labelled = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "plains", "p",
                                                     {"metadata": {"labels": {"x": "y"}}})
    assert labelled["metadata"]["generation"] == 1  # metadata is not content
    with_status = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "plains", "p",
                                                        {"status": {"seen": True}})
    assert with_status["status"] == {"seen": True} and with_status["metadata"]["generation"] == 2


def test_an_invalid_crd_is_422_naming_the_field(extensions, kubectl):
    bad = crd("mismatches", "Mismatch")
    bad["metadata"]["name"] = "other.example.com"
    bad["spec"]["versions"][0]["storage"] = False
    with pytest.raises(ApiException) as invalid:
        extensions.create_custom_resource_definition(bad)
    assert invalid.value.status == 422
    fields = [cause["field"] for cause in json.loads(invalid.value.body)["details"]["causes"]]
    assert fields == ["metadata.name", "spec.versions"]
    result = kubectl("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert result.returncode != 0
    assert 'must be spec.names.plural+"."+spec.group' in result.stderr


def test_kubectl_explain_reads_the_crd_schema(widgets, kubectl):
    explained = kubectl("explain", "widgets.spec").stdout
    assert "GROUP:      example.com" in explained and "KIND:       Widget" in explained
    assert "size\t<integer> -required-" in explained and "How big the widget is." in explained
    assert "color\t<string>" in explained
    assert "<Object>" in kubectl("explain", "widgets").stdout  # metadata refers to ObjectMeta


def test_openapi_v2_and_v3_describe_custom_resources(widgets, kubectl):
    def fetch(path: str) -> dict:
        return json.loads(kubectl("get", "--raw", path).stdout)

    v3 = fetch("/openapi/v3/apis/example.com/v1")
    schema = v3["components"]["schemas"]["com.example.v1.Widget"]
    assert schema["x-kubernetes-group-version-kind"] == [{"group": GROUP, "kind": "Widget", "version": VERSION}]
    assert schema["properties"]["spec"]["required"] == ["size"]
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale" in v3["paths"]
    index = fetch("/openapi/v3")
    assert "apis/example.com/v1" in index["paths"]
    v2 = fetch("/openapi/v2")
    assert "com.example.v1.WidgetList" in v2["definitions"]
    assert v2["definitions"]["com.example.v1.Widget"]["properties"]["metadata"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def test_kubectl_validates_custom_resources_on_the_client(widgets, kubectl, namespace):
    bad = widget("unknown-field")
    bad["spec"]["bogus"] = 1
    result = kubectl("apply", "-n", namespace, "--validate=strict", "-f", "-", input=json.dumps(bad), check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.bogus"' in result.stderr
    warned = kubectl("apply", "-n", namespace, "--validate=warn", "-f", "-", input=json.dumps(bad))  # pruned
    assert 'unknown field "spec.bogus"' in warned.stderr
    assert kubectl("get", "widget", "unknown-field", "-n", namespace, "-o", "jsonpath={.spec}").stdout == \
        '{"color":"blue","size":1}'


def test_versions_convert_with_strategy_none_and_schema_changes_prune_on_read(api_client, extensions, custom,
                                                                               namespace, kubectl):
    definition = crd("shapes", "Shape")
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "sides": {"type": "integer"}, "color": {"type": "string"}}}}}
    stored = definition["spec"]["versions"][0]
    stored["schema"] = {"openAPIV3Schema": schema}
    definition["spec"]["versions"] = [{**stored, "name": "v1beta1", "storage": False}, stored]
    create_crd(api_client, extensions, definition)
    body = {"apiVersion": f"{GROUP}/v1beta1", "kind": "Shape", "metadata": {"name": "tri"},
            "spec": {"sides": 3, "color": "red"}}
    assert custom.create_namespaced_custom_object(GROUP, "v1beta1", namespace, "shapes", body)["apiVersion"] == \
        f"{GROUP}/v1beta1"
    as_v1 = custom.get_namespaced_custom_object(GROUP, "v1", namespace, "shapes", "tri")
    assert as_v1["apiVersion"] == f"{GROUP}/v1" and as_v1["spec"] == {"sides": 3, "color": "red"}
    listed = custom.list_namespaced_custom_object(GROUP, "v1", namespace, "shapes")
    assert [item["apiVersion"] for item in listed["items"]] == [f"{GROUP}/v1"]
    patched = custom.patch_namespaced_custom_object(GROUP, "v1", namespace, "shapes", "tri", {"spec": {"sides": 4}})
    assert patched["apiVersion"] == f"{GROUP}/v1" and patched["spec"]["sides"] == 4
    assert custom.get_namespaced_custom_object(GROUP, "v1beta1", namespace, "shapes", "tri")["apiVersion"] == \
        f"{GROUP}/v1beta1"
    group = json.loads(kubectl("get", "--raw", "/apis/example.com").stdout)
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1"
    assert kubectl("get", "shapes", "-n", namespace, "-o", "jsonpath={.items[0].apiVersion}").stdout == f"{GROUP}/v1"

    # The schema loses `color`: stored objects read without it, as kube-apiserver prunes when decoding from etcd.
    current = extensions.read_custom_resource_definition("shapes.example.com")
    versions = api_client.sanitize_for_serialization(current.spec.versions)
    for version in versions:
        del version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["color"]
    extensions.patch_custom_resource_definition("shapes.example.com", {"spec": {"versions": versions}})
    eventually(lambda: "color" not in custom.get_namespaced_custom_object(GROUP, "v1", namespace, "shapes",
                                                                          "tri")["spec"],
               what="the removed field pruned on read")


def test_kubectl_get_crd_prints_created_at(widgets, kubectl):
    lines = kubectl("get", "crd", "widgets.example.com").stdout.splitlines()
    assert lines[0].split() == ["NAME", "CREATED", "AT"]
    assert lines[1].split()[0] == "widgets.example.com" and lines[1].split()[1].endswith("Z")
