"""Delete media previews older than a day from TEMP_DIR (run every 30 minutes by the host)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def remove_old_files(root: Path, max_age_seconds: float, now: float | None = None) -> int:
    """Remove files under `root` last modified more than `max_age_seconds` ago; return how many."""
    cutoff = (now if now is not None else time.time()) - max_age_seconds
    removed = 0
    if not root.is_dir():
        return 0
    for path in root.rglob("*"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
