"""Typed errors of the toolkits: what a model reads (ToolError) and what an operator reads."""

from __future__ import annotations

from planner.errors import ToolError


class ToolkitError(ToolError):
    """Base of every toolkit error a model should read as a tool result."""


class PermissionDeniedError(ToolkitError):
    """The caller may not do this in this space."""


class NotAMemberError(PermissionDeniedError):
    """The caller is not a member of the space the call is scoped to."""

    def __init__(self, user_id: str, space_id: str) -> None:
        super().__init__(f"user {user_id!r} is not a member of space {space_id!r}")
        self.user_id = user_id
        self.space_id = space_id


class NotFoundError(ToolkitError):
    """No visible, live row with this id exists in the active space."""

    def __init__(self, what: str, row_id: str) -> None:
        super().__init__(f"no {what} with id {row_id!r} in this space")
        self.what = what
        self.row_id = row_id


class InvalidChangeError(ToolkitError):
    """A sync change names an unknown entity or field, or carries a bad value."""


class CryptoError(ToolkitError):
    """Base of field-encryption errors."""


class DecryptionError(CryptoError):
    """A ciphertext failed authentication: tampered, or encrypted under another key."""


class MalformedCiphertextError(CryptoError):
    """A value in an encrypted field is not in the `enc:1:{iv}.{ct}` wire format."""


class MissingKeyError(CryptoError):
    """The key vault holds no master key for this user."""


class ZeroKnowledgeUserError(CryptoError):
    """The user encrypts client-side; the server holds no key and cannot read the data."""

    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"user {user_id!r} uses zero-knowledge encryption: "
            "their encrypted data cannot be read or written server-side"
        )
        self.user_id = user_id


class InsufficientCreditsError(ToolkitError):
    """The user's credit balance does not cover the request; nothing was charged."""

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(
            f"this needs {needed} credits but the balance is {balance}; nothing was charged"
        )
        self.needed = needed
        self.balance = balance


class ImageGenerationError(ToolkitError):
    """The image API call failed; nothing was charged."""


class StoreError(Exception):
    """An operator-facing store problem: bad URL, unknown schema version, failed migration."""


class SchemaVersionError(StoreError):
    """The store's schema is newer than this code, or has no migration path."""
