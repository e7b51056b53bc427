"""The core/v1 storage kinds: PersistentVolume (cluster-scoped) and PersistentVolumeClaim.

A claim asks for `resources.requests.storage` with some `accessModes` (and optionally a
`storageClassName`, a `selector` or a `volumeName`); the persistent-volume controller
(orchestrator/controllers/persistentvolume/) binds it to a volume that satisfies it, or has one
provisioned, and fills both objects' `status.phase`. Volume sources this cluster can mount are
`hostPath` and `local`; the others are accepted as opaque objects, as core_v1's pod volumes.

Used by: the apiserver (validation, OpenAPI), the controller, the scheduler and the kubelet
(which read wire-form dicts), and StatefulSet's volumeClaimTemplates.
"""

from __future__ import annotations

from pydantic import StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.core_v1 import (
    HostPathVolumeSource,
    NFSVolumeSource,
    NodeSelector,
    ObjectReference,
    OpaqueSource,
)
from orchestrator.api.meta import Condition, LabelSelector, ObjectMeta, Quantity, Time

OPENAPI_PACKAGE = "io.k8s.api.core.v1"


class LocalVolumeSource(K8sModel):
    """A directory (or disk) of one node; the volume's nodeAffinity says which."""

    path: StrictStr
    fs_type: StrictStr | None = None


class VolumeNodeAffinity(K8sModel):
    """The nodes a volume can be used from."""

    required: NodeSelector | None = None


class PersistentVolumeSpec(K8sModel):
    """What a volume offers and, once bound, which claim holds it (`claimRef`)."""

    capacity: dict[str, Quantity] | None = None
    access_modes: list[StrictStr] | None = None
    claim_ref: ObjectReference | None = None
    persistent_volume_reclaim_policy: StrictStr | None = None
    storage_class_name: StrictStr | None = None
    mount_options: list[StrictStr] | None = None
    volume_mode: StrictStr | None = None
    node_affinity: VolumeNodeAffinity | None = None
    volume_attributes_class_name: StrictStr | None = None
    host_path: HostPathVolumeSource | None = None
    local: LocalVolumeSource | None = None
    nfs: NFSVolumeSource | None = None
    csi: OpaqueSource | None = None
    aws_elastic_block_store: OpaqueSource | None = None
    azure_disk: OpaqueSource | None = None
    azure_file: OpaqueSource | None = None
    cephfs: OpaqueSource | None = None
    cinder: OpaqueSource | None = None
    fc: OpaqueSource | None = None
    flex_volume: OpaqueSource | None = None
    gce_persistent_disk: OpaqueSource | None = None
    glusterfs: OpaqueSource | None = None
    iscsi: OpaqueSource | None = None
    rbd: OpaqueSource | None = None


class PersistentVolumeStatus(K8sModel):
    """Available, Bound, Released or Failed (and Pending while being created)."""

    phase: StrictStr | None = None
    message: StrictStr | None = None
    reason: StrictStr | None = None
    last_phase_transition_time: Time | None = None


class PersistentVolume(K8sModel):
    """A piece of storage of the cluster."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: PersistentVolumeSpec | None = None
    status: PersistentVolumeStatus | None = None


class VolumeResourceRequirements(K8sModel):
    """How much storage a claim asks for (`requests.storage`) and may grow to (`limits`)."""

    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class TypedLocalObjectReference(K8sModel):
    """An object of the claim's namespace to populate the volume from."""

    api_group: StrictStr | None = None
    kind: StrictStr
    name: StrictStr


class TypedObjectReference(K8sModel):
    """dataSourceRef: as TypedLocalObjectReference, possibly in another namespace."""

    api_group: StrictStr | None = None
    kind: StrictStr
    name: StrictStr
    namespace: StrictStr | None = None


class PersistentVolumeClaimSpec(K8sModel):
    """What the claim asks for; `volumeName` names the volume it is (to be) bound to."""

    access_modes: list[StrictStr] | None = None
    selector: LabelSelector | None = None
    resources: VolumeResourceRequirements | None = None
    volume_name: StrictStr | None = None
    storage_class_name: StrictStr | None = None
    volume_mode: StrictStr | None = None
    data_source: TypedLocalObjectReference | None = None
    data_source_ref: TypedObjectReference | None = None
    volume_attributes_class_name: StrictStr | None = None


class PersistentVolumeClaimStatus(K8sModel):
    """Pending, Bound or Lost; what the bound volume gives (`capacity`, `accessModes`)."""

    phase: StrictStr | None = None
    access_modes: list[StrictStr] | None = None
    capacity: dict[str, Quantity] | None = None
    conditions: list[Condition] | None = None
    allocated_resources: dict[str, Quantity] | None = None
    allocated_resource_statuses: dict[str, StrictStr] | None = None
    current_volume_attributes_class_name: StrictStr | None = None
    modify_volume_status: OpaqueSource | None = None


class PersistentVolumeClaim(K8sModel):
    """A user's request for storage."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: PersistentVolumeClaimSpec | None = None
    status: PersistentVolumeClaimStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"PersistentVolume": PersistentVolume, "PersistentVolumeClaim": PersistentVolumeClaim}
