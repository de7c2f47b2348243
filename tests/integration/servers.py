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
        # A file, not a pipe: every request is logged, and a full pipe would block the server.
        self.stderr_path = data_dir.parent / f"{data_dir.name}.stderr.log"
        self.stderr_file = self.stderr_path.open("ab")
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
            stderr=self.stderr_file,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "ready at" not in line:
            self.stop()
            errors = self.stderr
            raise AssertionError(f"server did not start: {line}{errors}")
        self.url = line.split()[-1]
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def token(self, email: str, *, audience: str = "sigstore") -> str:
        """An identity token for ``email`` from the server's development OIDC issuer."""
        answer = self.http.post("/oidc/token", json={"email": email, "audience": audience})
        assert answer.status_code == 200, answer.text
        value = answer.json()["id_token"]
        assert isinstance(value, str)
        return value

    @property
    def stderr(self) -> str:
        """What the server wrote to stderr so far (JSON log lines)."""
        return self.stderr_path.read_text(errors="replace")

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
        self.stderr_file.close()
