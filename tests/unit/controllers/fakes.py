"""An in-memory apiserver for the controllers' unit tests (tests/unit/client/fakes.py plus what controllers use)."""

from __future__ import annotations

import copy
import itertools

from orchestrator.client.resources import Resource
from tests.unit.client.fakes import FakeApiClient


class FakeCluster(FakeApiClient):
    """FakeApiClient plus what the controller needs: generateName and uids on create."""

    _serial = itertools.count(1)

    async def create(self, resource: Resource, body: dict, *, namespace: str | None = None) -> dict:
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name"):
            metadata["name"] = f"{metadata['generateName']}{next(self._serial):05d}"
        metadata.setdefault("uid", f"uid-{metadata['name']}")
        return await super().create(resource, body, namespace=namespace)

    def pods(self) -> list[dict]:
        return [obj for (plural, _), obj in self.objects.items() if plural == "pods"]

    def get_stored(self, resource: Resource, key: str) -> dict:
        return self.objects[(resource.plural, key)]
