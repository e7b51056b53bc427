"""Unit tests of the ReplicaSet controller's sync against an in-memory apiserver: expectations at work."""

from __future__ import annotations

import asyncio

from orchestrator.client.resources import PODS, REPLICASETS
from orchestrator.controllers.base import SharedInformers
from orchestrator.controllers.replicaset import ReplicaSetController
from tests.unit.controllers.builders import new_replica_set
from tests.unit.controllers.fakes import FakeCluster


async def started(cluster: FakeCluster) -> tuple[ReplicaSetController, asyncio.Task]:
    informers = SharedInformers(cluster)
    controller = ReplicaSetController(cluster, informers)
    task = asyncio.create_task(informers.run())
    await informers.wait_synced()
    return controller, task


async def test_a_second_sync_does_not_create_again_before_the_pods_are_seen():
    cluster = FakeCluster()
    rs = new_replica_set("web", replicas=3, status_replicas=0)
    await cluster.create(REPLICASETS, rs, namespace="default")
    controller, informers = await started(cluster)
    try:
        cluster.muted = True  # the watch falls silent: the informer will not see the new pods
        await controller.sync("default/web")
        assert len(cluster.pods()) == 3
        await controller.sync("default/web")
        assert len(cluster.pods()) == 3, "expectations must hold the second sync back"
        assert not controller.expectations.satisfied("default/web")
    finally:
        informers.cancel()
        await asyncio.gather(informers, return_exceptions=True)


async def test_observed_creations_satisfy_the_expectations_and_status_follows():
    cluster = FakeCluster()
    await cluster.create(REPLICASETS, new_replica_set("web", replicas=2, status_replicas=0), namespace="default")
    controller, informers = await started(cluster)
    try:
        await controller.sync("default/web")
        for _ in range(100):
            if controller.expectations.satisfied("default/web"):
                break
            await asyncio.sleep(0)
        assert controller.expectations.satisfied("default/web")
        await controller.sync("default/web")
        assert len(cluster.pods()) == 2
        stored = cluster.objects[("replicasets", "default/web")]
        assert stored["status"]["replicas"] == 2
        await controller.recorder.flush()
        created_events = [obj for (plural, _), obj in cluster.objects.items()
                          if plural == "events" and obj["reason"] == "SuccessfulCreate"]
        assert sorted(event["message"] for event in created_events) == sorted(
            f"Created pod: {pod['metadata']['name']}" for pod in cluster.pods())
        for pod in cluster.pods():
            assert pod["metadata"]["ownerReferences"][0]["uid"] == stored["metadata"]["uid"]
            assert pod["metadata"]["generateName"] == "web-"
    finally:
        informers.cancel()
        await asyncio.gather(informers, return_exceptions=True)


async def test_surplus_pods_are_deleted_and_their_deletions_expected():
    cluster = FakeCluster()
    rs = new_replica_set("web", replicas=1)
    await cluster.create(REPLICASETS, rs, namespace="default")
    stored_rs = cluster.objects[("replicasets", "default/web")]
    for index in range(3):
        pod = {"metadata": {"name": f"web-{index}", "namespace": "default", "uid": f"p{index}",
                            "labels": {"app": "web"},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                                 "uid": stored_rs["metadata"]["uid"], "controller": True}]},
               "spec": {"containers": [{"name": "app", "image": "app:1"}]}, "status": {"phase": "Pending"}}
        await cluster.create(PODS, pod, namespace="default")
    controller, informers = await started(cluster)
    try:
        cluster.muted = True
        await controller.sync("default/web")
        assert len(cluster.pods()) == 1
        assert not controller.expectations.satisfied("default/web")
    finally:
        informers.cancel()
        await asyncio.gather(informers, return_exceptions=True)
