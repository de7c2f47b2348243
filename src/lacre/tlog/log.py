"""A transparency log: one appender and one reader over a storage driver."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future

from lacre.errors import ConfigError
from lacre.keys import Signer
from lacre.tlog.appender import Appender, Integrated
from lacre.tlog.options import LogOptions
from lacre.tlog.reader import LogReader
from lacre.tlog.storage.base import LogInfo, LogState, LogStore
from lacre.transparency.checkpoint import Checkpoint, sign_checkpoint
from lacre.transparency.merkle import EMPTY_ROOT
from lacre.transparency.note import NoteSigner


class TransparencyLog:
    """An append-only Merkle log with signed checkpoints, stored in a :class:`LogStore`."""

    def __init__(
        self,
        store: LogStore,
        log: LogInfo,
        signer: Signer,
        options: LogOptions,
        key_name: str | None = None,
    ) -> None:
        """Serve ``log`` from ``store``; use :meth:`open` to create or check the log first."""
        self.store, self.info, self.options = store, log, options
        self.note_signer = NoteSigner(key_name or log.origin, signer)
        self.reader = LogReader(store, log, tile_cache=options.tile_cache)
        self._appender = Appender(
            store, log, self.note_signer, options, on_commit=self.reader.observe
        )

    @classmethod
    def open(
        cls,
        store: LogStore,
        *,
        name: str,
        origin: str,
        signer: Signer,
        options: LogOptions | None = None,
        key_name: str | None = None,
    ) -> TransparencyLog:
        """Open the log ``name``, creating it with a signed empty checkpoint if it is new.

        Checkpoints are signed under ``key_name`` (default: the origin). Refuses
        to open a log whose stored origin or key differs from the given ones: a
        log's identity never changes.
        """
        public_key = signer.public_key.spki_der
        log = store.ensure_log(name, origin, public_key)
        _check_identity(log, origin, public_key)
        note_signer = NoteSigner(key_name or origin, signer)
        _ensure_initial_checkpoint(store, log, note_signer)
        return cls(store, log, signer, options or LogOptions(), key_name)

    def submit(self, entries: Sequence[bytes]) -> Future[Integrated]:
        """Queue entries for integration; the future resolves once they are durable."""
        return self._appender.submit(entries)

    async def append_async(self, entry: bytes) -> tuple[int, Integrated]:
        """Append one entry from an event loop; return its index and its integration."""
        result = await asyncio.wrap_future(self._appender.submit([entry]))
        return result.indices[0], result

    def append(self, entry: bytes) -> int:
        """Append one entry and wait until it is durable; return its index."""
        return self._appender.submit([entry]).result().indices[0]

    def append_many(self, entries: Sequence[bytes]) -> Integrated:
        """Append entries and wait until they are durable."""
        return self._appender.submit(entries).result()

    @property
    def backlog(self) -> int:
        """Entries waiting for integration."""
        return self._appender.backlog

    def close(self) -> None:
        """Integrate what is queued and stop."""
        self._appender.close()


def _check_identity(log: LogInfo, origin: str, public_key: bytes) -> None:
    if log.origin != origin:
        raise ConfigError(
            f"log {log.name} was created with another origin", expected=log.origin, found=origin
        )
    if log.public_key != public_key:
        raise ConfigError(
            f"log {log.name} was created with another checkpoint key; "
            "its key cannot change without breaking every verifier"
        )


def _ensure_initial_checkpoint(store: LogStore, log: LogInfo, signer: NoteSigner) -> None:
    if store.state(log) is not None:
        return
    with store.write(log) as txn:
        if txn.state() is None:
            note = sign_checkpoint(Checkpoint(log.origin, 0, EMPTY_ROOT), [signer])
            txn.put_state(LogState(0, b"", note))
