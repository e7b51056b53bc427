"""The Strategy interface: what differs per kind on the write path, as Kubernetes' RESTCreateStrategy.

The generic REST layer (orchestrator/apiserver/rest.py) calls, on create:
`prepare_for_create` -> `default` -> `validate`; on update of the main resource:
`prepare_for_update` -> `default` -> `validate_update`; on update of `/status`:
`prepare_for_status_update` -> `validate_update` (or `validate_status_update`).
Every hook takes wire-form dicts and mutates in place; validators return FieldErrors,
never raise. A kind without special rules uses `DefaultStrategy`.
"""

from __future__ import annotations

import copy

from orchestrator.api.errors import FieldError
from orchestrator.api.names import name_is_dns_subdomain
from orchestrator.apiserver.strategies.meta import NameValidator, validate_object_meta, validate_object_meta_update


class Strategy:
    """Defaulting, validation and status/spec separation for one kind."""

    kind: str = ""
    namespaced: bool = True
    has_status: bool = False
    # Kubernetes' ValidateNameFunc for the kind (Services: DNS-1035 label, Namespaces: DNS-1123 label).
    validate_name: NameValidator = staticmethod(name_is_dns_subdomain)

    def default(self, obj: dict) -> None:
        """Fill defaults in place (defaults.go); must be idempotent, it runs on every write."""

    def validate(self, obj: dict) -> list[FieldError]:
        """Validation on create."""
        return self.validate_metadata(obj)

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        """Validation on update: the object as on create, plus the metadata that may not change."""
        return self.validate_metadata_update(new, old) + self.validate(new)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        """Validation of a `/status` write (Kubernetes' status strategies check much less)."""
        return self.validate_metadata_update(new, old)

    def prepare_for_create(self, obj: dict) -> None:
        """Clear what clients may not set on create (status of controller-owned kinds)."""
        if self.has_status:
            obj["status"] = {}

    def prepare_for_update(self, new: dict, old: dict) -> None:
        """A write to the main resource cannot change status."""
        if self.has_status:
            _copy_field(new, old, "status")

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        """A write to `/status` cannot change spec."""
        _copy_field(new, old, "spec")

    # ---------------------------------------------------------------- helpers for subclasses

    def validate_metadata(self, obj: dict) -> list[FieldError]:
        return validate_object_meta(obj.get("metadata"), namespaced=self.namespaced, validate_name=self.validate_name)

    def validate_metadata_update(self, new: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(new.get("metadata"), old.get("metadata"))


class DefaultStrategy(Strategy):
    """For kinds with no rules of their own: object metadata only."""

    def __init__(self, *, kind: str = "", namespaced: bool = True, has_status: bool = False):
        self.kind = kind
        self.namespaced = namespaced
        self.has_status = has_status


def _copy_field(new: dict, old: dict, key: str) -> None:
    if key in old:
        new[key] = copy.deepcopy(old[key])
    else:
        new.pop(key, None)
