"""The error types of the API and their Kubernetes `Status` bodies, shared by server and client.

Every failure a request can meet is one of the classes below. Handlers and the
storage layer raise them; the app turns them into a `kind: Status` response once,
at the edge (the apiserver app on the server; the client maps a response back to the same class). Validation code builds `FieldError`s (as Kubernetes'
`field.Error`) and raises `Invalid` with all of them at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# field.ErrorType -> (cause reason, human prefix), as in k8s.io/apimachinery/pkg/util/validation/field.
FIELD_ERROR_TYPES = {
    "Required": ("FieldValueRequired", "Required value"),
    "Invalid": ("FieldValueInvalid", "Invalid value"),
    "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
    "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
    "Forbidden": ("FieldValueForbidden", "Forbidden"),
    "TooLong": ("FieldValueTooLong", "Too long"),
    "NotFound": ("FieldValueNotFound", "Not found"),
}

_NO_VALUE = object()


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


@dataclass
class FieldError:
    """One problem with one field, e.g. `spec.replicas: Invalid value: -1: must be ...`."""

    field: str
    type: str = "Invalid"
    value: Any = _NO_VALUE
    detail: str = ""

    def body(self) -> str:
        """The message without the field path (what `details.causes[].message` holds)."""
        prefix = FIELD_ERROR_TYPES[self.type][1]
        parts = [prefix]
        if self.value is not _NO_VALUE and self.type not in ("Required", "Forbidden", "TooLong"):
            parts.append(_render_value(self.value))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    def message(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def cause(self) -> dict:
        return {"reason": FIELD_ERROR_TYPES[self.type][0], "message": self.body(), "field": self.field}


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(field, "Required", detail=detail)


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(field, "Invalid", value, detail)


def not_supported(field: str, value: Any, supported: list[str]) -> FieldError:
    return FieldError(field, "NotSupported", value, "supported values: " + ", ".join(json.dumps(s) for s in supported))


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(field, "Duplicate", value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(field, "Forbidden", detail=detail)


class APIError(Exception):
    """Base of every error that becomes a Kubernetes `Status` response."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_status(self) -> dict:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


def _qualified_kind(kind: str, group: str) -> str:
    return f"{kind}.{group}" if group else kind


def _resource_details(name: str, group: str, kind: str) -> dict:
    details: dict = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return details


class BadRequest(APIError):
    code, reason = 400, "BadRequest"


class Unauthorized(APIError):
    code, reason = 401, "Unauthorized"


class Forbidden(APIError):
    code, reason = 403, "Forbidden"


class NotFound(APIError):
    code, reason = 404, "NotFound"

    @classmethod
    def for_object(cls, *, resource: str, group: str, name: str) -> NotFound:
        return cls(
            f'{_qualified_kind(resource, group)} "{name}" not found',
            details=_resource_details(name, group, resource),
        )


class MethodNotAllowed(APIError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(APIError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(APIError):
    code, reason = 409, "AlreadyExists"

    @classmethod
    def for_object(cls, *, resource: str, group: str, name: str) -> AlreadyExists:
        return cls(
            f'{_qualified_kind(resource, group)} "{name}" already exists',
            details=_resource_details(name, group, resource),
        )


class Conflict(APIError):
    code, reason = 409, "Conflict"

    @classmethod
    def stale(cls, *, resource: str, group: str, name: str) -> Conflict:
        return cls(
            f'Operation cannot be fulfilled on {_qualified_kind(resource, group)} "{name}": '
            "the object has been modified; please apply your changes to the latest version and try again",
            details=_resource_details(name, group, resource),
        )


class Expired(APIError):
    """410: a resourceVersion or continue token older than what is retained."""

    code, reason = 410, "Expired"


class RequestEntityTooLarge(APIError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(APIError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(APIError):
    """422: the object is well-formed but some fields have wrong values."""

    code, reason = 422, "Invalid"

    def __init__(self, *, kind: str, group: str, name: str, errors: list[FieldError]):
        self.field_errors = errors
        messages = [e.message() for e in errors]
        joined = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
        details = _resource_details(name, group, kind)
        details["causes"] = [e.cause() for e in errors]
        super().__init__(f'{_qualified_kind(kind, group)} "{name}" is invalid: {joined}', details=details)


class InternalError(APIError):
    code, reason = 500, "InternalError"


class ServiceUnavailable(APIError):
    code, reason = 503, "ServiceUnavailable"


class Timeout(APIError):
    code, reason = 504, "Timeout"
