"""Flows as versioned documents: drafts, validation, immutable published versions, rollback,
import and export. Routes, the CLI and tests call these; they own no transaction (the caller's
session is committed by ``cauce.transaction()``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import case, func, select, tuple_
from sqlalchemy.orm import Session

from cauce.engine.types import RunStatus
from cauce.flows.common import Problem
from cauce.flows.document import load_flow, parse_text
from cauce.flows.validate import has_errors, validate_document
from cauce.limits import MAX_NODES_PER_FLOW
from cauce.services.auth import Principal, audit
from cauce.services.errors import Invalid, NotFound
from cauce.store.models import Flow, FlowVersion, RuntimeRun

MAX_DOCUMENT_BYTES = 2_000_000
ExportFormat = Literal["json", "yaml"]


class FlowInvalid(Invalid):
    """Publishing refused: the draft has validation errors (all listed in ``problems``)."""

    code = "flow_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else None
        summary = first.line() if first else "the flow has errors"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"the flow cannot be published: {summary}{more}",
                         field=f"document.nodes.{first.node_id}" if first and first.node_id
                         else "document")
        self.problems = problems


def _check_document(document: Any) -> tuple[dict[str, Any], str]:
    """The document and its name; drafts may be incomplete but must be an object with a name."""
    if not isinstance(document, dict):
        raise Invalid("a flow document must be a JSON object", field="document")
    if len(json.dumps(document, default=str)) > MAX_DOCUMENT_BYTES:
        raise Invalid(f"the flow document is larger than {MAX_DOCUMENT_BYTES} bytes",
                      field="document")
    nodes = document.get("nodes", [])
    if not isinstance(nodes, list):
        raise Invalid("nodes must be a list", field="document.nodes")
    if len(nodes) > MAX_NODES_PER_FLOW:
        raise Invalid(f"a flow has at most {MAX_NODES_PER_FLOW} nodes", field="document.nodes")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise Invalid("the flow needs a name (metadata.name)", field="document.metadata.name")
    if len(name) > 200:
        raise Invalid("the name is longer than 200 characters", field="document.metadata.name")
    return document, name.strip()


def get_flow(session: Session, workspace_id: int, flow_id: int) -> Flow:
    row = session.get(Flow, flow_id)
    if row is None or row.workspace_id != workspace_id or row.archived_at is not None:
        raise NotFound(f"flow {flow_id} not found")
    return row


def list_flows(session: Session, workspace_id: int) -> list[Flow]:
    return list(session.scalars(
        select(Flow).where(Flow.workspace_id == workspace_id, Flow.archived_at.is_(None))
        .order_by(Flow.id)))


def declares_goal(document: Any) -> bool:
    """Whether a flow document's settings name a goal (its runs can convert)."""
    settings = document.get("settings") if isinstance(document, dict) else None
    return isinstance(settings, dict) and bool(settings.get("goal"))


@dataclass(frozen=True)
class FlowStats:
    """What the flow list shows beside each flow, over all of its runs."""

    runs_total: int = 0
    runs_active: int = 0  # waiting for a reply, a timer or an event
    conversions: int = 0  # runs that reached the flow's goal
    has_goal: bool = False  # the published version declares a goal

    @property
    def conversion_rate(self) -> float | None:
        """conversions / runs (0–1); None without a goal or without runs."""
        if not self.has_goal or not self.runs_total:
            return None
        return self.conversions / self.runs_total


def flow_stats(session: Session, workspace_id: int, rows: list[Flow]) -> dict[int, FlowStats]:
    """Runs, active runs and goal conversions per flow, in one grouped query over the runs
    (the ``(workspace_id, flow_id, status)`` index) plus one for the published documents."""
    if not rows:
        return {}
    ids = [r.id for r in rows]
    reached = RuntimeRun.state["goal_reached"].as_boolean()
    counts = session.execute(
        select(RuntimeRun.flow_id, func.count(),
               func.sum(case((RuntimeRun.status == RunStatus.WAITING.value, 1), else_=0)),
               func.sum(case((reached.is_(True), 1), else_=0)))
        .where(RuntimeRun.workspace_id == workspace_id, RuntimeRun.flow_id.in_(ids))
        .group_by(RuntimeRun.flow_id))
    published = [(r.id, r.published_version) for r in rows if r.published_version]
    goals: set[int] = set()
    if published:
        for flow_id, document in session.execute(
                select(FlowVersion.flow_id, FlowVersion.document).where(
                    FlowVersion.workspace_id == workspace_id,
                    tuple_(FlowVersion.flow_id, FlowVersion.number).in_(published))):
            if declares_goal(document):
                goals.add(flow_id)
    stats = {flow_id: FlowStats(has_goal=flow_id in goals) for flow_id in ids}
    for flow_id, total, active, conversions in counts:
        stats[flow_id] = FlowStats(runs_total=int(total), runs_active=int(active or 0),
                                   conversions=int(conversions or 0),
                                   has_goal=flow_id in goals)
    return stats


def create_flow(session: Session, principal: Principal, document: Any, now: datetime,
                template_slug: str | None = None) -> Flow:
    """A new flow whose draft is ``document`` (not yet published)."""
    doc, name = _check_document(document)
    metadata = doc.get("metadata") or {}
    row = Flow(workspace_id=principal.workspace_id, name=name,
               description=str(metadata.get("description", ""))[:2000], draft=doc,
               published_version=None, enabled=True, template_slug=template_slug,
               created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    audit(session, principal, now, "flow.create", f"flow:{row.id}", name=name)
    return row


def update_draft(session: Session, principal: Principal, flow_id: int, document: Any,
                 now: datetime) -> Flow:
    """Replace the draft. Published versions and the runs on them are untouched."""
    row = get_flow(session, principal.workspace_id, flow_id)
    doc, name = _check_document(document)
    row.draft, row.name, row.updated_at = doc, name, now
    row.description = str((doc.get("metadata") or {}).get("description", ""))[:2000]
    audit(session, principal, now, "flow.update_draft", f"flow:{row.id}")
    return row


def update_flow(session: Session, principal: Principal, flow_id: int, now: datetime, *,
                name: str | None = None, description: str | None = None,
                enabled: bool | None = None) -> Flow:
    """Rename, describe, or enable/disable (a disabled flow starts no new runs)."""
    row = get_flow(session, principal.workspace_id, flow_id)
    draft = dict(row.draft)
    metadata = dict(draft.get("metadata") or {})
    if name is not None:
        if not name.strip():
            raise Invalid("the name cannot be empty", field="name")
        row.name = metadata["name"] = name.strip()
    if description is not None:
        row.description = metadata["description"] = description
    if enabled is not None:
        row.enabled = enabled
    draft["metadata"] = metadata
    row.draft, row.updated_at = draft, now
    audit(session, principal, now, "flow.update", f"flow:{row.id}",
          name=name, description=description is not None, enabled=enabled)
    return row


def archive_flow(session: Session, principal: Principal, flow_id: int, now: datetime) -> None:
    """Hide the flow and stop new runs; versions stay so running contacts can finish."""
    row = get_flow(session, principal.workspace_id, flow_id)
    row.archived_at, row.enabled, row.updated_at = now, False, now
    audit(session, principal, now, "flow.archive", f"flow:{row.id}")


def validate_flow(session: Session, workspace_id: int, flow_id: int) -> list[Problem]:
    return validate_document(get_flow(session, workspace_id, flow_id).draft)


def _next_number(session: Session, flow_id: int) -> int:
    current = session.scalar(select(func.max(FlowVersion.number))
                             .where(FlowVersion.flow_id == flow_id))
    return int(current or 0) + 1


def _freeze(session: Session, principal: Principal, row: Flow, document: dict[str, Any],
            now: datetime, note: str) -> FlowVersion:
    version = FlowVersion(workspace_id=row.workspace_id, flow_id=row.id,
                          number=_next_number(session, row.id), document=document,
                          published_at=now, published_by=principal.actor, note=note[:500])
    session.add(version)
    row.published_version, row.updated_at = version.number, now
    session.flush()
    return version


def publish(session: Session, principal: Principal, flow_id: int, now: datetime,
            note: str = "") -> FlowVersion:
    """Freeze the draft as the next version number; new runs start on it. Refused with every
    problem listed (:class:`FlowInvalid`) when validation finds errors."""
    row = get_flow(session, principal.workspace_id, flow_id)
    problems = validate_document(row.draft)
    if has_errors(problems):
        raise FlowInvalid(problems)
    try:
        # Stored in canonical form ("7d" -> {"days": 0, ..., "seconds": 604800}...), so a
        # version reads the same to every later engine version.
        document = load_flow(row.draft).model_dump(mode="json")
    except ValidationError as exc:  # pragma: no cover - validation above reports these first
        raise Invalid(f"the flow does not parse: {exc.errors()[0]['msg']}",
                      field="document") from None
    version = _freeze(session, principal, row, document, now, note)
    audit(session, principal, now, "flow.publish", f"flow:{row.id}", version=version.number)
    return version


def list_versions(session: Session, workspace_id: int, flow_id: int) -> list[FlowVersion]:
    get_flow(session, workspace_id, flow_id)
    return list(session.scalars(select(FlowVersion).where(FlowVersion.flow_id == flow_id)
                                .order_by(FlowVersion.number)))


def get_version(session: Session, workspace_id: int, flow_id: int, number: int) -> FlowVersion:
    get_flow(session, workspace_id, flow_id)
    version = session.scalar(select(FlowVersion).where(FlowVersion.flow_id == flow_id,
                                                       FlowVersion.number == number))
    if version is None:
        raise NotFound(f"flow {flow_id} has no version {number}", field="version")
    return version


def rollback(session: Session, principal: Principal, flow_id: int, number: int,
             now: datetime) -> FlowVersion:
    """Publish the document of version ``number`` again, as a new version number. Runs on
    the versions in between keep going on their own version."""
    old = get_version(session, principal.workspace_id, flow_id, number)
    row = get_flow(session, principal.workspace_id, flow_id)
    version = _freeze(session, principal, row, dict(old.document), now,
                      f"rollback to version {number}")
    audit(session, principal, now, "flow.rollback", f"flow:{row.id}", to=number,
          version=version.number)
    return version


def export_flow(session: Session, workspace_id: int, flow_id: int, *,
                version: int | None = None, fmt: ExportFormat = "json") -> str:
    """The draft (or a published version) as JSON or YAML text."""
    document = (get_version(session, workspace_id, flow_id, version).document
                if version is not None else get_flow(session, workspace_id, flow_id).draft)
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def import_flow(session: Session, principal: Principal, text: str, now: datetime,
                filename: str = "") -> Flow:
    """Create a flow from JSON or YAML text (a draft; publish it separately)."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise Invalid(f"the file is larger than {MAX_DOCUMENT_BYTES} bytes", field="content")
    try:
        document = parse_text(text, filename)
    except Exception as exc:  # json and yaml raise different trees; both mean "not parseable"
        raise Invalid(f"not valid JSON or YAML: {str(exc).splitlines()[0]}",
                      field="content") from None
    return create_flow(session, principal, document, now)
