"""Deployments end to end: the real controller-manager against the real apiserver and etcd, driven by kubectl.

Pods are started by `PodReadier` (a stand-in kubelet); `PodCensus` checks the rollout
bounds on every pod change.
"""

from __future__ import annotations

import json

from orchestrator.client.resources import DEPLOYMENTS, EVENTS, PODS, REPLICASETS
from orchestrator.controllers.podutil import is_pod_active
from tests.integration.controllers.helpers import (
    PodCensus,
    PodReadier,
    deployment_manifest,
    eventually,
    rollout_finished,
)


async def owned_replica_sets(client, namespace: str) -> list[dict]:
    return (await client.list(REPLICASETS, namespace=namespace))["items"]


async def test_deployment_converges_and_scales(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=6), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="6 replicas available")
        assert len(census.ready()) == 6
        (rs,) = await owned_replica_sets(client, namespace)
        assert rs["metadata"]["name"].startswith("web-")
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
        for pod in census.active():
            assert pod["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]
            assert pod["metadata"]["labels"]["pod-template-hash"] == rs["metadata"]["labels"]["pod-template-hash"]

        await kubectl_async("scale", "deployment/web", "--replicas=10", "-n", namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="scaled to 10")
        assert len(census.active()) == 10
        await kubectl_async("scale", "deployment/web", "--replicas=2", "-n", namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="scaled to 2")
        await eventually(lambda: len(census.active()) == 2, what="8 pods deleted")
        assert len(await owned_replica_sets(client, namespace)) == 1  # scaling is no new revision

        status = await kubectl_async("rollout", "status", "deployment/web", "-n", namespace, "--timeout=10s")
        assert status.stdout.strip() == 'deployment "web" successfully rolled out'
        described = (await kubectl_async("describe", "deployment", "web", "-n", namespace)).stdout
        assert "Scaled up replica set web-" in described and "to 6 from 0" in described
        assert "Scaled down replica set web-" in described


async def test_set_image_rolls_out_within_surge_and_unavailability(client, namespace, controller_manager,
                                                                   kubectl_async):
    # 8 replicas, 25%: at most 10 pods, at least 6 ready at any time.
    async with PodReadier(client, namespace, delay=0.05), PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=8), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="first rollout")
        census.start_watching()
        await kubectl_async("set", "image", "deployment/web", "app=app:2", "-n", namespace)
        status = await kubectl_async("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
        assert 'deployment "web" successfully rolled out' in status.stdout
        assert "updated replicas are available" in status.stdout or "new replicas have been updated" in status.stdout
        await eventually(lambda: census.images() == {"app:2": 8}, what="only new pods left")
        assert census.most_pods <= 10, f"{census.most_pods} pods at once, more than replicas + maxSurge"
        assert census.fewest_ready >= 6, f"only {census.fewest_ready} ready at once, fewer than replicas - maxUnavailable"
        replica_sets = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
                        for rs in await owned_replica_sets(client, namespace)}
        assert sorted(replica_sets) == ["1", "2"]
        assert replica_sets["1"]["spec"]["replicas"] == 0 and replica_sets["2"]["spec"]["replicas"] == 8


async def test_rollout_undo_history_restart(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=3), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="revision 1")
        await kubectl_async("annotate", "deployment/web", "kubernetes.io/change-cause=version two", "-n", namespace)
        await kubectl_async("set", "image", "deployment/web", "app=app:2", "-n", namespace)
        await eventually(lambda: census.images() == {"app:2": 3}, what="revision 2 rolled out")

        history = (await kubectl_async("rollout", "history", "deployment/web", "-n", namespace)).stdout
        assert "version two" in history
        await kubectl_async("rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace)
        await eventually(lambda: census.images() == {"app:1": 3}, what="back to revision 1")
        await eventually(lambda: rollout_finished(client, namespace), what="undo finished")
        revisions = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs["spec"]["template"]
                     for rs in await owned_replica_sets(client, namespace)}
        assert sorted(revisions) == ["2", "3"]  # the first ReplicaSet came back as revision 3
        assert revisions["3"]["spec"]["containers"][0]["image"] == "app:1"
        deployment = await client.get(DEPLOYMENTS, "web", namespace=namespace)
        assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"

        await kubectl_async("rollout", "restart", "deployment/web", "-n", namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="restart finished")
        assert len(await owned_replica_sets(client, namespace)) == 3
        await eventually(lambda: len(census.active()) == 3, what="old pods gone after restart")


async def test_pause_and_resume(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=2), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="first rollout")
        await kubectl_async("rollout", "pause", "deployment/web", "-n", namespace)
        await kubectl_async("set", "image", "deployment/web", "app=app:2", "-n", namespace)
        await kubectl_async("scale", "deployment/web", "--replicas=4", "-n", namespace)
        await eventually(lambda: census.images() == {"app:1": 4}, what="paused: scaled, not rolled")
        await kubectl_async("rollout", "resume", "deployment/web", "-n", namespace)
        await eventually(lambda: census.images() == {"app:2": 4}, what="resumed: rolled out")


async def test_progress_deadline_exceeded_keeps_old_pods(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace, never_ready_images=frozenset({"app:broken"})), \
            PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=4, progress_deadline=2), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="first rollout")
        await kubectl_async("set", "image", "deployment/web", "app=app:broken", "-n", namespace)

        async def timed_out() -> bool:
            deployment = await client.get(DEPLOYMENTS, "web", namespace=namespace)
            conditions = {c["type"]: c for c in deployment["status"].get("conditions") or []}
            return conditions["Progressing"]["reason"] == "ProgressDeadlineExceeded"

        await eventually(timed_out, timeout=20, what="ProgressDeadlineExceeded")
        result = await kubectl_async("rollout", "status", "deployment/web", "-n", namespace, "--timeout=10s",
                                     check=False)
        assert result.returncode != 0
        assert 'deployment "web" exceeded its progress deadline' in result.stderr
        images = census.images()
        assert images.get("app:1", 0) >= 3  # replicas - maxUnavailable keep serving
        assert len(census.ready()) >= 3
        deployment = json.loads((await kubectl_async("get", "deployment", "web", "-n", namespace, "-o", "json")).stdout)
        available = {c["type"]: c for c in deployment["status"]["conditions"]}["Available"]
        assert available["status"] == "True"


async def test_recreate_strategy(client, namespace, controller_manager, kubectl_async):
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await client.create(DEPLOYMENTS, deployment_manifest(replicas=3, strategy="Recreate"), namespace=namespace)
        await eventually(lambda: rollout_finished(client, namespace), what="first rollout")
        census.start_watching()
        mixed = []
        census.informer.add_handler(on_add=lambda pod: mixed.append(dict(census.images())))
        await kubectl_async("set", "image", "deployment/web", "app=app:2", "-n", namespace)
        await eventually(lambda: census.images() == {"app:2": 3}, what="recreated")
        assert all(len(images) <= 1 for images in mixed), f"old and new pods together: {mixed}"


async def test_replica_set_adopts_orphans_and_releases_relabelled_pods(client, namespace, controller_manager):
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan", "labels": {"app": "solo"}},
              "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
    await client.create(PODS, orphan, namespace=namespace)
    replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "solo"},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "solo"}},
                            "template": {"metadata": {"labels": {"app": "solo"}},
                                         "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}
    async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
        await client.create(REPLICASETS, replica_set, namespace=namespace)
        await eventually(lambda: len(census.ready()) == 2, what="two pods, the orphan adopted")
        adopted = await client.get(PODS, "orphan", namespace=namespace)
        (reference,) = adopted["metadata"]["ownerReferences"]
        assert (reference["kind"], reference["name"], reference["controller"], reference["blockOwnerDeletion"]) == (
            "ReplicaSet", "solo", True, True)

        await client.patch(PODS, "orphan", {"metadata": {"labels": {"app": "gone"}}}, namespace=namespace,
                           patch_type="merge")

        async def released() -> bool:
            pod = await client.get(PODS, "orphan", namespace=namespace)
            return not pod["metadata"].get("ownerReferences")

        await eventually(released, what="relabelled pod released")
        await eventually(lambda: len([p for p in census.ready() if p["metadata"]["labels"]["app"] == "solo"]) == 2,
                         what="released pod replaced")
        rs = await client.get(REPLICASETS, "solo", namespace=namespace)
        assert {key: rs["status"].get(key) for key in ("replicas", "readyReplicas", "availableReplicas",
                                                       "fullyLabeledReplicas")} == {
            "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "fullyLabeledReplicas": 2}
        events = (await client.list(EVENTS, namespace=namespace))["items"]
        reasons = {event["reason"] for event in events if event["involvedObject"]["name"] == "solo"}
        assert "SuccessfulCreate" in reasons
        assert all(is_pod_active(pod) for pod in census.ready())
