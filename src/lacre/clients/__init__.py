"""HTTP clients for the certificate authority, transparency log and timestamp authority."""

from lacre.clients.fulcio import FulcioClient
from lacre.clients.rekor_v1 import RekorV1Client
from lacre.clients.rekor_v2 import RekorV2Client
from lacre.clients.tsa import TimestampClient

__all__ = ["FulcioClient", "RekorV1Client", "RekorV2Client", "TimestampClient"]
