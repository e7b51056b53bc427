"""The service accounts controller: every active namespace has a ServiceAccount named `default`.

As pkg/controller/serviceaccount (ServiceAccountsController): a namespace that appears, or
whose `default` ServiceAccount is deleted, is synced; the sync creates the accounts the
namespace lacks (only `default`, as kube-controller-manager is configured) unless the
namespace is being deleted. An account that already exists is left as it is, whatever it says.
`missing_service_accounts` is the pure decision.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, NotFound
from orchestrator.client.resources import NAMESPACES, SERVICEACCOUNTS
from orchestrator.controllers.base import Controller, SharedInformers, is_being_deleted, is_namespace_terminating

DEFAULT_SERVICE_ACCOUNTS = ("default",)


def missing_service_accounts(namespace: dict | None, existing: set[str],
                             wanted: tuple[str, ...] = DEFAULT_SERVICE_ACCOUNTS) -> list[str]:
    """The accounts to create in `namespace` (none in a namespace that is gone or going)."""
    if namespace is None or is_being_deleted(namespace) or (namespace.get("status") or {}).get("phase") == "Terminating":
        return []
    return [name for name in wanted if name not in existing]


class ServiceAccountsController(Controller):
    name = "serviceaccount"

    def __init__(self, client: Any, informers: SharedInformers, *, workers: int = 1,
                 service_accounts: tuple[str, ...] = DEFAULT_SERVICE_ACCOUNTS):
        super().__init__(workers=workers)
        self.client = client
        self.service_accounts = service_accounts
        self.namespaces = informers.get(NAMESPACES)
        self.accounts = informers.get(SERVICEACCOUNTS)
        self.namespaces.add_handler(on_add=self._namespace_changed,
                                    on_update=lambda old, new: self._namespace_changed(new))
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _namespace_changed(self, namespace: dict) -> None:
        self.queue.add(namespace["metadata"]["name"])

    def _account_deleted(self, account: dict) -> None:
        if account["metadata"].get("name") in self.service_accounts:
            self.queue.add(account["metadata"].get("namespace") or "")

    async def sync(self, namespace_name: str) -> None:
        namespace = self.namespaces.get(namespace_name)
        existing = {name for name in self.service_accounts if self.accounts.get(f"{namespace_name}/{name}")}
        for name in missing_service_accounts(namespace, existing, self.service_accounts):
            body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
            try:
                await self.client.create(SERVICEACCOUNTS, body, namespace=namespace_name)
            except AlreadyExists:
                continue  # the cache had not seen it yet
            except NotFound:
                return  # the namespace went away meanwhile
            except APIError as error:
                if is_namespace_terminating(error):
                    return
                raise
            self.log.info("namespace %s: created service account %s", namespace_name, name)
