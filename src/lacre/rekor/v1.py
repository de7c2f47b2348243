"""The Rekor v1 personality: entries with inclusion promises, lookups and search."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from lacre.errors import InvalidInput, NotFound
from lacre.jsontypes import type_name
from lacre.rekor.ids import checkpoint_root, entry_id, parse_entry_id
from lacre.rekor.kinds import canonicalize_v1, index_keys_of
from lacre.rekor.kinds.common import located
from lacre.rekor.search import SearchQuery
from lacre.rekor.set import sign_set
from lacre.tlog import InclusionProof, SearchIndex, TransparencyLog
from lacre.transparency.merkle import leaf_hash

MAX_RETRIEVE = 10


@dataclass(frozen=True)
class V1Entry:
    """One logged entry as Rekor v1 returns it."""

    entry_id: str
    body: bytes
    integrated_time: int
    log_id: bytes
    proof: InclusionProof
    checkpoint: bytes
    signed_entry_timestamp: bytes

    def to_json(self) -> dict[str, Any]:
        """The ``LogEntry`` map: one key, the entry ID."""
        return {
            self.entry_id: {
                "body": base64.b64encode(self.body).decode(),
                "integratedTime": self.integrated_time,
                "logID": self.log_id.hex(),
                "logIndex": self.proof.index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": self.checkpoint.decode(),
                        "hashes": [node.hex() for node in self.proof.hashes],
                        "logIndex": self.proof.index,
                        "rootHash": checkpoint_root(self.checkpoint).hex(),
                        "treeSize": self.proof.size,
                    },
                    "signedEntryTimestamp": base64.b64encode(self.signed_entry_timestamp).decode(),
                },
            }
        }


class RekorV1:
    """Rekor v1 over one transparency log (the v1 tree)."""

    def __init__(self, log: TransparencyLog, tree_id: int) -> None:
        """Serve ``log`` as the Rekor v1 tree ``tree_id``."""
        self.log = log
        self.tree_id = tree_id
        self.log_id = log.note_signer.key_id
        self.search_index = SearchIndex(log.store, log.info, index_keys_of)

    async def create(self, proposed: object) -> tuple[V1Entry, bool]:
        """Check and log a ProposedEntry; return the entry and whether it is new."""
        canonical = canonicalize_v1(proposed)
        index, integrated = await self.log.append_async(canonical.body)
        new = integrated.new[0]
        time = integrated.time if new else None
        entry = self._entry(index, canonical.body, integrated.size, integrated.checkpoint, time)
        return entry, new

    def get(self, uuid: str) -> V1Entry:
        """The entry with this UUID or entry ID."""
        tree_id, digest = parse_entry_id(uuid)
        if tree_id is not None and tree_id != self.tree_id:
            raise NotFound(f"no tree {tree_id} here: this log's tree ID is {self.tree_id}")
        return self.get_by_index(self.log.reader.index_of(digest))

    def get_by_index(self, index: int) -> V1Entry:
        """The entry at ``index``."""
        if index < 0:
            raise InvalidInput("logIndex must not be negative", expected=">= 0", found=index)
        state = self.log.reader.state()
        if index >= state.size:
            raise NotFound(f"no entry at index {index}: the log has {state.size} entries")
        return self._entry(index, self.log.reader.entry(index), state.size, state.checkpoint)

    def retrieve(self, request: object) -> list[V1Entry]:
        """Entries named by ``entryUUIDs``, ``logIndexes`` and proposed ``entries`` (found ones)."""
        found: list[V1Entry] = []
        for field, position, item in _retrieve_items(request):
            try:
                found.append(self._retrieve_one(field, position, item))
            except NotFound:
                continue
        return found

    def _retrieve_one(self, field: str, position: int, item: object) -> V1Entry:
        if field == "entryUUIDs":
            if not isinstance(item, str):
                raise InvalidInput(
                    f"entryUUIDs[{position}]: expected a string, found {type_name(item)}"
                )
            with located(f"entryUUIDs[{position}]"):
                return self.get(item)
        if field == "logIndexes":
            if not isinstance(item, int) or isinstance(item, bool) or item < 0:
                number = isinstance(item, int | float) and not isinstance(item, bool)
                raise InvalidInput(
                    f"logIndexes[{position}]: expected a non-negative integer, "
                    f"found {item if number else type_name(item)}"
                )
            return self.get_by_index(item)
        with located(f"entries[{position}]"):
            body = canonicalize_v1(item).body
        return self.get_by_index(self.log.reader.index_of(leaf_hash(body)))

    def search(self, request: object) -> list[str]:
        """Entry IDs of the entries matching a SearchIndex query."""
        query = SearchQuery.parse(request)
        indices = self.search_index.search(query.terms, match_all=query.match_all)
        return [entry_id(self.tree_id, leaf_hash(self.log.reader.entry(i))) for i in indices]

    def log_info(self) -> dict[str, Any]:
        """The ``LogInfo`` object."""
        state = self.log.reader.state()
        return {
            "rootHash": checkpoint_root(state.checkpoint).hex(),
            "treeSize": state.size,
            "signedTreeHead": state.checkpoint.decode(),
            "treeID": str(self.tree_id),
        }

    def consistency(self, first: int, last: int | None) -> dict[str, Any]:
        """A consistency proof between two tree sizes, as Rekor v1 returns it."""
        if first < 1:
            raise InvalidInput("firstSize must be at least 1", found=first)
        size = self.log.reader.state().size if last is None else last
        if first > size:
            raise InvalidInput(
                "firstSize must not exceed lastSize", expected=f"<= {size}", found=first
            )
        with located("lastSize"):  # first <= size here: only lastSize can be out of range
            hashes = self.log.reader.consistency_proof(first, size)
        return {
            "rootHash": self.log.reader.root(size).hex(),
            "hashes": [node.hex() for node in hashes],
        }

    def _entry(
        self, index: int, body: bytes, size: int, checkpoint: bytes, time: int | None = None
    ) -> V1Entry:
        reader = self.log.reader
        if time is None:
            time = reader.entry_time(index)
        signature = sign_set(self.log.note_signer.signer, body, time, self.log_id, index)
        return V1Entry(
            entry_id=entry_id(self.tree_id, leaf_hash(body)),
            body=body,
            integrated_time=time,
            log_id=self.log_id,
            proof=reader.inclusion_proof(index, size),
            checkpoint=checkpoint,
            signed_entry_timestamp=signature,
        )


_RETRIEVE_FIELDS = ("entryUUIDs", "logIndexes", "entries")


def _retrieve_items(request: object) -> list[tuple[str, int, object]]:
    """(field, position, item) of every item a retrieve request names."""
    if not isinstance(request, dict):
        raise InvalidInput(f"retrieve request: expected a JSON object, found {type_name(request)}")
    unknown = sorted(set(request) - set(_RETRIEVE_FIELDS))
    if unknown:
        raise InvalidInput(
            "unknown retrieve fields", expected=list(_RETRIEVE_FIELDS), found=repr(unknown)[:80]
        )
    items: list[tuple[str, int, object]] = []
    for field in _RETRIEVE_FIELDS:
        values = request.get(field)
        if values is None:
            continue
        if not isinstance(values, list):
            raise InvalidInput(f"{field}: expected an array, found {type_name(values)}")
        if len(values) > MAX_RETRIEVE:
            raise InvalidInput(
                f"{field}: too many items", expected=f"at most {MAX_RETRIEVE}", found=len(values)
            )
        items.extend((field, position, value) for position, value in enumerate(values))
    if not items:
        raise InvalidInput(
            "retrieve request names no entry: give entryUUIDs, logIndexes or entries"
        )
    return items
