"""Helpers shared by the runtime tests."""

from __future__ import annotations

from cauce.services.container import Cauce
from cauce.services.workspaces import create_workspace


def make_workspace(cauce: Cauce, slug: str = "shop") -> int:
    with cauce.transaction() as s:
        return create_workspace(s, slug, "Shop", cauce.clock.now()).id
