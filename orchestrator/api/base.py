"""The base class of every API model and the conventions they follow.

Models mirror Kubernetes' Go types: Python attributes are snake_case, the wire
(JSON) names are Kubernetes' camelCase, produced by `wire_name` (which knows the
acronyms Kubernetes spells in capitals: `podIP`, `clusterIPs`, `containerID`).
Every field is optional unless Kubernetes requires it; `dump()` drops unset
(None) fields so that an object round-trips the way the user wrote it.

Strategic-merge-patch metadata lives on list fields, as in Kubernetes' Go struct
tags, through `json_schema_extra`; `patch.py` and the OpenAPI documents read it:

    containers: list[Container] | None = merge_list("name")

Used by: the apiserver (validation, OpenAPI), controllers, scheduler, kubelet.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Words Kubernetes writes in capitals when they are not the first word of a field.
_ACRONYMS = {
    "ip": "IP",
    "ips": "IPs",
    "cidr": "CIDR",
    "cidrs": "CIDRs",
    "id": "ID",
    "pid": "PID",
    "ipc": "IPC",
    "url": "URL",
    "uri": "URI",
    "tls": "TLS",
    "uuid": "UUID",
    "fqdn": "FQDN",
}

PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"
PATCH_STRATEGY = "x-kubernetes-patch-strategy"


def wire_name(attribute: str) -> str:
    """`pod_ip` -> `podIP`, `host_ipc` -> `hostIPC`, `api_version` -> `apiVersion`."""
    first, *rest = attribute.rstrip("_").split("_")
    return first + "".join(_ACRONYMS.get(word, word[:1].upper() + word[1:]) for word in rest)


class K8sModel(BaseModel):
    """Base of all API models: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=wire_name,
        populate_by_name=True,
        extra="forbid",
        protected_namespaces=(),
    )

    def dump(self) -> dict[str, Any]:
        """The wire form: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def merge_list(merge_key: str | None = None, *, retain_keys: bool = False, **field_kwargs: Any) -> Any:
    """A list field merged element-wise by strategic merge patch (`patchStrategy:"merge"`).

    `merge_key` names the element field that identifies an element (`name` for
    containers); None means a list of primitives merged as a set (finalizers).
    """
    extra: dict[str, Any] = {PATCH_STRATEGY: "merge,retainKeys" if retain_keys else "merge"}
    if merge_key:
        extra[PATCH_MERGE_KEY] = merge_key
    return Field(None, json_schema_extra=extra, **field_kwargs)


def retain_keys(**field_kwargs: Any) -> Any:
    """A struct field whose unspecified keys are cleared by a patch (`patchStrategy:"retainKeys"`)."""
    return Field(None, json_schema_extra={PATCH_STRATEGY: "retainKeys"}, **field_kwargs)
