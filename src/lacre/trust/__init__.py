"""TUF: the instance's repository and the client that fetches trust from it.

Names are imported from their modules when first used (see :mod:`lacre.lazy`):
python-tuf is loaded only by the code that talks TUF.
"""

from typing import TYPE_CHECKING

from lacre.lazy import lazy_exports

if TYPE_CHECKING:
    from lacre.trust.client import TrustClient, TrustMaterial
    from lacre.trust.metadata import Expiries
    from lacre.trust.repository import OnlineSigners, TufRepository
    from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
    from lacre.trust.workspace import Ceremony, Workspace

__all__ = [
    "SIGNING_CONFIG",
    "TRUSTED_ROOT",
    "Ceremony",
    "Expiries",
    "OnlineSigners",
    "TrustClient",
    "TrustMaterial",
    "TufRepository",
    "Workspace",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "TrustClient": "client",
        "TrustMaterial": "client",
        "Expiries": "metadata",
        "OnlineSigners": "repository",
        "TufRepository": "repository",
        "SIGNING_CONFIG": "targets",
        "TRUSTED_ROOT": "targets",
        "Ceremony": "workspace",
        "Workspace": "workspace",
    },
)
