"""A generic append-only Merkle log: sequencing, batched integration, checkpoints, antispam.

The engine knows bytes, not Sigstore: personalities such as the Rekor and CT
logs put their own entries in it.
"""

from lacre.tlog.appender import Integrated
from lacre.tlog.log import TransparencyLog
from lacre.tlog.options import LogOptions
from lacre.tlog.reader import InclusionProof, LogReader
from lacre.tlog.search import SearchIndex

__all__ = [
    "InclusionProof",
    "Integrated",
    "LogOptions",
    "LogReader",
    "SearchIndex",
    "TransparencyLog",
]
