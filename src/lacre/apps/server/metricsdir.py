"""Where the worker processes of ``lacre server`` keep their metrics.

prometheus-client decides at import time whether metrics are shared between
processes, so :func:`prepare_metrics` must run before it is first imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MULTIPROCESS_ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics(directory: Path) -> None:
    """Share metrics through ``directory`` (emptied first) in this process and its children."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENVIRONMENT] = str(directory)
