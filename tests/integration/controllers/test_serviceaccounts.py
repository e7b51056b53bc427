"""ServiceAccounts end to end: the controller-manager gives every namespace its `default` account; kubectl sees them."""

from __future__ import annotations

import uuid

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import NAMESPACES, PODS, SERVICEACCOUNTS
from tests.integration.controllers.helpers import eventually


async def _account(client, namespace: str, name: str = "default") -> dict | None:
    try:
        return await client.get(SERVICEACCOUNTS, name, namespace=namespace)
    except NotFound:
        return None


async def test_every_namespace_gets_a_default_service_account(client, namespace, controller_manager, kubectl_async):
    await eventually(lambda: _account(client, namespace), what="default account in the test namespace")
    await eventually(lambda: _account(client, "kube-system"), what="default account in kube-system")
    fresh = f"t-{uuid.uuid4().hex[:8]}"
    await kubectl_async("create", "namespace", fresh)
    await eventually(lambda: _account(client, fresh), what="default account in a new namespace")

    listing = (await kubectl_async("get", "sa", "-n", fresh)).stdout.splitlines()
    assert listing[0].split() == ["NAME", "SECRETS", "AGE"]
    assert listing[1].split()[:2] == ["default", "0"]

    await kubectl_async("delete", "serviceaccount", "default", "-n", fresh)
    recreated = await eventually(lambda: _account(client, fresh), what="deleted default account recreated")
    assert recreated["metadata"]["name"] == "default"
    await client.delete(NAMESPACES, fresh)


async def test_kubectl_create_sa_and_pods_that_name_it(client, namespace, controller_manager, kubectl_async):
    created = await kubectl_async("create", "sa", "builder", "-n", namespace)
    assert created.stdout.strip() == "serviceaccount/builder created"
    assert (await _account(client, namespace, "builder")) is not None
    await kubectl_async("run", "plain", "--image=busybox", "-n", namespace)
    plain = await client.get(PODS, "plain", namespace=namespace)
    assert (plain["spec"]["serviceAccountName"], plain["spec"]["serviceAccount"]) == ("default", "default")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "named"},
           "spec": {"serviceAccountName": "builder", "containers": [{"name": "main", "image": "busybox"}]}}
    named = await client.create(PODS, pod, namespace=namespace)
    assert (named["spec"]["serviceAccountName"], named["spec"]["serviceAccount"]) == ("builder", "builder")
    described = (await kubectl_async("describe", "pod", "named", "-n", namespace)).stdout
    assert "Service Account:  builder" in described
