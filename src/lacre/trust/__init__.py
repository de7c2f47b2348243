"""TUF: the instance's repository and the client that fetches trust from it."""

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
