"""docs/playbooks/ stays true to the library: a page per template and language whose
description, parameter table and KPI list are the template's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cauce.flows.playbooks import get_template, template_ids
from cauce.flows.playbooks.spec import Template

DOCS = Path(__file__).resolve().parents[2] / "docs" / "playbooks"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def expected_sections(t: Template, language: str) -> list[str]:
    """The description, each parameter's table row and each KPI's line, as the page has
    them."""
    lines = [getattr(t.description, language)]
    for p in t.all_params:
        lines.append(f"| `{p.id}` | {p.kind} | {_cell(getattr(p.description, language))} | "
                     f"{_cell(p.default_for(language))} |")
    for k in t.kpis:
        lines.append(f"- **{getattr(k.label, language)}** (`{k.id}`, {k.unit}): "
                     f"{getattr(k.how, language)}")
    lines += [f"- {getattr(n, language)}" for n in t.not_computed]
    return lines


@pytest.mark.parametrize("template_id", template_ids())
@pytest.mark.parametrize("language", ["es", "en"])
def test_each_template_has_a_true_docs_page(template_id: str, language: str) -> None:
    t = get_template(template_id)
    page = (DOCS / f"{template_id}.{language}.md").read_text(encoding="utf-8")
    assert page.startswith(f"# {getattr(t.name, language)}\n")
    missing = [line for line in expected_sections(t, language) if line not in page]
    assert missing == []
    assert f"cauce flows from-template {template_id}" in page
    index = (DOCS / f"index.{language}.md").read_text(encoding="utf-8")
    assert f"]({template_id}.{language}.md) — `{template_id}`" in index
