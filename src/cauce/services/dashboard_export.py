"""Dashboard reports as tables, written as CSV or XLSX.

Each report is a header plus rows taken from the same :class:`DashboardOut` the API returns,
so an export always equals what the screen shows. XLSX is written with openpyxl (the
maintained pure-Python writer of the format; no spreadsheet program needed on the server).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font

from cauce.services.dashboard import DashboardOut
from cauce.services.errors import Invalid

Table = tuple[list[str], list[list[Any]]]
ExportFormat = Literal["csv", "xlsx"]


def _cards(d: DashboardOut) -> Table:
    cards = d.cards.model_dump()
    notes = {"conversion_rate": cards["conversion_note"], "nps": cards["nps_note"],
             "csat": cards["csat_note"]}
    return ["figure", "value", "note"], [
        [k, v, notes.get(k)] for k, v in cards.items() if not k.endswith("_note")]


def _conversion(d: DashboardOut) -> Table:
    cols = ["flow_id", "flow_name", "has_goal", "runs_started", "conversions",
            "conversion_rate"]
    return cols, [[getattr(r, c) for c in cols] for r in d.conversion]


def _funnel(d: DashboardOut) -> Table:
    cols = ["flow_id", "flow_name", "runs", "node_id", "label", "type", "entered", "rate"]
    return cols, [[f.flow_id, f.flow_name, f.runs, n.node_id, n.label, n.type, n.entered,
                   n.rate] for f in d.funnel for n in f.nodes]


def _handling(d: DashboardOut) -> Table:
    h = d.handling_time
    cols = ["date", "opened", "avg_first_response_s", "avg_resolution_s"]
    rows = [[p.date, p.opened, p.avg_first_response_s, p.avg_resolution_s] for p in h.series]
    rows.append(["all", h.opened, h.avg_first_response_s, h.avg_resolution_s])
    return cols, rows


def _messages(d: DashboardOut) -> Table:
    cols = ["flow_id", "flow_name", "channel", "count"]
    return cols, [[getattr(r, c) for c in cols] for r in d.messages]


def _delivery(d: DashboardOut) -> Table:
    cols = ["channel", "total", "sent", "delivered", "read", "failed", "delivery_rate",
            "read_rate"]
    rows = [[getattr(r, c) for c in cols] for r in d.delivery.by_channel]
    rows.append([getattr(d.delivery, c) for c in cols])
    return cols, rows


def _cost(d: DashboardOut) -> Table:
    cols = ["flow_id", "flow_name", "messages", "cost", "runs", "per_run"]
    rows = [[getattr(r, c) for c in cols] + [d.cost.currency] for r in d.cost.per_flow]
    rows.append([None, "all", sum(r.messages for r in d.cost.per_flow), d.cost.total, None,
                 None, d.cost.currency])
    return [*cols, "currency"], rows


def _cost_categories(d: DashboardOut) -> Table:
    cols = ["channel", "category", "messages", "billable", "cost"]
    return [*cols, "currency"], [[getattr(r, c) for c in cols] + [d.cost.currency]
                                 for r in d.cost.by_category]


def _revenue(d: DashboardOut) -> Table:
    cols = ["flow_id", "flow_name", "currency", "amount", "opportunities", "events"]
    return cols, [[getattr(r, c) for c in cols] for r in d.revenue]


def _errors(d: DashboardOut) -> Table:
    cols = ["code", "source", "count", "reason", "recommendation", "example"]
    return cols, [[getattr(r, c) for c in cols] for r in d.errors]


REPORTS: dict[str, Callable[[DashboardOut], Table]] = {
    "cards": _cards, "conversion": _conversion, "funnel": _funnel,
    "handling_time": _handling, "messages": _messages, "delivery": _delivery,
    "cost": _cost, "cost_categories": _cost_categories, "revenue": _revenue,
    "errors": _errors,
}


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
    apostrophe: error reasons and names come from outside (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export(data: DashboardOut, report: str, fmt: ExportFormat) -> tuple[bytes, str, str]:
    """``(content, media type, file name)``. ``report`` is one of :data:`REPORTS`, or ``all``
    (XLSX only: one sheet per report)."""
    if report != "all" and report not in REPORTS:
        raise Invalid(f"report: one of all, {', '.join(REPORTS)}", field="report")
    stamp = data.range.from_.strftime("%Y%m%d") + "-" + data.range.to.strftime("%Y%m%d")
    if fmt == "csv":
        if report == "all":
            raise Invalid("report: CSV holds one table; pick a report or use format=xlsx",
                          field="report")
        cols, rows = REPORTS[report](data)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cols)
        writer.writerows([[_safe(v) for v in row] for row in rows])
        # The BOM makes Excel read UTF-8 (accents) correctly; Sheets and Python ignore it.
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", \
            f"cauce-{report}-{stamp}.csv"
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name in (REPORTS if report == "all" else [report]):
        cols, rows = REPORTS[name](data)
        sheet = book.create_sheet(title=name[:31])
        sheet.append(cols)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_safe(v) for v in row])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return (buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"cauce-{report}-{stamp}.xlsx")
