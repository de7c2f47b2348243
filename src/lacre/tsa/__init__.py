"""RFC 3161 timestamp authority: requests, signed tokens, the TSA certificate chain."""

from lacre.tsa.authority import DEFAULT_POLICY, Reply, TimestampAuthority, TimestampOptions
from lacre.tsa.chain import TsaChain, check_leaf, sign_certificate, tsa_chain
from lacre.tsa.request import (
    MAX_REQUEST_BYTES,
    FailureInfo,
    RequestRejected,
    TimestampRequest,
    parse_request,
    request_from_json,
)
from lacre.tsa.token import Accuracy

__all__ = [
    "DEFAULT_POLICY",
    "MAX_REQUEST_BYTES",
    "Accuracy",
    "FailureInfo",
    "Reply",
    "RequestRejected",
    "TimestampAuthority",
    "TimestampOptions",
    "TimestampRequest",
    "TsaChain",
    "check_leaf",
    "parse_request",
    "request_from_json",
    "sign_certificate",
    "tsa_chain",
]
