"""Strategies for PersistentVolume, PersistentVolumeClaim (core/v1) and StorageClass (storage.k8s.io/v1).

Mirrors pkg/apis/core/validation (ValidatePersistentVolume, ValidatePersistentVolumeClaim and
their Update forms) and pkg/apis/storage/validation, with their messages and field paths: a
claim needs at least one access mode and `resources.requests[storage]` greater than zero; its
spec is immutable once created except the storage request, and `volumeName` /
`storageClassName` may be set once (binding, defaulting). A volume needs a capacity, access
modes and exactly one source; a `local` volume needs node affinity. A class needs a
provisioner, and its provisioner, parameters, reclaim policy and binding mode never change.

On create, as the StorageObjectInUseProtection admission plugin, claims get the
`kubernetes.io/pvc-protection` finalizer and volumes `kubernetes.io/pv-protection`; the
persistent-volume controller removes them once nothing uses the object. Status starts as
`Pending` (claims and volumes), as Kubernetes' PrepareForCreate. Registered in strategies/__init__.py.
"""

from __future__ import annotations

import copy

from orchestrator.api.errors import FieldError, forbidden, invalid, not_supported, required
from orchestrator.api.quantity import is_valid_quantity, parse_quantity
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import validate_label_selector

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
CLASS_RECLAIM_POLICIES = ["Delete", "Retain"]
BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
VOLUME_MODES = ["Block", "Filesystem"]
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"
# The volume sources a PersistentVolumeSpec may carry (exactly one of them).
PV_SOURCES = ("hostPath", "local", "nfs", "csi", "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder",
              "fc", "flexVolume", "gcePersistentDisk", "glusterfs", "iscsi", "rbd")
IS_NOT_POSITIVE = "must be greater than zero"
PVC_IMMUTABLE = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"


def _add_finalizer(obj: dict, finalizer: str) -> None:
    finalizers = obj.setdefault("metadata", {}).setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def _validate_access_modes(modes, field: str) -> list[FieldError]:
    if not modes:
        return [required(field, "at least 1 access mode is required")]
    errors = [not_supported(field, mode, ACCESS_MODES) for mode in modes if mode not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errors.append(forbidden(field, "may not use ReadWriteOncePod with other access modes"))
    return errors


def _validate_storage(value, field: str) -> list[FieldError]:
    if not is_valid_quantity(value):
        return [invalid(field, value, "quantities must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    if parse_quantity(value) <= 0:
        return [invalid(field, value, IS_NOT_POSITIVE)]
    return []


def _validate_volume_mode(spec: dict, field: str) -> list[FieldError]:
    mode = spec.get("volumeMode")
    return [not_supported(field, mode, VOLUME_MODES)] if mode is not None and mode not in VOLUME_MODES else []


class PersistentVolumeClaimStrategy(Strategy):
    kind = "PersistentVolumeClaim"
    has_status = True

    def prepare_for_create(self, claim: dict) -> None:
        claim["status"] = {"phase": "Pending"}
        _add_finalizer(claim, PVC_PROTECTION_FINALIZER)

    def default(self, claim: dict) -> None:
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")

    def validate(self, claim: dict) -> list[FieldError]:
        errors = self.validate_metadata(claim)
        spec = claim.get("spec") or {}
        errors.extend(_validate_access_modes(spec.get("accessModes"), "spec.accessModes"))
        errors.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
        requests = (spec.get("resources") or {}).get("requests") or {}
        if "storage" not in requests:
            errors.append(required("spec.resources[storage]"))
        else:
            errors.extend(_validate_storage(requests["storage"], "spec.resources.requests[storage]"))
        errors.extend(_validate_volume_mode(spec, "spec.volumeMode"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old) + self.validate(new)
        new_spec, old_spec = copy.deepcopy(new.get("spec") or {}), copy.deepcopy(old.get("spec") or {})
        # Binding sets volumeName once; a claim without a class may get one once.
        for key, unset in (("volumeName", ("", None)), ("storageClassName", (None,))):
            if old_spec.get(key) in unset:
                old_spec.pop(key, None)
                if key in new_spec:
                    old_spec[key] = new_spec[key]
        bound = (old.get("status") or {}).get("phase") == "Bound"
        for key in ("resources", "volumeAttributesClassName"):
            if bound or key == "volumeAttributesClassName":
                old_spec.pop(key, None)
                new_spec.pop(key, None)
        if new_spec != old_spec:
            errors.append(forbidden("spec", PVC_IMMUTABLE))
        return errors


class PersistentVolumeStrategy(Strategy):
    kind = "PersistentVolume"
    namespaced = False
    has_status = True

    def prepare_for_create(self, volume: dict) -> None:
        volume["status"] = {"phase": "Pending"}
        _add_finalizer(volume, PV_PROTECTION_FINALIZER)

    def default(self, volume: dict) -> None:
        spec = volume.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")

    def validate(self, volume: dict) -> list[FieldError]:
        errors = self.validate_metadata(volume)
        spec = volume.get("spec") or {}
        errors.extend(_validate_access_modes(spec.get("accessModes"), "spec.accessModes"))
        capacity = spec.get("capacity") or {}
        if not capacity:
            errors.append(required("spec.capacity"))
        for key, value in capacity.items():
            if key != "storage":
                errors.append(not_supported("spec.capacity", key, ["storage"]))
            else:
                errors.extend(_validate_storage(value, "spec.capacity[storage]"))
        policy = spec.get("persistentVolumeReclaimPolicy")
        if policy is not None and policy not in PV_RECLAIM_POLICIES:
            errors.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, PV_RECLAIM_POLICIES))
        sources = [source for source in PV_SOURCES if spec.get(source) is not None]
        if not sources:
            errors.append(required("spec", "must specify a volume type"))
        for extra in sources[1:]:
            errors.append(forbidden(f"spec.{extra}", "may not specify more than 1 volume type"))
        if spec.get("hostPath") is not None and not spec["hostPath"].get("path"):
            errors.append(required("spec.hostPath.path"))
        if spec.get("local") is not None:
            if not spec["local"].get("path"):
                errors.append(required("spec.local.path"))
            if not (spec.get("nodeAffinity") or {}).get("required"):
                errors.append(required("spec.nodeAffinity", "Local volumes require node affinity"))
        errors.extend(_validate_volume_mode(spec, "spec.volumeMode"))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old) + self.validate(new)
        new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        for source in PV_SOURCES:
            if old_spec.get(source) != new_spec.get(source):
                errors.append(forbidden("spec.persistentvolumesource",
                                        "spec.persistentvolumesource is immutable after creation"))
                break
        if old_spec.get("volumeMode") != new_spec.get("volumeMode"):
            errors.append(invalid("spec.volumeMode", new_spec.get("volumeMode"), "field is immutable"))
        return errors


class StorageClassStrategy(Strategy):
    kind = "StorageClass"
    namespaced = False

    def default(self, storage_class: dict) -> None:
        storage_class.setdefault("reclaimPolicy", "Delete")
        storage_class.setdefault("volumeBindingMode", "Immediate")

    def validate(self, storage_class: dict) -> list[FieldError]:
        errors = self.validate_metadata(storage_class)
        if not storage_class.get("provisioner"):
            errors.append(required("provisioner"))
        policy = storage_class.get("reclaimPolicy")
        if policy is not None and policy not in CLASS_RECLAIM_POLICIES:
            errors.append(not_supported("reclaimPolicy", policy, CLASS_RECLAIM_POLICIES))
        mode = storage_class.get("volumeBindingMode")
        if mode is not None and mode not in BINDING_MODES:
            errors.append(not_supported("volumeBindingMode", mode, BINDING_MODES))
        return errors

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        errors = self.validate_metadata_update(new, old) + self.validate(new)
        if new.get("parameters") != old.get("parameters"):
            errors.append(forbidden("parameters", "updates to parameters are forbidden."))
        if new.get("provisioner") != old.get("provisioner"):
            errors.append(forbidden("provisioner", "updates to provisioner are forbidden."))
        if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
            errors.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
            errors.append(invalid("volumeBindingMode", new.get("volumeBindingMode"), "field is immutable"))
        return errors


STORAGE_STRATEGIES = (PersistentVolumeClaimStrategy(), PersistentVolumeStrategy(), StorageClassStrategy())
