"""Adoption and release of dependents by a controller (pkg/controller/controller_ref_manager.go).

A ReplicaSet owns the pods matching its selector; a Deployment owns the ReplicaSets
matching its. `plan_claim` decides, without I/O, which candidates the owner already
controls, which orphans it should adopt (they match and nobody controls them) and
which of its own it should release (their labels stopped matching). `claim` carries
the plan out: adoption and release are merge patches of `ownerReferences` that carry
the object's resourceVersion, so a concurrent writer makes them fail (409) rather than
be overwritten; before the first adoption the owner is re-read from the apiserver to
make sure it still exists and is not being deleted (RecheckDeletionTimestamp).

Used by the ReplicaSet and Deployment controllers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.apiserver.selectors import LabelSelector
from orchestrator.client.informer import key_of
from orchestrator.client.resources import Resource
from orchestrator.controllers.base import (
    controller_ref,
    is_being_deleted,
    labels_of,
    new_controller_ref,
    owner_references,
)

log = logging.getLogger(__name__)


@dataclass
class ClaimPlan:
    owned: list[dict] = field(default_factory=list)  # controlled by the owner and still matching
    adopt: list[dict] = field(default_factory=list)  # matching orphans to take
    release: list[dict] = field(default_factory=list)  # controlled by the owner, no longer matching


def plan_claim(owner: dict, *, selector: LabelSelector, candidates: list[dict]) -> ClaimPlan:
    """ClaimObject for each candidate (objects of the owner's namespace)."""
    plan = ClaimPlan()
    owner_meta = owner["metadata"]
    owner_deleting = is_being_deleted(owner)
    for candidate in candidates:
        matches = selector.matches(labels_of(candidate))
        ref = controller_ref(candidate)
        if ref is not None:
            if ref.get("uid") != owner_meta.get("uid"):
                continue  # someone else's
            if matches:
                plan.owned.append(candidate)
            elif not owner_deleting:
                plan.release.append(candidate)
            continue
        if owner_deleting or not matches or is_being_deleted(candidate):
            continue
        if (candidate.get("metadata") or {}).get("namespace") != owner_meta.get("namespace"):
            continue
        plan.adopt.append(candidate)
    return plan


def adoption_patch(obj: dict, owner: dict) -> dict:
    references = [*owner_references(obj), new_controller_ref(owner)]
    return {"metadata": {"ownerReferences": references, "resourceVersion": obj["metadata"]["resourceVersion"]}}


def release_patch(obj: dict, owner: dict) -> dict:
    owner_uid = owner["metadata"]["uid"]
    references = [ref for ref in owner_references(obj) if ref.get("uid") != owner_uid]
    return {"metadata": {"ownerReferences": references or None, "resourceVersion": obj["metadata"]["resourceVersion"]}}


class ControllerRefManager:
    """Carries out claim plans for one kind of owner over one kind of dependent."""

    def __init__(self, client: Any, *, owner_resource: Resource, dependent_resource: Resource):
        self.client = client
        self.owner_resource = owner_resource
        self.dependent_resource = dependent_resource

    async def claim(self, owner: dict, *, selector: LabelSelector, candidates: list[dict]) -> list[dict]:
        """The dependents the owner controls after adopting and releasing what it should.

        Raises the first adoption/release error (e.g. 409) after trying them all, so the
        caller's sync is retried; objects that vanished meanwhile are skipped.
        """
        plan = plan_claim(owner, selector=selector, candidates=candidates)
        claimed = list(plan.owned)
        failure: Exception | None = None
        if plan.adopt and await self._owner_can_adopt(owner):
            for orphan in plan.adopt:
                try:
                    adopted = await self._patch(orphan, adoption_patch(orphan, owner))
                except NotFound:
                    continue
                except Exception as error:  # noqa: BLE001 - reported after the others were tried
                    failure = failure or error
                    continue
                log.info("%s %s adopted %s %s", self.owner_resource.kind, key_of(owner),
                         self.dependent_resource.kind, key_of(orphan))
                claimed.append(adopted)
        for stray in plan.release:
            try:
                await self._patch(stray, release_patch(stray, owner))
            except NotFound:
                continue
            except Exception as error:  # noqa: BLE001
                failure = failure or error
                continue
            log.info("%s %s released %s %s", self.owner_resource.kind, key_of(owner),
                     self.dependent_resource.kind, key_of(stray))
        if failure is not None:
            raise failure
        return claimed

    async def _owner_can_adopt(self, owner: dict) -> bool:
        """A fresh read: the cached owner may already be gone or being deleted."""
        metadata = owner["metadata"]
        try:
            fresh = await self.client.get(self.owner_resource, metadata["name"], namespace=metadata.get("namespace"))
        except NotFound:
            return False
        fresh_meta = fresh.get("metadata") or {}
        return fresh_meta.get("uid") == metadata.get("uid") and not fresh_meta.get("deletionTimestamp")

    async def _patch(self, obj: dict, patch: dict) -> dict:
        metadata = obj["metadata"]
        return await self.client.patch(self.dependent_resource, metadata["name"], patch,
                                       namespace=metadata.get("namespace"), patch_type="merge")
