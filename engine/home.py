"""Where Pipeline Builder keeps local state: ``$PIPELINE_BUILDER_HOME``. Imports nothing."""

from __future__ import annotations

import os
from pathlib import Path


def pipeline_home() -> Path:
    """``$PIPELINE_BUILDER_HOME`` or ``~/.pipeline-builder``."""
    return Path(os.environ.get("PIPELINE_BUILDER_HOME", "~/.pipeline-builder")).expanduser()
