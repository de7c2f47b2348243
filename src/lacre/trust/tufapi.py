"""python-tuf's Metadata API and signer interface, re-exported for strict type checking.

``tuf.api.metadata`` is the documented home of these classes but does not
declare them as exports; importing them from here keeps ``mypy --strict`` happy
in one place.
"""

from securesystemslib.signer import (  # type: ignore[attr-defined]
    Key,
    SecretsHandler,
    Signature,
    Signer,
    SSlibKey,
)
from tuf.api.metadata import (  # type: ignore[attr-defined]
    Metadata,
    MetaFile,
    Root,
    Signed,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

__all__ = [
    "Key",
    "MetaFile",
    "Metadata",
    "Root",
    "SSlibKey",
    "SecretsHandler",
    "Signature",
    "Signed",
    "Signer",
    "Snapshot",
    "TargetFile",
    "Targets",
    "Timestamp",
]
