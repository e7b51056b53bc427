"""`orc controller-manager` as a process: killed mid-rollout it finishes after a restart; two replicas, one acts."""

from __future__ import annotations

import asyncio

from orchestrator.client.resources import DEPLOYMENTS, LEASES, REPLICASETS
from orchestrator.cluster.processes import ComponentProcess
from tests.integration.controllers.helpers import (
    PodCensus,
    PodReadier,
    deployment_manifest,
    eventually,
    rollout_finished,
)


def controller_manager_process(apiserver, identity: str, tmp_path) -> ComponentProcess:
    return ComponentProcess("controller-manager",
                            ["controller-manager", "--kubeconfig", str(apiserver.kubeconfig), "--identity", identity],
                            log_path=tmp_path / f"{identity}.log")


async def lease_holder(client) -> str:
    lease = await client.get(LEASES, "kube-controller-manager", namespace="kube-system")
    return lease["spec"].get("holderIdentity") or ""


async def test_killed_mid_rollout_it_finishes_after_a_restart(apiserver, client, namespace, tmp_path):
    process = controller_manager_process(apiserver, "cm-restart", tmp_path)
    process.start()
    try:
        # 6 replicas, 25%: at most 8 pods and at least 5 ready at any time, restart or not.
        async with PodReadier(client, namespace, delay=0.3), PodCensus(client, namespace) as census:
            await client.create(DEPLOYMENTS, deployment_manifest(replicas=6), namespace=namespace)
            await eventually(lambda: rollout_finished(client, namespace), what="first rollout")
            census.start_watching()
            await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "app:2"}]}}}}, namespace=namespace)
            await eventually(lambda: census.images().get("app:2", 0) >= 2, what="rollout under way")
            process.kill()  # SIGKILL: no lease release, no clean-up
            assert census.images().get("app:1", 0) > 0, "the rollout finished before the kill"
            await asyncio.sleep(1.0)
            process.start()  # same identity: it takes its own lease back at once
            await eventually(lambda: rollout_finished(client, namespace), timeout=30, what="rollout finished")
            await eventually(lambda: census.images() == {"app:2": 6}, what="only new pods")
            assert census.most_pods <= 8, f"{census.most_pods} pods at once"
            assert census.fewest_ready >= 5, f"only {census.fewest_ready} ready at once"
            replica_sets = (await client.list(REPLICASETS, namespace=namespace))["items"]
            assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [0, 6]
            new_rs = next(rs["metadata"]["name"] for rs in replica_sets if rs["spec"]["replicas"] == 6)
            new_pods = {name for name in census.names_seen if name.startswith(f"{new_rs}-")}
            assert len(new_pods) == 6, f"duplicate pods were created: {sorted(new_pods)}"
    finally:
        process.stop()


async def test_two_controller_managers_only_one_acts(apiserver, client, namespace, tmp_path):
    leader = controller_manager_process(apiserver, "cm-first", tmp_path)
    standby = controller_manager_process(apiserver, "cm-second", tmp_path)
    leader.start()
    try:
        await eventually(lambda: _holder_is(client, "cm-first"), timeout=20, what="first replica leads")
        standby.start()
        await eventually(lambda: "cm-second is waiting to lead" in standby.log_tail(200), timeout=20,
                         what="standby waiting")
        async with PodReadier(client, namespace), PodCensus(client, namespace) as census:
            await client.create(DEPLOYMENTS, deployment_manifest(replicas=2), namespace=namespace)
            await eventually(lambda: rollout_finished(client, namespace), what="converged by the leader")
            assert "created replica set" in leader.log_tail(500)
            standby_log = standby.log_tail(500)
            assert "became leader" not in standby_log and "created" not in standby_log

            leader.stop()  # SIGTERM: the lease is released, the standby takes over at its next try
            await eventually(lambda: _holder_is(client, "cm-second"), timeout=20, what="standby took over")
            await client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 3}}, namespace=namespace, patch_type="merge")
            await eventually(lambda: rollout_finished(client, namespace), what="converged by the new leader")
            assert len(census.ready()) == 3
            assert "created pod" in standby.log_tail(500)
    finally:
        leader.stop()
        standby.stop()


async def _holder_is(client, identity: str) -> bool:
    try:
        return await lease_holder(client) == identity
    except Exception:  # noqa: BLE001 - no lease yet
        return False
