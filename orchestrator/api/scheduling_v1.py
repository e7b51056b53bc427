"""The scheduling.k8s.io/v1 PriorityClass kind: a named integer priority for pods.

Used by: the apiserver (validation, OpenAPI). Pod admission resolving
`priorityClassName` into `spec.priority` is not written yet.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.scheduling.v1"


class PriorityClass(K8sModel):
    """A cluster-wide priority value; `globalDefault` marks the one pods without a class get."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    value: StrictInt | None = None
    global_default: StrictBool | None = None
    description: StrictStr | None = None
    preemption_policy: StrictStr | None = None


MODELS: dict[str, type[K8sModel]] = {"PriorityClass": PriorityClass}
