"""flows/ and engine/ are pure: they import no database, web framework, HTTP client or settings."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import cauce

PACKAGE = Path(cauce.__file__).parent
PURE = ("flows", "engine")
FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "httpx", "pydantic_settings", "cauce.settings",
             "cauce.store", "cauce.api", "cauce.runtime", "cauce.services", "cauce.channels")


def _modules(folder: str) -> list[str]:
    root = PACKAGE / folder
    names = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_pure_packages_import_nothing_forbidden_at_runtime() -> None:
    modules = [m for folder in PURE for m in _modules(folder)]
    assert modules, "no modules found under flows/ and engine/"
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if _forbidden(m)]
    assert bad == [], f"flows/engine pulled in {bad}"


def test_pure_packages_have_no_forbidden_import_statements() -> None:
    offenders = []
    for folder in PURE:
        for path in (PACKAGE / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [f"{path.name}: {n}" for n in names if _forbidden(n)]
    assert offenders == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    # Guard against a check that can never fail.
    assert _forbidden("sqlalchemy.orm") and _forbidden("cauce.settings")
    assert not _forbidden("pydantic")
