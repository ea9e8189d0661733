"""Helpers shared by CLI commands."""

from __future__ import annotations

from cauce.services.container import Cauce
from cauce.settings import Settings, load_settings


def open_cauce(require_schema: bool = True) -> tuple[Settings, Cauce]:
    settings = load_settings()
    cauce = Cauce.open(settings)
    if require_schema:
        cauce.require_current_schema()
    return settings, cauce
