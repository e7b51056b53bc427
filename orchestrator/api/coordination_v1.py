"""The coordination.k8s.io/v1 Lease kind: leader election and node heartbeats.

A candidate becomes leader by writing its identity into `spec.holderIdentity` and
keeps the lease by renewing `spec.renewTime` within `leaseDurationSeconds`; writes
are guarded by resourceVersion, so two candidates cannot both win.

Used by: the apiserver (validation, OpenAPI), client/leader election, the kubelet (node leases).
"""

from __future__ import annotations

from pydantic import StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import MicroTime, ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.coordination.v1"


class LeaseSpec(K8sModel):
    """Who holds the lease, since when, for how long, and how many times it changed hands."""

    holder_identity: StrictStr | None = None
    lease_duration_seconds: StrictInt | None = None
    acquire_time: MicroTime | None = None
    renew_time: MicroTime | None = None
    lease_transitions: StrictInt | None = None
    strategy: StrictStr | None = None
    preferred_holder: StrictStr | None = None


class Lease(K8sModel):
    """A lease held by one holder at a time."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: LeaseSpec | None = None


MODELS: dict[str, type[K8sModel]] = {"Lease": Lease}
