"""Small value types every flow part shares: durations, conditions, problems."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base of every document model: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


_DURATION_PART = re.compile(r"(\d+)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class Duration(Strict):
    """A length of time. Accepts ``{"days": 7}`` or the short text form ``"7d"``, ``"1h30m"``."""

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if isinstance(value, int):
            return {"seconds": value}
        if isinstance(value, str):
            text = value.strip().lower().replace(" ", "")
            parts = _DURATION_PART.findall(text)
            if not text or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"'{value}' is not a duration; write e.g. '7d', '2h', '1h30m'")
            total = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
            return {"seconds": total}
        return value

    @property
    def total_seconds(self) -> int:
        return self.days * 86400 + self.hours * 3600 + self.minutes * 60 + self.seconds

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.total_seconds)


Operator = Literal[
    "eq", "ne", "contains", "not_contains", "starts_with", "ends_with",
    "gt", "gte", "lt", "lte", "exists", "not_exists", "in", "not_in",
    "has_tag", "not_has_tag", "is_true", "is_false",
]


class Rule(Strict):
    """One comparison the editor can build: ``field`` is a variable path such as
    ``contact.fields.city``, ``contact.tags``, ``results.classify.intent`` or ``message.text``."""

    field: str = Field(min_length=1)
    operator: Operator = "eq"
    value: Any = None


class Condition(Strict):
    """An AND (``match: all``) or OR (``match: any``) group of rules and nested groups, or a
    sandboxed Liquid boolean ``expression`` (the escape hatch, e.g.
    ``contact.lead_score > 50 and contact.tags contains "vip"``)."""

    match: Literal["all", "any"] = "all"
    rules: list[Rule | Condition] = Field(default_factory=list)
    expression: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        if self.expression is not None and self.rules:
            raise ValueError("a condition has either rules or an expression, not both")
        if self.expression is None and not self.rules:
            raise ValueError("a condition needs at least one rule or an expression")
        return self


Severity = Literal["error", "warning"]


class Problem(Strict):
    """One validation finding, pointing at the node and field to fix."""

    severity: Severity
    code: str
    message: str
    node_id: str | None = None
    field: str | None = None

    def line(self) -> str:
        where = ""
        if self.node_id:
            where = f"node {self.node_id}"
        if self.field:
            where = f"{where} field {self.field}".strip()
        return f"{self.severity}: [{self.code}] {where + ': ' if where else ''}{self.message}"


class TimeWindow(Strict):
    """Weekdays (0 = Monday) and hours, in the flow's timezone, optionally skipping the
    country's public holidays. ``start`` < ``end``, e.g. 05:00–17:00."""

    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    start: time = time(9, 0)
    end: time = time(18, 0)
    skip_holidays: bool = False

    @model_validator(mode="after")
    def _sane(self) -> TimeWindow:
        if any(d < 0 or d > 6 for d in self.weekdays):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self
