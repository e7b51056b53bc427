"""The storage.k8s.io/v1 StorageClass kind: a named way to provision volumes.

`provisioner` names who creates volumes for claims of the class (here
`orchestrator.io/local-path`, served by the persistent-volume controller), `reclaimPolicy`
(Delete, Retain) is copied into the volumes it provisions, and `volumeBindingMode`
(Immediate, WaitForFirstConsumer) says whether a claim is provisioned at once or once the
scheduler has chosen a node for a pod that uses it.

Used by: the apiserver (validation, OpenAPI), the controller and the scheduler.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.storage.v1"


class TopologySelectorLabelRequirement(K8sModel):
    key: StrictStr
    values: list[StrictStr]


class TopologySelectorTerm(K8sModel):
    match_label_expressions: list[TopologySelectorLabelRequirement] | None = None


class StorageClass(K8sModel):
    """A class of storage: its provisioner, parameters and policies (no spec: fields at the top)."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    provisioner: StrictStr
    parameters: dict[str, StrictStr] | None = None
    reclaim_policy: StrictStr | None = None
    mount_options: list[StrictStr] | None = None
    allow_volume_expansion: StrictBool | None = None
    volume_binding_mode: StrictStr | None = None
    allowed_topologies: list[TopologySelectorTerm] | None = None


MODELS: dict[str, type[K8sModel]] = {"StorageClass": StorageClass}
