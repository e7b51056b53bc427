"""The garbage collector follows custom resources: a ConfigMap owned by a custom object goes when the object goes."""

from __future__ import annotations

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import CONFIGMAPS, Resource
from orchestrator.controllers.garbagecollector import CUSTOMRESOURCEDEFINITIONS
from tests.integration.controllers.helpers import eventually

WIDGETS = Resource("gc.example.com", "v1", "widgets", "Widget", True)

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.gc.example.com"},
    "spec": {"group": "gc.example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}


async def _served(client) -> bool:
    try:
        await client.list(WIDGETS, namespace="default")
    except NotFound:
        return False
    return True


async def _gone(client, namespace: str, name: str) -> bool:
    try:
        await client.get(CONFIGMAPS, name, namespace=namespace)
    except NotFound:
        return True
    return False


async def test_deleting_a_custom_object_collects_what_it_owns(client, namespace, controller_manager):
    await client.create(CUSTOMRESOURCEDEFINITIONS, CRD)
    await eventually(lambda: _served(client), what="widgets served")
    owner = await client.create(WIDGETS, {"apiVersion": "gc.example.com/v1", "kind": "Widget",
                                          "metadata": {"name": "owner"}, "spec": {}}, namespace=namespace)
    reference = {"apiVersion": "gc.example.com/v1", "kind": "Widget", "name": "owner",
                 "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}
    await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "owned", "ownerReferences": [reference]}}, namespace=namespace)
    await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "free"}},
                        namespace=namespace)
    await client.delete(WIDGETS, "owner", namespace=namespace)
    await eventually(lambda: _gone(client, namespace, "owned"), what="the owned ConfigMap collected")
    assert await client.get(CONFIGMAPS, "free", namespace=namespace)
