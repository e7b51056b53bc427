"""Garbage collection and namespace deletion end to end: kubectl delete with each cascade policy."""

from __future__ import annotations

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS, SERVICES
from tests.integration.controllers.helpers import PodCensus, PodReadier, deployment_manifest, eventually


async def deployment_running(client, namespace: str, census: PodCensus, replicas: int = 3) -> None:
    await client.create(DEPLOYMENTS, deployment_manifest(replicas=replicas), namespace=namespace)
    await eventually(lambda: len(census.ready()) == replicas, what=f"{replicas} pods ready")


async def names(client, resource, namespace: str) -> list[str]:
    return sorted(item["metadata"]["name"] for item in (await client.list(resource, namespace=namespace))["items"])


async def _empty(client, namespace: str) -> bool:
    return not await names(client, REPLICASETS, namespace) and not await names(client, PODS, namespace)


async def test_background_deletion_removes_replica_sets_and_pods(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await deployment_running(client, namespace, census)
        await kubectl_async("delete", "deployment", "web", "-n", namespace, "--cascade=background", "--wait=false")
        await eventually(lambda: _empty(client, namespace), what="replica sets and pods collected")


async def test_foreground_deletion_removes_dependents_before_the_owner(client, namespace, controller_manager,
                                                                       kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await deployment_running(client, namespace, census)
        await kubectl_async("delete", "deployment", "web", "-n", namespace, "--cascade=foreground", "--wait=false")
        deployment = await client.get(DEPLOYMENTS, "web", namespace=namespace)
        assert "foregroundDeletion" in deployment["metadata"]["finalizers"]

        async def owner_gone() -> bool:
            try:
                await client.get(DEPLOYMENTS, "web", namespace=namespace)
            except NotFound:
                return True
            assert await names(client, REPLICASETS, namespace) or not await names(client, PODS, namespace), \
                "pods went after their replica set while the deployment waited"
            return False

        await eventually(owner_gone, what="deployment deleted last")
        assert await _empty(client, namespace)


async def test_orphan_deletion_keeps_replica_sets_and_pods(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await deployment_running(client, namespace, census)
        await kubectl_async("delete", "deployment", "web", "-n", namespace, "--cascade=orphan")

        async def deployment_gone() -> bool:
            try:
                await client.get(DEPLOYMENTS, "web", namespace=namespace)
            except NotFound:
                return True
            return False

        await eventually(deployment_gone, what="deployment deleted")
        (rs,) = (await client.list(REPLICASETS, namespace=namespace))["items"]
        assert not rs["metadata"].get("ownerReferences")
        assert len(census.ready()) == 3  # the replica set keeps its pods


async def test_orphans_left_behind_are_collected(client, namespace, controller_manager):
    # As if the Deployment had been deleted while no collector ran: its uid exists nowhere.
    replica_set = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "leftover", "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "Deployment", "name": "long-gone",
            "uid": "00000000-0000-0000-0000-000000000000", "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "leftover"}},
                 "template": {"metadata": {"labels": {"app": "leftover"}},
                              "spec": {"containers": [{"name": "app", "image": "app:1"}]}}},
    }
    await client.create(REPLICASETS, replica_set, namespace=namespace)
    await eventually(lambda: _empty(client, namespace), what="orphaned replica set and its pods collected")


async def test_namespace_deletion_empties_and_removes_it(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await deployment_running(client, namespace, census)
        await client.create(SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                       "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
                            namespace=namespace)
        await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                                         "data": {"a": "b"}}, namespace=namespace)
        await kubectl_async("delete", "namespace", namespace, "--wait=false")

        async def namespace_gone() -> bool:
            try:
                await client.get(NAMESPACES, namespace)
            except NotFound:
                return True
            return False

        await eventually(namespace_gone, timeout=30, what="namespace removed")
        for resource in (DEPLOYMENTS, REPLICASETS, PODS, SERVICES, CONFIGMAPS):
            assert await names(client, resource, namespace) == [], resource.plural
