"""The one exception hierarchy of WBX: every error raised on purpose derives from WbxError."""

from __future__ import annotations


class WbxError(Exception):
    """Root of every error WBX raises on purpose."""


class ReferenceDataError(WbxError):
    """The reference data file is missing, unreadable or inconsistent."""


class KeyRegistryError(WbxError):
    """The key registry file is unreadable, inconsistent or lacks the named key."""


class PrivateKeyError(WbxError):
    """A private signing key file is missing, unreadable or not an Ed25519 key."""


class EnvelopeInvalidError(WbxError):
    """An envelope or payload does not satisfy the wire contract."""


class SchemaIncompatibleError(WbxError):
    """A new schema version would break consumers of the old one."""


class ConfigurationError(WbxError):
    """A setting or configuration file has a value WBX cannot work with."""
