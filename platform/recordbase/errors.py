"""Domain errors.

Every error a user can cause is one of these, carries a human sentence and, where
it concerns particular fields, a mapping of field name to message. One handler in
``recordbase.api.problems`` turns them into problem documents; services never
import Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recordbase.messages import msg


class RecordbaseError(Exception):
    """Raised for any failure a user or caller can act on; the base of all domain errors."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str | list[str] | Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.extra = dict(extra or {})


class ValidationError(RecordbaseError):
    """Raised when input does not satisfy the metadata (types, required, choices, lengths)."""

    status = 422
    title = "Invalid input"


class TemplateError(ValidationError):
    """Raised when a print template does not compile, names what does not exist, or breaks a
    render limit; ``extra`` carries the line and the template it concerns."""

    title = "Template error"


class NotFound(RecordbaseError):
    """Raised when a named entity, field, record or other object does not exist."""

    status = 404
    title = "Not found"


class Conflict(RecordbaseError):
    """Raised when a write collides with the current state (stale version, duplicates)."""

    status = 409
    title = "Conflict"


class RegistryError(RecordbaseError):
    """Raised when a registry is asked for an unknown key or given a duplicate one."""

    status = 400
    title = "Unknown name"

    def __init__(self, registry: str, key: str, *, duplicate: bool = False) -> None:
        if duplicate:
            message = msg(
                "The {registry} registry already has an entry named '{key}'.",
                registry=registry, key=key,
            )
        else:
            message = msg(
                "The {registry} registry has no entry named '{key}'.", registry=registry, key=key
            )
        super().__init__(message)
        self.registry = registry
        self.key = key


class AuthenticationError(RecordbaseError):
    """Raised when credentials are missing, wrong, expired or revoked."""

    status = 401
    title = "Not signed in"


class PermissionDenied(RecordbaseError):
    """Raised when the caller is signed in but may not do what was asked."""

    status = 403
    title = "Forbidden"


class LicenceRestriction(PermissionDenied):
    """Raised when the installed licence tier does not allow an operation."""

    title = "Not allowed by the licence"


class TooManyAttempts(RecordbaseError):
    """Raised when sign-in is refused for a while after repeated failures (throttling)."""

    status = 429
    title = "Too many attempts"


class PayloadTooLarge(RecordbaseError):
    """Raised when a request body exceeds the configured size or nesting limits."""

    status = 413
    title = "Payload too large"


class Busy(RecordbaseError):
    """Raised when the database could not take a lock in time; the caller may retry."""

    status = 503
    title = "Busy, try again"


class ConversionError(ValueError):
    """Raised by a field type when a value cannot be converted; carries the reason."""
