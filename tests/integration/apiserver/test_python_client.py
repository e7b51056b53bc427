"""Acceptance for the apiserver through the official `kubernetes` Python client (issue 2, acceptance 2)."""

from __future__ import annotations

import threading
import uuid

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


@pytest.fixture
def core(apiserver):
    api_client = config.new_client_from_config(str(apiserver.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture
def apps(apiserver):
    api_client = config.new_client_from_config(str(apiserver.kubeconfig))
    yield client.AppsV1Api(api_client)
    api_client.close()


@pytest.fixture
def namespace(core):
    name = f"py-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def new_deployment(name: str, image: str = "echo:v1") -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image=image)]),
            ),
        ),
    )


def test_crud_and_conflict(apps, namespace):
    created = apps.create_namespaced_deployment(namespace, new_deployment("web"))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted by the server

    listed = apps.list_namespaced_deployment(namespace, label_selector="")
    assert [d.metadata.name for d in listed.items] == ["web"]

    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4
    assert patched.metadata.generation == 2

    stale = created
    stale.spec.replicas = 7
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("web", namespace, stale)
    assert conflict.value.status == 409

    fresh = apps.read_namespaced_deployment("web", namespace)
    fresh.spec.replicas = 7
    replaced = apps.replace_namespaced_deployment("web", namespace, fresh)
    assert replaced.spec.replicas == 7

    with pytest.raises(ApiException) as exists:
        apps.create_namespaced_deployment(namespace, new_deployment("web"))
    assert exists.value.status == 409

    apps.delete_namespaced_deployment("web", namespace)
    with pytest.raises(ApiException) as gone:
        apps.read_namespaced_deployment("web", namespace)
    assert gone.value.status == 404


def test_watch_stream_of_pods(core, namespace):
    events: list[tuple[str, str]] = []
    ready = threading.Event()

    def consume():
        stream = watch.Watch()
        ready.set()
        for event in stream.stream(core.list_namespaced_pod, namespace, timeout_seconds=15):
            events.append((event["type"], event["object"].metadata.name))
            if len(events) >= 3:
                stream.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    ready.wait()
    import time

    time.sleep(0.5)
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="watched"),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
    core.create_namespaced_pod(namespace, pod)
    core.patch_namespaced_pod("watched", namespace, {"metadata": {"labels": {"x": "y"}}})
    core.delete_namespaced_pod("watched", namespace, grace_period_seconds=0)
    thread.join(20)
    assert events == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]
