"""The error hierarchy shared by every part of lacre.

Every error carries a human-readable message that says what was expected and
what was found; ``diagnostics()`` renders it for a terminal or a log line.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every error lacre raises on purpose."""

    def __init__(self, message: str, *, expected: object = None, found: object = None) -> None:
        """Build an error from a message and, optionally, what was expected and found."""
        self.message = message
        self.expected = expected
        self.found = found
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (("expected", self.expected), ("found", self.found))
            if value is not None
        ]
        return f"{self.message}: {', '.join(parts)}" if parts else self.message

    def diagnostics(self) -> str:
        """Return the full, user-facing explanation of this error."""
        return f"{type(self).__name__}: {self._render()}"


class InvalidInput(Error):
    """Input that is malformed, oversized or otherwise unacceptable."""


class VerificationError(InvalidInput):
    """A signature, proof, checkpoint or other cryptographic check failed."""


class NotFound(Error):
    """A requested object (entry, tile, proof) does not exist."""


class NetworkError(Error):
    """A remote service could not be reached or answered out of protocol."""


class PushbackError(Error):
    """The service is overloaded; the caller should retry later."""

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        """Build a pushback error suggesting a retry delay in seconds."""
        self.retry_after_s = retry_after_s
        super().__init__(message)


class ConfigError(Error):
    """The configuration is missing, inconsistent or refers to unusable resources."""


class StorageError(Error):
    """Stored data is inconsistent or the storage backend failed."""


class TooLarge(InvalidInput):
    """Input over a size limit."""
