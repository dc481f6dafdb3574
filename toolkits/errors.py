"""Typed errors of the toolkits: what a model reads (ToolkitError) and what an operator reads.

Every error names what caused it: the id, field, file or value, and the problem.
"""

from __future__ import annotations

from pathlib import Path

from planner import ToolError


class ToolkitError(ToolError):
    """Base of every toolkit error a model should read as a tool result."""


class InvalidFieldError(ToolkitError):
    """An argument or field holds a value the toolkit refuses; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NothingToUpdateError(InvalidFieldError):
    """An update named no field to change."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__("fields", f"nothing to update: give at least one of {', '.join(fields)}")
        self.fields = fields


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


class UnknownSpaceError(ToolkitError):
    """No space has this id."""

    def __init__(self, space_id: str) -> None:
        super().__init__(f"space {space_id!r} does not exist")
        self.space_id = space_id


class SpaceExistsError(ToolkitError):
    """A space with this id exists already."""

    def __init__(self, space_id: str) -> None:
        super().__init__(f"space {space_id!r} already exists")
        self.space_id = space_id


class InvalidChangeError(ToolkitError):
    """A sync change names an unknown entity or field, or carries a bad value."""


class UnknownEntityError(InvalidChangeError):
    """No synced entity has this name."""

    def __init__(self, entity: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown entity {entity!r}; one of {', '.join(known)}")
        self.entity = entity


class UnsupportedMediaError(ToolkitError):
    """A file is not an image type the media store takes; names the file."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path.name}: not a recognised image file type")
        self.path = path


class IdempotencyConflictError(ToolkitError):
    """A call id already recorded for another tool or other arguments was used again."""

    def __init__(self, call_id: str, problem: str) -> None:
        super().__init__(f"call id {call_id!r} {problem}")
        self.call_id = call_id


class CryptoError(ToolkitError):
    """Base of field-encryption errors."""


class DecryptionError(CryptoError):
    """A ciphertext failed authentication: tampered, or encrypted under another key."""


class MalformedCiphertextError(CryptoError):
    """A value in an encrypted field is not a canonical `enc:1:{iv}.{ct}` wire value."""


class InvalidKeyMaterialError(CryptoError):
    """A key or IV handed to the cipher has the wrong length; names which and its length."""

    def __init__(self, what: str, expected: int, got: int) -> None:
        super().__init__(f"the {what} must be {expected} bytes, got {got}")
        self.what = what
        self.expected = expected
        self.got = got


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


class KeystoreError(StoreError):
    """The keystore file cannot be read: not JSON, wrong shape, or a bad key; names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class ToolDefinitionError(Exception):
    """A toolkit handler is declared wrongly (a programming error, found at registry build)."""
