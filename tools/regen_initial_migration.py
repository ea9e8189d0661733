"""Regenerate 0001_initial.py from the models (allowed only before the first release, while
no deployed database exists). After the first release, add revisions with
``cauce db revision`` instead."""

from __future__ import annotations

import fcntl
import pathlib
import re
import tempfile

from cauce.store import migrate
from cauce.store.db import make_engine

versions = migrate.MIGRATIONS_DIR / "versions"
# Several developers (or helpers) may regenerate at once in one work tree: one at a time.
_lock = open(migrate.MIGRATIONS_DIR / ".regen.lock", "w")  # noqa: SIM115
fcntl.flock(_lock, fcntl.LOCK_EX)
for old in versions.glob("*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    migrate.autogenerate(make_engine(f"sqlite:///{tmp}/gen.db"), "initial schema")
(new,) = versions.glob("*.py")
text = new.read_text()
rev = re.search(r"^revision = '(\w+)'", text, re.M).group(1)  # type: ignore[union-attr]
text = text.replace(rev, "0001")
pathlib.Path(versions / "0001_initial.py").write_text(text)
new.unlink()
print("wrote", versions / "0001_initial.py")
