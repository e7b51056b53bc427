"""The persistent-volume controller: claims bound to volumes, volumes provisioned, released and reclaimed.

As kube-controller-manager's persistentvolume-binder, pvc-protection and pv-protection
controllers in one work queue. Keys are `namespace/name` for claims and `name` (no slash) for
volumes; `sync(key)` dispatches on that:

- a claim without `spec.volumeName` binds to the best matching volume (plan.find_best_match);
  with none, a claim of a class whose provisioner is `orchestrator.io/local-path` gets a volume
  provisioned: at once in Immediate mode (on the first Ready node that keeps local-path volumes),
  or, in WaitForFirstConsumer mode, once the scheduler has put the
  `volume.kubernetes.io/selected-node` annotation on it. Binding writes the volume's `claimRef`
  first, then the claim's `volumeName`, then both statuses (Bound), each a conditional update;
- a volume whose claim is gone is Released; with reclaim policy Delete the object is deleted;
- `kubernetes.io/pvc-protection` leaves a deleted claim once no running pod mounts it, and
  `kubernetes.io/pv-protection` leaves a deleted volume once it is not Bound.

Files: the controller never touches the disk (on compose it does not run on the node that has
it). A provisioned volume is a `local` volume at `<root>/pvc-<uid>_<namespace>_<name>`, where
`<root>` is what the node's kubelet published in its Node's `orchestrator.io/local-path-root`
annotation, with node affinity to that node. The kubelet creates the directory when a pod first
mounts it, and removes it when the volume is deleted: provisioned volumes with reclaim policy
Delete carry the `orchestrator.io/local-path-cleanup` finalizer, which only that kubelet removes
(orchestrator/kubelet/localpath.py). Retain keeps both the object (Released) and the directory.

Run by the controller-manager (`manager.py`); the decisions are in plan.py.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from orchestrator.api.errors import AlreadyExists, Conflict, NotFound
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES
from orchestrator.controllers.base import (
    NAMESPACE_INDEX,
    Clock,
    Controller,
    SharedInformers,
    annotations_of,
    format_time,
    is_being_deleted,
    split_key,
)
from orchestrator.controllers.persistentvolume import plan

NODE_NOT_READY_RETRY_SECONDS = 5.0


class PersistentVolumeController(Controller):
    name = "persistentvolume-binder"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 1, clock: Clock = time.time):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self._recorded: set[tuple[str, str]] = set()  # (claim uid, reason) already reported
        self.recorder = recorder or EventRecorder(client, component="persistentvolume-controller")
        self.claims = informers.get(PERSISTENTVOLUMECLAIMS)
        self.volumes = informers.get(PERSISTENTVOLUMES)
        self.classes = informers.get(STORAGECLASSES)
        self.nodes = informers.get(NODES)
        self.pods = informers.get(PODS, indexes=(NAMESPACE_INDEX,))
        self.claims.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                on_delete=self._claim_deleted)
        self.volumes.add_handler(on_add=self._volume_changed, on_update=lambda old, new: self._volume_changed(new),
                                 on_delete=self._volume_changed)
        self.pods.add_handler(on_update=lambda old, new: self._pod_changed(new), on_delete=self._pod_changed)

    # --- handlers: keys only ----------------------------------------------------------------------

    def _claim_deleted(self, claim: dict) -> None:
        self.enqueue(claim)
        for volume in self.volumes.list():
            if plan.claim_ref_points_at(volume, claim):
                self.enqueue(volume)

    def _volume_changed(self, volume: dict) -> None:
        self.enqueue(volume)
        ref = (volume.get("spec") or {}).get("claimRef")
        if ref and ref.get("namespace") and ref.get("name"):
            self.queue.add(f"{ref['namespace']}/{ref['name']}")

    def _pod_changed(self, pod: dict) -> None:
        namespace = (pod.get("metadata") or {}).get("namespace")
        for claim_name in plan.claim_names_of(pod):
            self.queue.add(f"{namespace}/{claim_name}")

    # --- sync --------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        if namespace is None:
            await self._sync_volume(name)
        else:
            await self._sync_claim(key, namespace, name)

    async def _sync_claim(self, key: str, namespace: str, name: str) -> None:
        claim = self.claims.get(key)
        if claim is None:
            return
        if is_being_deleted(claim):
            await self._release_claim_protection(claim, namespace, name)
            return
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name:
            await self._sync_bound_claim(claim, volume_name)
            return
        storage_class = self.classes.get(plan.claim_class(claim)) if plan.claim_class(claim) else None
        wait_for_consumer = (storage_class or {}).get("volumeBindingMode") == "WaitForFirstConsumer"
        node_name = annotations_of(claim).get(plan.SELECTED_NODE_ANNOTATION)
        if wait_for_consumer and not node_name:
            self._record_once(claim, NORMAL, "WaitForFirstConsumer",
                              "waiting for first consumer to be created before binding")
            return
        node = self.nodes.get(node_name) if node_name else None
        labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        match = plan.find_best_match(claim, self.volumes.list(), node_name=node_name if wait_for_consumer else None,
                                     node_labels=labels)
        if match is not None:
            await self._bind(claim, match)
            return
        if storage_class is None:
            if plan.claim_class(claim):
                self._record_once(claim, WARNING, "ProvisioningFailed",
                                  f'storageclass.storage.k8s.io "{plan.claim_class(claim)}" not found')
            else:
                self._record_once(claim, NORMAL, "FailedBinding",
                                  "no persistent volumes available for this claim and no storage class is set")
            return
        if storage_class.get("provisioner") != plan.LOCAL_PATH_PROVISIONER:
            self._record_once(claim, NORMAL, "ExternalProvisioning",
                              f"Waiting for a volume to be created either by the external provisioner "
                              f"'{storage_class.get('provisioner')}' or manually by the system administrator.")
            return
        await self._provision(claim, storage_class, node if wait_for_consumer else
                              plan.node_for_immediate_binding(self.nodes.list()))

    async def _sync_bound_claim(self, claim: dict, volume_name: str) -> None:
        volume = self.volumes.get(volume_name)
        if volume is None:
            if (claim.get("status") or {}).get("phase") == "Bound":
                await self._set_claim_status(claim, {"phase": "Lost"})
                self.recorder.record(claim, WARNING, "ClaimLost",
                                     "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or plan.claim_ref_points_at(volume, claim):
            await self._bind(claim, volume)  # also completes what a user pre-bound by volumeName

    async def _provision(self, claim: dict, storage_class: dict, node: dict | None) -> None:
        key = key_of(claim)
        root = annotations_of(node or {}).get(plan.LOCAL_PATH_ROOT_ANNOTATION)
        if node is None or not root:
            self.log.info("claim %s: no node keeps local-path volumes yet; retrying", key)
            self.queue.add_after(key, NODE_NOT_READY_RETRY_SECONDS)
            return
        body = plan.provisioned_volume(claim, storage_class, node_name=node["metadata"]["name"], root=root)
        try:
            await self.client.create(PERSISTENTVOLUMES, body)
        except AlreadyExists:
            return  # provisioned before; the volume's events bring us back
        self.log.info("claim %s: provisioned volume %s on node %s", key, body["metadata"]["name"],
                      node["metadata"]["name"])
        self.recorder.record(claim, NORMAL, "ProvisioningSucceeded",
                             f"Successfully provisioned volume {body['metadata']['name']}")

    async def _bind(self, claim: dict, volume: dict) -> None:
        """bind(): the volume's claimRef, the volume's phase, the claim's volumeName, the claim's phase."""
        key, volume_name = key_of(claim), volume["metadata"]["name"]
        try:
            ref = (volume.get("spec") or {}).get("claimRef") or {}
            if ref.get("uid") != claim["metadata"]["uid"]:
                wanted = copy.deepcopy(volume)
                wanted["spec"]["claimRef"] = plan.claim_reference(claim)
                wanted["metadata"].setdefault("annotations", {})[plan.BOUND_BY_CONTROLLER_ANNOTATION] = "yes"
                volume = await self.client.update(PERSISTENTVOLUMES, wanted)
            await self._set_volume_phase(volume, "Bound")
            if (claim.get("spec") or {}).get("volumeName") != volume_name \
                    or annotations_of(claim).get(plan.BIND_COMPLETED_ANNOTATION) != "yes":
                wanted = copy.deepcopy(claim)
                wanted["spec"]["volumeName"] = volume_name
                annotations = wanted["metadata"].setdefault("annotations", {})
                annotations[plan.BIND_COMPLETED_ANNOTATION] = "yes"
                if not (claim.get("spec") or {}).get("volumeName"):
                    annotations[plan.BOUND_BY_CONTROLLER_ANNOTATION] = "yes"
                claim = await self.client.update(PERSISTENTVOLUMECLAIMS, wanted)
                self.log.info("claim %s: bound to volume %s", key, volume_name)
            spec = volume.get("spec") or {}
            await self._set_claim_status(claim, {"phase": "Bound", "accessModes": spec.get("accessModes"),
                                                 "capacity": spec.get("capacity")})
        except NotFound:
            return  # one of them went away; its delete event brings us back
        except Conflict:
            self.queue.add_after(key, 0.2)  # the cache was stale: look again shortly

    async def _sync_volume(self, name: str) -> None:
        volume = self.volumes.get(name)
        if volume is None:
            return
        if is_being_deleted(volume):
            await self._release_volume_protection(volume)
            return
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        claim = self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}") if ref else None
        fate = plan.volume_fate(volume, claim)
        if fate == "available":
            await self._set_volume_phase(volume, "Available")
        elif fate == "bound":
            await self._set_volume_phase(volume, "Bound")
        elif fate == "wait":
            if (volume.get("status") or {}).get("phase") == "Pending":
                await self._set_volume_phase(volume, "Available")
            if claim is not None:
                self.enqueue(claim)
        elif fate == "unbind":
            wanted = copy.deepcopy(volume)
            wanted["spec"].pop("claimRef", None)
            wanted["metadata"].get("annotations", {}).pop(plan.BOUND_BY_CONTROLLER_ANNOTATION, None)
            try:
                volume = await self.client.update(PERSISTENTVOLUMES, wanted)
            except (NotFound, Conflict):
                return
            await self._set_volume_phase(volume, "Available")
        else:
            await self._set_volume_phase(volume, "Released")
            if fate == "delete":
                self.log.info("volume %s: claim %s/%s is gone, deleting the volume (reclaim policy Delete)", name,
                              ref.get("namespace"), ref.get("name"))
                try:
                    await self.client.delete(PERSISTENTVOLUMES, name)
                except NotFound:
                    pass

    # --- protection finalizers ---------------------------------------------------------------------

    async def _release_claim_protection(self, claim: dict, namespace: str, name: str) -> None:
        if plan.PVC_PROTECTION_FINALIZER not in (claim["metadata"].get("finalizers") or []):
            return
        users = [pod for pod in self.pods.by_index(NAMESPACE_INDEX, namespace) if plan.pod_uses_claim(pod, name)]
        if users:
            self.log.info("claim %s/%s: deletion waits for pod(s) %s", namespace, name,
                          ", ".join(pod["metadata"]["name"] for pod in users))
            return
        await self._remove_finalizer(PERSISTENTVOLUMECLAIMS, claim, plan.PVC_PROTECTION_FINALIZER)

    async def _release_volume_protection(self, volume: dict) -> None:
        if plan.PV_PROTECTION_FINALIZER not in (volume["metadata"].get("finalizers") or []):
            return
        if (volume.get("status") or {}).get("phase") == "Bound":
            ref = (volume.get("spec") or {}).get("claimRef") or {}
            claim = self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}") if ref else None
            if claim is not None and plan.volume_fate(volume, claim) == "bound":
                return
        await self._remove_finalizer(PERSISTENTVOLUMES, volume, plan.PV_PROTECTION_FINALIZER)

    async def _remove_finalizer(self, resource, obj: dict, finalizer: str) -> None:
        metadata = obj["metadata"]
        remaining = [f for f in metadata.get("finalizers") or [] if f != finalizer]
        patch = {"metadata": {"finalizers": remaining, "resourceVersion": metadata.get("resourceVersion")}}
        try:
            await self.client.patch(resource, metadata["name"], patch, namespace=metadata.get("namespace"),
                                    patch_type="merge")
        except NotFound:
            return
        except Conflict:
            self.queue.add_after(key_of(obj), 0.2)
            return
        self.log.info("%s %s: removed finalizer %s", resource.kind, key_of(obj), finalizer)

    # --- status ------------------------------------------------------------------------------------

    async def _set_volume_phase(self, volume: dict, phase: str) -> None:
        if (volume.get("status") or {}).get("phase") == phase:
            return
        status = {"phase": phase, "lastPhaseTransitionTime": format_time(self.clock())}
        try:
            await self.client.patch(PERSISTENTVOLUMES, volume["metadata"]["name"], {"status": status},
                                    patch_type="merge", subresource="status")
        except NotFound:
            return
        self.log.info("volume %s: phase %s", volume["metadata"]["name"], phase)

    async def _set_claim_status(self, claim: dict, status: dict) -> None:
        current = claim.get("status") or {}
        if all(current.get(field) == value for field, value in status.items()):
            return
        try:
            await self.client.patch(PERSISTENTVOLUMECLAIMS, claim["metadata"]["name"], {"status": status},
                                    namespace=claim["metadata"]["namespace"], patch_type="merge",
                                    subresource="status")
        except NotFound:
            return

    def _record_once(self, claim: dict, type_: str, reason: str, message: str) -> None:
        """An event per claim and reason per controller run, not one per resync of a waiting claim."""
        marker = (claim["metadata"].get("uid") or "", reason)
        if marker in self._recorded:
            return
        self._recorded.add(marker)
        self.recorder.record(claim, type_, reason, message)

