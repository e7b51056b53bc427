"""kubectl's columns for PersistentVolumeClaims, PersistentVolumes and StorageClasses, as kube-apiserver 1.32.

`kubectl get pvc`: NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE
(+ VOLUMEMODE wide); `kubectl get pv`: NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM
STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE (+ VOLUMEMODE); `kubectl get sc`: NAME PROVISIONER
RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE, the default class named `NAME (default)`.
Objects being deleted show STATUS Terminating. As printPersistentVolume(Claim)/printStorageClass
in printers.go. `register` adds them to tables.py's tables (its last lines).
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.api.quantity import canonical_quantity

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
# helper.GetAccessModesAsString's order and abbreviations.
_ACCESS_MODE_ABBREVIATIONS = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                              ("ReadWriteOncePod", "RWOP"))


def access_modes_text(modes: list[str] | None) -> str:
    modes = modes or []
    return ",".join(short for mode, short in _ACCESS_MODE_ABBREVIATIONS if mode in modes)


def _quantity(value) -> str:
    if value is None:
        return "0"
    try:
        return canonical_quantity(value)
    except (ValueError, ArithmeticError):
        return str(value)


def _class_of(obj: dict) -> str:
    """GetPersistentVolume(Claim)Class: the beta annotation wins over spec.storageClassName."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if BETA_CLASS_ANNOTATION in annotations:
        return annotations[BETA_CLASS_ANNOTATION]
    return (obj.get("spec") or {}).get("storageClassName") or ""


def is_default_class(storage_class: dict) -> bool:
    annotations = (storage_class.get("metadata") or {}).get("annotations") or {}
    return (annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"
            or annotations.get(BETA_DEFAULT_CLASS_ANNOTATION) == "true")


def _phase(obj: dict) -> str:
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return (obj.get("status") or {}).get("phase") or ""


def claim_cells(claim: dict, now: datetime, *, name, age) -> list:
    spec, status = claim.get("spec") or {}, claim.get("status") or {}
    capacity = access_modes = ""
    if spec.get("volumeName"):
        access_modes = access_modes_text(status.get("accessModes"))
        capacity = _quantity((status.get("capacity") or {}).get("storage"))
    return [name(claim), _phase(claim), spec.get("volumeName") or "", capacity, access_modes, _class_of(claim),
            spec.get("volumeAttributesClassName") or "<unset>", age(claim, now), spec.get("volumeMode") or "<unset>"]


def volume_cells(volume: dict, now: datetime, *, name, age) -> list:
    spec, status = volume.get("spec") or {}, volume.get("status") or {}
    claim_ref = spec.get("claimRef")
    claim = f"{claim_ref.get('namespace') or ''}/{claim_ref.get('name') or ''}" if claim_ref else ""
    return [name(volume), _quantity((spec.get("capacity") or {}).get("storage")),
            access_modes_text(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy") or "",
            _phase(volume), claim, _class_of(volume), spec.get("volumeAttributesClassName") or "<unset>",
            status.get("reason") or "", age(volume, now), spec.get("volumeMode") or "<unset>"]


def class_cells(storage_class: dict, now: datetime, *, name, age) -> list:
    shown = name(storage_class) + (" (default)" if is_default_class(storage_class) else "")
    return [shown, storage_class.get("provisioner") or "", storage_class.get("reclaimPolicy") or "Delete",
            storage_class.get("volumeBindingMode") or "Immediate", bool(storage_class.get("allowVolumeExpansion")),
            age(storage_class, now)]


def register(columns: dict, printers: dict) -> None:
    from orchestrator.apiserver.tables import _AGE, _NAME, _column, _get, format_age

    def name(obj: dict) -> str:
        return _get(obj, "metadata", "name") or ""

    def age(obj: dict, now: datetime) -> str:
        return format_age(_get(obj, "metadata", "creationTimestamp"), now)

    columns["persistentvolumeclaims"] = [
        _NAME,
        _column("Status", "phase represents the current phase of PersistentVolumeClaim."),
        _column("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        _column("Capacity", "capacity represents the actual resources of the underlying volume."),
        _column("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has. More "
                "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
        _column("StorageClass", "StorageClass of the pvc"),
        _column("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        _AGE,
        _column("VolumeMode", "volumeMode defines what type of volume is required by the claim. Value of Filesystem "
                "is implied when not included in claim spec.", priority=1),
    ]
    columns["persistentvolumes"] = [
        _NAME,
        _column("Capacity", "capacity is the description of the persistent volume's resources and capacity. More "
                "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
        _column("Access Modes", "accessModes contains all ways the volume can be mounted. More info: "
                "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
        _column("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
                "released from its claim. Valid options are Retain (default for manually created PersistentVolumes), "
                "Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle "
                "must be supported by the volume plugin underlying this PersistentVolume. More info: "
                "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"),
        _column("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim. More "
                "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
        _column("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and "
                "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind "
                "between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"),
        _column("StorageClass", "StorageClass of the pv"),
        _column("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        _column("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine "
                "parsing and tidy display in the CLI."),
        _AGE,
        _column("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or "
                "to remain in raw block state. Value of Filesystem is implied when not included in spec.",
                priority=1),
    ]
    columns["storageclasses"] = [
        _NAME,
        _column("Provisioner", "provisioner indicates the type of the provisioner."),
        _column("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
                "PersistentVolumes of this storage class. Defaults to Delete."),
        _column("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned "
                "and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that "
                "enable the VolumeScheduling feature."),
        _column("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand."),
        _AGE,
    ]
    printers["persistentvolumeclaims"] = lambda claim, now: claim_cells(claim, now, name=name, age=age)
    printers["persistentvolumes"] = lambda volume, now: volume_cells(volume, now, name=name, age=age)
    printers["storageclasses"] = lambda storage_class, now: class_cells(storage_class, now, name=name, age=age)
