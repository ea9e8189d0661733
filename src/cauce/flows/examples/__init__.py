"""Flow documents shipped with Cauce: the seed scenes, reused by the playbook library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).parent


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> dict[str, Any]:
    """The raw document of a shipped example (``reactivation``, ``abandoned_cart``...)."""
    path = EXAMPLES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no example flow '{name}' (known: {', '.join(example_names())})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
