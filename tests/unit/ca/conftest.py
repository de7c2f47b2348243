"""A CA chain, a CT log key and a CT log on SQLite, shared by the CA tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from lacre.ca.ctlog import CtLog
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.x509.profile import CaChain, ca_chain

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def ca() -> tuple[CaChain, SoftwareSigner]:
    """A P-384 root and intermediate, and the intermediate's signer."""
    intermediate_signer = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
    chain = ca_chain(
        root_signer=generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        intermediate_signer=intermediate_signer,
        organization="lacre test",
        not_before=NOW - dt.timedelta(hours=1),
    )
    return chain, intermediate_signer


@pytest.fixture
def ct_signer() -> SoftwareSigner:
    return generate_signer()


@pytest.fixture
def ctlog(
    tmp_path: Path, ca: tuple[CaChain, SoftwareSigner], ct_signer: SoftwareSigner
) -> Iterator[CtLog]:
    """A CT log accepting the ``ca`` root."""
    store = SqliteStore(tmp_path / "ct.db")
    log = TransparencyLog.open(store, name="ct", origin="ct.example", signer=ct_signer)
    yield CtLog(log, ct_signer, [ca[0].root])
    log.close()
    store.close()
