"""Fixtures running ``lacre server`` as a real process on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import client as client
from tests.integration.registry_fixtures import registry as registry
from tests.integration.registry_fixtures import repo as repo
from tests.integration.servers import Server

StartServer = Callable[..., Server]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Starts servers (``start_server(*extra_args, data_dir=None)``), stopped after the test."""
    started: list[Server] = []

    def start(*extra: str, data_dir: Path | None = None) -> Server:
        server = Server(data_dir or tmp_path / f"data{len(started)}", "--dev", *extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def dev_server(start_server: StartServer) -> Server:
    """A development server on SQLite."""
    return start_server()


@pytest.fixture
def postgres_server_process(start_server: StartServer, postgres_dsn: str) -> Server:
    """A development server storing its logs in a fresh PostgreSQL database."""
    return start_server("--postgres", postgres_dsn)
