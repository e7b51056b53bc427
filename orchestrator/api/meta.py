"""Object metadata and the other meta/v1 types every kind shares, plus the scalar types of the API.

Mirrors k8s.io/apimachinery/pkg/apis/meta/v1: `ObjectMeta` (on every object),
`ListMeta`, `LabelSelector`, `OwnerReference`, `Condition`, `Status` (the body of
every error) and `DeleteOptions` (the body of a DELETE).

The scalar aliases below are what the kind modules (core_v1, apps_v1, ...) type
their fields with. They are strict, as Kubernetes' JSON decoder is: a string
where an integer belongs (`replicas: "3"`) is refused, and so is a number where
a string belongs (`image: 1`). `IntOrString` and `Quantity` accept both forms;
timestamps stay strings. Each carries a marker that the OpenAPI generator
(apiserver/openapi.py) turns into a reference to Kubernetes' named schema.

Used by: every model module, the apiserver (validation, OpenAPI), controllers.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr, WithJsonSchema

from orchestrator.api.base import K8sModel, merge_list

# The Go package whose OpenAPI names these types carry (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`).
OPENAPI_PACKAGE = "io.k8s.apimachinery.pkg.apis.meta.v1"

# Key of the marker that apiserver/openapi.py replaces with a `$ref` to a named scalar schema.
NAMED_SCHEMA_MARKER = "x-orc-named-schema"


def _named(schema_name: str) -> WithJsonSchema:
    return WithJsonSchema({NAMED_SCHEMA_MARKER: schema_name})


IntOrString = Annotated[StrictInt | StrictStr, _named("io.k8s.apimachinery.pkg.util.intstr.IntOrString")]
"""`8080` or `"http"` (a port number or a port name; `maxSurge: 1` or `"25%"`)."""

Quantity = Annotated[StrictStr | StrictInt | StrictFloat, _named("io.k8s.apimachinery.pkg.api.resource.Quantity")]
"""`"500m"`, `"1Gi"`, `2`, `0.5`; the syntax is checked by the validation layer, not here."""

Time = Annotated[StrictStr, _named("io.k8s.apimachinery.pkg.apis.meta.v1.Time")]
"""An RFC 3339 timestamp with second precision: `2024-05-01T12:00:00Z`."""

MicroTime = Annotated[StrictStr, _named("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime")]
"""An RFC 3339 timestamp with microsecond precision: `2024-05-01T12:00:00.123456Z`."""


class OwnerReference(K8sModel):
    """Names an object this object depends on; the garbage collector deletes dependents of deleted owners."""

    api_version: StrictStr
    kind: StrictStr
    name: StrictStr
    uid: StrictStr
    controller: StrictBool | None = None
    block_owner_deletion: StrictBool | None = None


class ObjectMeta(K8sModel):
    """Metadata every persisted object carries: identity, labels, ownership and bookkeeping."""

    name: StrictStr | None = None
    generate_name: StrictStr | None = None
    namespace: StrictStr | None = None
    uid: StrictStr | None = None
    resource_version: StrictStr | None = None
    generation: StrictInt | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: StrictInt | None = None
    labels: dict[str, StrictStr] | None = None
    annotations: dict[str, StrictStr] | None = None
    owner_references: list[OwnerReference] | None = merge_list("uid")
    finalizers: list[StrictStr] | None = merge_list()
    # Server-side-apply bookkeeping: accepted and kept as written, not interpreted.
    managed_fields: list[dict[str, Any]] | None = None
    self_link: StrictStr | None = None


class ListMeta(K8sModel):
    """Metadata of a list response: its resourceVersion and the token that continues a paged list."""

    resource_version: StrictStr | None = None
    continue_: StrictStr | None = None
    remaining_item_count: StrictInt | None = None
    self_link: StrictStr | None = None


class LabelSelectorRequirement(K8sModel):
    """One `matchExpressions` entry: `key` `In`/`NotIn`/`Exists`/`DoesNotExist` `values`."""

    key: StrictStr
    operator: StrictStr
    values: list[StrictStr] | None = None


class LabelSelector(K8sModel):
    """Selects objects by labels; the requirements are ANDed, and an empty selector matches everything."""

    match_labels: dict[str, StrictStr] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class Condition(K8sModel):
    """The standard condition of an object's status (`type`, `status` True/False/Unknown, why)."""

    type: StrictStr
    status: StrictStr
    observed_generation: StrictInt | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class StatusCause(K8sModel):
    """One reason a request failed, usually naming the offending field."""

    reason: StrictStr | None = None
    message: StrictStr | None = None
    field: StrictStr | None = None


class StatusDetails(K8sModel):
    """What a failure is about: the object's name, group and kind, and the causes."""

    name: StrictStr | None = None
    group: StrictStr | None = None
    kind: StrictStr | None = None
    uid: StrictStr | None = None
    causes: list[StatusCause] | None = None
    retry_after_seconds: StrictInt | None = None


class Status(K8sModel):
    """The result of a request that returns no object: every error, and some deletions."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ListMeta | None = None
    status: StrictStr | None = None
    message: StrictStr | None = None
    reason: StrictStr | None = None
    details: StatusDetails | None = None
    code: StrictInt | None = None


class Preconditions(K8sModel):
    """What must hold for a deletion to proceed: the object still has this uid / resourceVersion."""

    uid: StrictStr | None = None
    resource_version: StrictStr | None = None


class DeleteOptions(K8sModel):
    """The optional body of a DELETE: grace period, cascading policy, preconditions, dry run."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    grace_period_seconds: StrictInt | None = None
    preconditions: Preconditions | None = None
    orphan_dependents: StrictBool | None = None
    propagation_policy: StrictStr | None = None
    dry_run: list[StrictStr] | None = None
    ignore_store_read_error_with_cluster_breaking_potential: StrictBool | None = None


MODELS: dict[str, type[K8sModel]] = {"Status": Status, "DeleteOptions": DeleteOptions}
