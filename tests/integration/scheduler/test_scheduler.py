"""The scheduler (`orc scheduler`, a real child process) with simulated nodes, against the real
apiserver and etcd (issue 3): pods are bound and run, an oversized pod stays Pending with
Kubernetes' FailedScheduling message until a big enough node registers, cordon, taints and
tolerations, nodeSelector, and the scheduler holds its Lease."""

from __future__ import annotations

import importlib.util
import json

import pytest

from orchestrator.client.resources import PODS
from orchestrator.cluster.processes import ComponentProcess
from tests.integration.simnodes.helpers import (
    api_client,
    condition,
    eventually,
    new_namespace,
    new_pod,
    running_sim_nodes,
)


@pytest.fixture(scope="module")
def scheduler(apiserver, tmp_path_factory):
    kubeconfig = apiserver.component_kubeconfig("system:kube-scheduler")
    process = ComponentProcess("scheduler", ["scheduler", "--kubeconfig", str(kubeconfig)],
                               log_path=tmp_path_factory.mktemp("scheduler") / "scheduler.log")
    process.start()
    yield process
    process.stop()


async def wait_for_pods(client, namespace: str, count: int, *, phase: str = "Running") -> list[dict]:
    async def ready():
        pods = (await client.list(PODS, namespace=namespace))["items"]
        if len(pods) == count and all(pod["status"].get("phase") == phase for pod in pods):
            return pods
        return None

    return await eventually(ready, timeout=60, message=f"{count} pods {phase} in {namespace}")


def nodes_of(pods: list[dict]) -> dict[str, str]:
    return {pod["metadata"]["name"]: pod["spec"].get("nodeName") for pod in pods}


async def test_pods_are_bound_spread_and_run(apiserver, scheduler, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=3) as simulator:
        namespace = await new_namespace(client)
        owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-uid-1", "controller": True}
        for index in range(6):
            pod = new_pod(f"web-{index}")
            pod["metadata"]["ownerReferences"] = [owner]
            await client.create(PODS, pod, namespace=namespace)
        pods = await wait_for_pods(client, namespace, 6)
        placements = list(nodes_of(pods).values())
        assert sorted(placements) == sorted(simulator.node_names * 2), "replicas of one owner spread 2 per node"
        describe = kubectl("describe", "pod", "web-0", "-n", namespace).stdout
        assert "Scheduled" in describe and f"Successfully assigned {namespace}/web-0 to" in describe


async def test_oversized_pod_waits_for_a_big_enough_node(apiserver, scheduler, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=3, cpu="2"):
        namespace = await new_namespace(client)
        await client.create(PODS, new_pod("huge", cpu="8"), namespace=namespace)
        expected = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                    "3 No preemption victims found for incoming pod..")

        async def unschedulable():
            pod = await client.get(PODS, "huge", namespace=namespace)
            return pod if condition(pod, "PodScheduled").get("reason") == "Unschedulable" else None

        pod = await eventually(unschedulable, message="PodScheduled=False/Unschedulable")
        assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
        assert condition(pod, "PodScheduled")["message"] == expected
        describe = kubectl("describe", "pod", "huge", "-n", namespace).stdout
        assert "FailedScheduling" in describe and "0/3 nodes are available: 3 Insufficient cpu." in describe

        async with running_sim_nodes(client, count=1, cpu="16", first_index=100) as big:
            pods = await wait_for_pods(client, namespace, 1)
            assert pods[0]["spec"]["nodeName"] == big.node_names[0]


async def test_cordoned_node_gets_no_new_pods(apiserver, scheduler, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=3) as simulator:
        cordoned = simulator.node_names[0]
        kubectl("cordon", cordoned)
        namespace = await new_namespace(client)
        for index in range(6):
            await client.create(PODS, new_pod(f"p-{index}"), namespace=namespace)
        pods = await wait_for_pods(client, namespace, 6)
        assert cordoned not in nodes_of(pods).values()
        assert "SchedulingDisabled" in kubectl("get", "node", cordoned).stdout


async def test_taints_keep_off_pods_that_do_not_tolerate_them(apiserver, scheduler, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=2) as simulator:
        gpu_node, plain_node = simulator.node_names
        kubectl("taint", "nodes", gpu_node, "dedicated=gpu:NoSchedule")
        namespace = await new_namespace(client)
        for index in range(4):
            await client.create(PODS, new_pod(f"plain-{index}"), namespace=namespace)
        tolerating = new_pod("trainer", nodeSelector={"kubernetes.io/hostname": gpu_node},
                             tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                           "effect": "NoSchedule"}])
        await client.create(PODS, tolerating, namespace=namespace)
        placements = nodes_of(await wait_for_pods(client, namespace, 5))
        assert placements.pop("trainer") == gpu_node
        assert set(placements.values()) == {plain_node}

        intolerant = new_pod("intolerant", nodeSelector={"kubernetes.io/hostname": gpu_node})
        await client.create(PODS, intolerant, namespace=namespace)
        message = await _failed_scheduling_message(client, namespace, "intolerant")
        assert message.startswith("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                                  "1 node(s) had untolerated taint {dedicated: gpu}.")


async def test_node_selector(apiserver, scheduler, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=3) as simulator:
        ssd_node = simulator.node_names[2]
        kubectl("label", "node", ssd_node, "disk=ssd")
        namespace = await new_namespace(client)
        for index in range(3):
            await client.create(PODS, new_pod(f"db-{index}", nodeSelector={"disk": "ssd"}), namespace=namespace)
        assert set(nodes_of(await wait_for_pods(client, namespace, 3)).values()) == {ssd_node}

        await client.create(PODS, new_pod("nvme", nodeSelector={"disk": "nvme"}), namespace=namespace)
        message = await _failed_scheduling_message(client, namespace, "nvme")
        assert message == ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
                           "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
        # Labelling a node is a cluster change: the waiting pod is tried again and fits.
        kubectl("label", "node", simulator.node_names[0], "disk=nvme")
        pods = await wait_for_pods(client, namespace, 4)
        assert nodes_of(pods)["nvme"] == simulator.node_names[0]


async def test_scheduler_holds_its_lease(apiserver, scheduler, kubectl):
    async def held():
        result = kubectl("get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "json", check=False)
        return result.returncode == 0 and json.loads(result.stdout)["spec"].get("holderIdentity")

    assert (await eventually(held)).endswith("_scheduler")


@pytest.mark.skipif(importlib.util.find_spec("orchestrator.controllers.main") is None,
                    reason="the controller-manager is not there yet")
async def test_deployment_of_six_spreads_two_per_node(apiserver, scheduler, kubectl, tmp_path):
    controllers = ComponentProcess("controller-manager", ["controller-manager", "--kubeconfig",
                                                          str(apiserver.kubeconfig)],
                                   log_path=tmp_path / "controller-manager.log")
    controllers.start()
    try:
        async with api_client(apiserver) as client, running_sim_nodes(client, count=3) as simulator:
            namespace = await new_namespace(client)
            kubectl("create", "deployment", "web", "--image=app:v1", "--replicas=6", "-n", namespace)
            pods = await wait_for_pods(client, namespace, 6)
            assert sorted(nodes_of(pods).values()) == sorted(simulator.node_names * 2)
    finally:
        controllers.stop()


async def _failed_scheduling_message(client, namespace: str, name: str) -> str:
    async def message():
        pod = await client.get(PODS, name, namespace=namespace)
        return condition(pod, "PodScheduled").get("message") if not pod["spec"].get("nodeName") else None

    return await eventually(message, message=f"{name} is reported unschedulable")


async def test_standby_takes_over_when_the_leader_stops(apiserver, scheduler, kubectl, tmp_path):
    """Runs last: it stops the module's scheduler (SIGTERM releases the Lease) and lets a standby,
    started meanwhile, take over."""
    kubeconfig = apiserver.component_kubeconfig("system:kube-scheduler")
    standby = ComponentProcess("standby", ["scheduler", "--kubeconfig", str(kubeconfig), "--identity", "standby"],
                               log_path=tmp_path / "standby.log")
    standby.start()
    try:
        async with api_client(apiserver) as client, running_sim_nodes(client, count=1):
            namespace = await new_namespace(client)
            await eventually(lambda: "is waiting to lead" in standby.log_path.read_text(errors="replace"),
                             message="the standby waits for the lease")
            scheduler.stop()
            await eventually(lambda: "became leader" in standby.log_path.read_text(errors="replace"),
                             message="the standby takes the lease")
            await client.create(PODS, new_pod("after-failover"), namespace=namespace)
            await wait_for_pods(client, namespace, 1)
            lease = json.loads(kubectl("get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "json").stdout)
            assert lease["spec"]["holderIdentity"] == "standby"
    finally:
        standby.stop()
