"""Evaluation helpers shared by ``make bench-ai`` and the quality test.

The labelled set is JSON lines ``{"text", "intent", "lang"}``. The held-out half is every second
message of each intent in file order: deterministic, stratified, and independent of the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

UNSURE = "unsure"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str


def load_examples(path: Path) -> list[Example]:
    """Read a JSON-lines evaluation set; a bad line raises ``ValueError`` naming it."""
    examples: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(Example(text=row["text"], intent=row["intent"], lang=row["lang"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: expected text, intent and lang ({exc})") from exc
    return examples


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train half, held-out half): alternate messages of each intent, in file order."""
    seen: dict[str, int] = {}
    train: list[Example] = []
    held_out: list[Example] = []
    for example in examples:
        position = seen.get(example.intent, 0)
        seen[example.intent] = position + 1
        (held_out if position % 2 else train).append(example)
    return train, held_out


@dataclass
class Report:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix."""

    labels: list[str]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    total: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def f1(self, label: str) -> float:
        """F1 of one class; an ``unsure`` answer counts as a miss for the true class."""
        tp = self.confusion.get(label, {}).get(label, 0)
        predicted = sum(row.get(label, 0) for row in self.confusion.values())
        actual = sum(self.confusion.get(label, {}).values())
        if tp == 0:
            return 0.0
        precision, recall = tp / predicted, tp / actual
        return 2 * precision * recall / (precision + recall)

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(label) for label in self.labels) / len(self.labels)

    def format_confusion(self) -> str:
        """The confusion matrix as a fixed-width table (rows: truth, columns: prediction)."""
        columns = [*self.labels, UNSURE]
        short = [name[:6] for name in columns]
        lines = ["truth \\ pred".ljust(20) + " ".join(s.rjust(6) for s in short)]
        for label in self.labels:
            row = self.confusion.get(label, {})
            cells = " ".join(str(row.get(c, 0) or ".").rjust(6) for c in columns)
            lines.append(label[:20].ljust(20) + cells)
        return "\n".join(lines)


def score(labels: list[str], pairs: list[tuple[str, str | None]]) -> Report:
    """Build a :class:`Report` from ``(truth, prediction or None for unsure)`` pairs."""
    report = Report(labels=labels)
    for truth, predicted in pairs:
        column = predicted or UNSURE
        report.confusion.setdefault(truth, {})
        report.confusion[truth][column] = report.confusion[truth].get(column, 0) + 1
        report.total += 1
        report.correct += int(truth == predicted)
    return report
