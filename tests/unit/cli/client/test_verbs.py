"""The pure parts of the imperative verbs: create's generators, label parsing, set image, expose, wait, flags."""

from __future__ import annotations

import pytest

from cli.client.argv import hoist_global_flags, normalize_boolean_flags
from cli.client.create import collect_data, container_name_for, deployment_for
from cli.client.errors import CliError
from cli.client.expose import service_for
from cli.client.fastpath import parse_get
from cli.client.modify import image_patch, split_changes
from cli.client.resources import ApiResource
from cli.client.wait import Condition, condition_met, parse_for

DEPLOYMENTS = ApiResource("apps", "v1", "deployments", "deployment", "Deployment", True)
PODS = ApiResource("", "v1", "pods", "pod", "Pod", True)


@pytest.mark.parametrize("image, name", [
    pytest.param("busybox", "busybox", id="plain"),
    pytest.param("registry.local:5000/team/echo:v2", "echo", id="registry-and-tag"),
    pytest.param("busybox@sha256:abc", "busybox", id="digest"),
])
def test_container_names(image, name):
    assert container_name_for(image) == name


def test_deployment_generator_matches_kubectls_shape():
    document = deployment_for("web", images=["echo:v1"], replicas=2, port=8080, command=["ping", "x"])
    assert document["spec"]["template"]["spec"]["containers"] == [
        {"name": "echo", "image": "echo:v1", "command": ["ping", "x"], "ports": [{"containerPort": 8080}],
         "resources": {}}]
    assert document["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert document["status"] == {} and document["spec"]["strategy"] == {}


def test_collect_data_refuses_duplicates(tmp_path):
    (tmp_path / "f.txt").write_text("hi\n")
    text, binary = collect_data(kind="ConfigMap", name="c", literals=["a=1"], files=[str(tmp_path / "f.txt")],
                                env_files=[])
    assert text == {"f.txt": "hi\n", "a": "1"} and binary == {}
    with pytest.raises(CliError, match='cannot add key "a", another key by that name already exists'):
        collect_data(kind="ConfigMap", name="c", literals=["a=1", "a=2"], files=[], env_files=[])


@pytest.mark.parametrize("args, resources, to_set, to_remove", [
    pytest.param(["pod", "p", "a=1", "b-"], ["pod", "p"], {"a": "1"}, ["b"], id="set-and-remove"),
    pytest.param(["pod/p", "a="], ["pod/p"], {"a": ""}, [], id="empty-value"),
])
def test_split_changes(args, resources, to_set, to_remove):
    assert split_changes(args, what="label") == (resources, to_set, to_remove)


def test_split_changes_needs_a_change():
    with pytest.raises(CliError, match="at least one label update is required"):
        split_changes(["pod", "p"], what="label")


def test_image_patch():
    deployment = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "v1"},
                                                                {"name": "side", "image": "s1"}]}}}}
    assert image_patch(DEPLOYMENTS, deployment, {"web": "v2"}) == (
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "v2"}]}}}}, [])
    assert image_patch(DEPLOYMENTS, deployment, {"web": "v1"}) == (None, [])
    assert image_patch(DEPLOYMENTS, deployment, {"nope": "x"})[1] == ["nope"]


def test_service_for_a_deployment():
    deployment = {"metadata": {"name": "web", "labels": {"app": "web"}},
                  "spec": {"selector": {"matchLabels": {"app": "web"}},
                           "template": {"spec": {"containers": [{"ports": [{"containerPort": 8080},
                                                                           {"containerPort": 9090,
                                                                            "protocol": "UDP"}]}]}}}}
    service = service_for(DEPLOYMENTS, deployment, name=None, port=None, target_port=None, protocol=None,
                          service_type="NodePort", external_ip=None, cluster_ip=None, labels=None, selector=None,
                          load_balancer_ip=None, session_affinity=None)
    assert service["spec"] == {"ports": [{"name": "port-1", "protocol": "TCP", "port": 8080, "targetPort": 8080},
                                         {"name": "port-2", "protocol": "UDP", "port": 9090, "targetPort": 9090}],
                               "selector": {"app": "web"}, "type": "NodePort"}


@pytest.mark.parametrize("text, condition", [
    pytest.param("delete", Condition("delete"), id="delete"),
    pytest.param("condition=Ready", Condition("condition", "Ready", "True"), id="condition"),
    pytest.param("condition=Available=False", Condition("condition", "Available", "False"), id="condition-value"),
    pytest.param("jsonpath={.status.phase}=Running", Condition("jsonpath", "{.status.phase}", "Running"),
                 id="jsonpath"),
    pytest.param("jsonpath={.status.podIP}", Condition("jsonpath", "{.status.podIP}", None), id="jsonpath-exists"),
])
def test_parse_for(text, condition):
    assert parse_for(text) == condition


@pytest.mark.parametrize("condition, met", [
    pytest.param(Condition("condition", "ready", "true"), True, id="case-insensitive"),
    pytest.param(Condition("condition", "Ready", "False"), False, id="other-value"),
    pytest.param(Condition("condition", "Synced", "True"), False, id="old-generation"),
    pytest.param(Condition("jsonpath", "{.status.phase}", "Running"), True, id="jsonpath"),
])
def test_condition_met(condition, met):
    pod = {"metadata": {"generation": 2},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"},
                                                         {"type": "Synced", "status": "True", "observedGeneration": 1}]}}
    assert condition_met(pod, condition) is met


@pytest.mark.parametrize("argv, expected", [
    pytest.param(["delete", "x", "--wait=false"], ["delete", "x", "--no-wait"], id="default-true"),
    pytest.param(["label", "--overwrite=true"], ["label", "--overwrite"], id="default-false-on"),
    pytest.param(["label", "--overwrite=false"], ["label"], id="default-false-off"),
    pytest.param(["create", "deploy", "--", "x", "--wait=false"], ["create", "deploy", "--", "x", "--wait=false"],
                 id="after-double-dash"),
])
def test_boolean_flags(argv, expected):
    assert normalize_boolean_flags(argv) == expected


@pytest.mark.parametrize("argv, expected", [
    pytest.param(["-n", "ns", "get", "pods"], ["get", "-n", "ns", "pods"], id="namespace"),
    pytest.param(["--kubeconfig=k", "-nns", "create", "deployment", "x"],
                 ["create", "--kubeconfig=k", "-nns", "deployment", "x"], id="inline-values"),
    pytest.param(["--context", "c", "-s", "https://h", "version"], ["version", "--context", "c", "-s", "https://h"],
                 id="several"),
    pytest.param(["get", "-n", "ns", "pods"], ["get", "-n", "ns", "pods"], id="already-after"),
    pytest.param(["-n"], ["-n"], id="missing-value"),
    pytest.param(["-n", "ns"], ["-n", "ns"], id="no-verb"),
    pytest.param(["--help"], ["--help"], id="help"),
])
def test_global_flags_before_the_verb_move_after_it(argv, expected):
    assert hoist_global_flags(argv) == expected


def test_fast_path_parses_common_get_lines_and_leaves_the_rest():
    connection, request = parse_get(["pods", "-n", "web", "-o=wide", "-l", "app=x", "-A", "-L", "a,b"])
    assert connection == {"namespace": "web"}
    assert request == {"args": ["pods"], "output": "wide", "label_selector": "app=x", "all_namespaces": True,
                       "label_columns": ("a", "b")}
    assert parse_get(["pods", "--help"]) is None
    assert parse_get(["pods", "-f", "x.yaml"]) is None
