"""A ``lacre server`` process for integration tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx


class Server:
    """A running ``lacre server`` process and an HTTP client for it."""

    def __init__(self, data_dir: Path, *extra: str, command: tuple[str, ...] = ("server",)) -> None:
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lacre",
                *command,
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "ready at" not in line:
            self.stop()
            errors = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"server did not start: {line}{errors}")
        self.url = line.split()[-1]
        self.http = httpx.Client(base_url=self.url, timeout=30)

    @property
    def trusted_root(self) -> Path:
        return self.data_dir / "client" / "trusted_root.json"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
