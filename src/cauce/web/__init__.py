"""Serves the built React app (sources in ``web/`` at the repository root; ``make web``
builds them into ``src/cauce/web/dist``)."""

from __future__ import annotations

from pathlib import Path

DIST = Path(__file__).parent / "dist"


def dist_dir() -> Path | None:
    """The built app's folder, or ``None`` when the web app has not been built."""
    return DIST if (DIST / "index.html").is_file() else None
