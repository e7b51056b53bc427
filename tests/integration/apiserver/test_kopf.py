"""kopf acceptance: a kopf operator (kopf from PyPI, run on the host) handles create, update and delete of a CR.

The operator (kopf_operator.py) runs as `python -m kopf run --standalone --namespace NS` with the
admin kubeconfig against the module's apiserver. kopf lists and watches with resourceVersion,
merge-patches the object (its finalizer, its last-handled-configuration annotation) and `/status`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

pytest.importorskip("kopf")

GROUP, VERSION = "example.com", "v1"
OPERATOR = Path(__file__).with_name("kopf_operator.py")

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": GROUP, "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
             "versions": [{"name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                               "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                           }}}}]},
}


def eventually(check, *, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def api_client(apiserver):
    api = config.new_client_from_config(str(apiserver.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def namespace(api_client):
    name = f"kopf-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    extensions = client.ApiextensionsV1Api(api_client)
    extensions.create_custom_resource_definition(CRD)

    def established():
        status = extensions.read_custom_resource_definition("widgets.example.com").status
        return status and any(c.type == "Established" and c.status == "True" for c in status.conditions or [])

    eventually(established, what="the CRD established")
    return name


@contextlib.contextmanager
def running_operator(apiserver, namespace: str, directory: Path, *, standalone: bool = True):
    """`python -m kopf run [--standalone] --namespace NS kopf_operator.py`; yields (events file, log file)."""
    events, log = directory / "events", directory / "operator.log"
    environment = {**os.environ, "KUBECONFIG": str(apiserver.kubeconfig), "WIDGET_EVENTS": str(events)}
    flags = ["--standalone"] if standalone else []
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "kopf", "run", *flags, "--namespace", namespace,
                                    str(OPERATOR)], env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield events, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def operator(apiserver, namespace, tmp_path_factory):
    with running_operator(apiserver, namespace, tmp_path_factory.mktemp("kopf")) as files:
        yield files


def test_kopf_operator_handles_create_update_delete(api_client, namespace, operator):
    events, log = operator
    custom = client.CustomObjectsApi(api_client)
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 1}}
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)

    def status_is(phase: str, size: int):
        def check():
            status = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w1").get("status") or {}
            return status.get("phase") == phase and status.get("observedSize") == size
        return check

    try:
        eventually(status_is("Created", 1), what="kopf's create handler writing status")
        handled = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w1")
        assert handled["metadata"]["finalizers"] == ["kopf.zalando.org/KopfFinalizerMarker"]

        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w1", {"spec": {"size": 2}})
        eventually(status_is("Updated", 2), what="kopf's update handler writing status")

        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w1")

        def gone():
            try:
                custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w1")
            except ApiException as error:
                return error.status == 404
            return False

        eventually(gone, what="the finalizer released by kopf and the widget deleted")
        assert events.read_text() == f"deleted {namespace}/w1\n"
        if os.environ.get("KOPF_TEST_LOG"):
            print(log.read_text())
    except AssertionError:
        print(log.read_text())  # the operator's own account, for whoever reads the failure
        raise


PEERING_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "kopfpeerings.kopf.dev"},
    "spec": {"scope": "Namespaced", "group": "kopf.dev",
             "names": {"kind": "KopfPeering", "plural": "kopfpeerings", "singular": "kopfpeering"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {
                     "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]},
}


def test_kopf_peering_without_standalone(apiserver, api_client, namespace, tmp_path):
    """Not standalone, kopf keeps its liveness in a KopfPeering object (kopf's own CRD) and still handles widgets.
    (`namespace` is the standalone operator's: asking for it creates the Widget CRD; this test uses its own.)"""
    name = f"peer-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    extensions = client.ApiextensionsV1Api(api_client)
    extensions.create_custom_resource_definition(PEERING_CRD)
    custom = client.CustomObjectsApi(api_client)
    eventually(lambda: _served(custom, "kopf.dev", "kopfpeerings", name), what="kopfpeerings served")
    custom.create_namespaced_custom_object("kopf.dev", "v1", name, "kopfpeerings", {
        "apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "default"}})
    with running_operator(apiserver, name, tmp_path, standalone=False) as (_, log):
        try:
            eventually(lambda: (custom.get_namespaced_custom_object("kopf.dev", "v1", name, "kopfpeerings",
                                                                    "default").get("status") or {}),
                       what="kopf announcing itself in the peering object")
            custom.create_namespaced_custom_object(GROUP, VERSION, name, "widgets", {
                "apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": "p"}, "spec": {"size": 7}})
            eventually(lambda: (custom.get_namespaced_custom_object(GROUP, VERSION, name, "widgets", "p").get("status")
                                or {}).get("observedSize") == 7, what="the widget handled")
        except AssertionError:
            print(log.read_text())
            raise


def _served(custom, group: str, plural: str, namespace: str) -> bool:
    try:
        custom.list_namespaced_custom_object(group, "v1", namespace, plural)
    except ApiException:
        return False
    return True
