"""Root metadata: signing a new root version and checking who may sign what.

A root version is valid only when it carries a threshold of signatures of its
own root keys and, for versions after the first, of the previous root's keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import PublicKey, Signer
from lacre.trust.metadata import ONLINE_ROLES, SignedFile, check_signed, expiry, sign
from lacre.trust.tufapi import Metadata, Root
from lacre.trust.tufkeys import TufSigner, key_id, tuf_key

if TYPE_CHECKING:
    from lacre.trust.repository import OnlineSigners


def check_online_signers(root: Root, signers: OnlineSigners) -> None:
    """Raise ConfigError unless each online signer holds a key ``root`` names for its role."""
    for role in ONLINE_ROLES:
        keyid = signers.of(role).keyid
        if keyid not in root.roles[role].keyids:
            raise ConfigError(
                f"the {role} key is not the one root v{root.version} names",
                expected=", ".join(root.roles[role].keyids),
                found=keyid,
            )


def signed_root(
    root: Root, threshold: int, signers: Sequence[Signer], previous: Root | None
) -> SignedFile[Root]:
    """Sign ``root`` with ``signers`` and check both thresholds (its own and ``previous``')."""
    keyids = root.roles["root"].keyids
    if not 1 <= threshold <= len(keyids):
        raise InvalidInput(
            "bad root threshold", expected=f"between 1 and {len(keyids)}", found=threshold
        )
    root.roles["root"].threshold = threshold
    allowed = set(keyids) | set(previous.roles["root"].keyids if previous else ())
    tuf_signers = [TufSigner(signer) for signer in signers]
    for signer in tuf_signers:
        if signer.keyid not in allowed:
            raise InvalidInput(
                f"key {signer.keyid[:16]} is not a root key of root v{root.version} "
                "or of the version before"
            )
    signed = sign(Metadata(root), tuf_signers)
    check_signed(root, "root", signed, f"root v{root.version}")
    if previous is not None:
        check_signed(previous, "root", signed, f"root v{root.version}")
    return signed


def rotated_root(
    current: SignedFile[Root],
    signers: Sequence[Signer],
    *,
    now: dt.datetime,
    lifetime: dt.timedelta,
    add: Iterable[PublicKey],
    remove: Iterable[PublicKey],
    threshold: int | None,
    online: OnlineSigners | None,
) -> SignedFile[Root]:
    """The next root version after ``current`` with the requested key changes, signed."""
    old = current.signed
    root = Metadata[Root].from_bytes(current.raw).signed
    root.version = old.version + 1
    root.expires = expiry(now, lifetime)
    for public_key in remove:
        _remove_root_key(root, key_id(public_key))
    for public_key in add:
        root.add_key(tuf_key(public_key), "root")
    if online is not None:
        _replace_online_keys(root, online)
    chosen = old.roles["root"].threshold if threshold is None else threshold
    return signed_root(root, chosen, signers, previous=old)


def _remove_root_key(root: Root, keyid: str) -> None:
    if keyid not in root.roles["root"].keyids:
        raise InvalidInput(
            "cannot remove a key that is not a root key",
            expected=", ".join(root.roles["root"].keyids),
            found=keyid,
        )
    root.revoke_key(keyid, "root")


def _replace_online_keys(root: Root, online: OnlineSigners) -> None:
    for role in ONLINE_ROLES:
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
        root.add_key(online.of(role).public_key, role)
