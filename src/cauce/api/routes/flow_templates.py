"""The playbook library over HTTP: list and read flow templates, create a flow (draft, or
published) from one with parameters, and a template flow's KPIs computed from real data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.api.routes.flows import FlowPublic, present
from cauce.flows.playbooks import TEMPLATES, get_template
from cauce.flows.playbooks.spec import Template
from cauce.services import flow_kpis, flow_templates
from cauce.services.errors import NotFound

router = APIRouter(tags=["flow templates"], responses=ERROR_RESPONSES)

TemplateId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$",
                                 description="Template id, e.g. `cart_recovery`.")]


class Localized(BaseModel):
    es: str
    en: str


class TemplateParameter(BaseModel):
    id: str
    kind: str = Field(description="text, keywords, duration, integer, choice, channel, "
                                  "pipeline, stage, status, team, email, event, "
                                  "template_name or url")
    label: Localized
    description: Localized
    required: bool
    default: Any = Field(description="Spanish default (null: optional, empty)")
    default_en: Any = Field(description="English default (used when language is 'en')")
    choices: list[str] | None = None
    json_schema: dict[str, Any] = Field(alias="schema", serialization_alias="schema")


class TemplateKpi(BaseModel):
    id: str
    label: Localized
    how: Localized = Field(description="How it is computed, in words")
    unit: Literal["percent", "seconds", "count", "score", "amount"]
    measure: dict[str, Any] = Field(description="What `GET /flows/{id}/kpis` computes")


class TemplateSummary(BaseModel):
    id: str
    kind: Literal["playbook", "scene", "workflow"]
    name: Localized
    description: Localized
    source: str = Field(description="Where in the product requirements it comes from")
    category: str
    parameters: list[TemplateParameter]
    parameters_schema: dict[str, Any] = Field(description="JSON Schema of `parameters`")
    kpis: list[TemplateKpi]
    kpis_not_computed: list[Localized] = Field(
        description="KPIs of the requirements Cauce has no data for (not returned)")


class TemplateDetail(TemplateSummary):
    document: dict[str, Any] = Field(description="The flow built with the default parameters "
                                                 "(in the asked language)")


class FromTemplate(BaseModel):
    template_id: str = Field(min_length=1, max_length=100, examples=["cart_recovery"])
    parameters: dict[str, Any] = Field(
        default_factory=dict, examples=[{"language": "es", "follow_up_after": "12h"}],
        description="Values for the template's parameters; the rest take their defaults.")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    publish: bool = Field(default=False, description="Publish version 1 right away")


class KpiOut(BaseModel):
    id: str
    label: Localized
    how: Localized
    unit: str
    value: float | None = Field(description="null when there is no data (see reason)")
    numerator: float | None = None
    denominator: float | None = None
    reason: str | None = Field(default=None, description="Why value is null")


class FlowKpis(BaseModel):
    flow_id: int
    template_id: str
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    runs_started: int
    kpis: list[KpiOut]
    not_computed: list[Localized]


def _summary(t: Template) -> dict[str, Any]:
    return t.public(detail=False)


@router.get("/flow-templates", operation_id="list_flow_templates")
def list_flow_templates(
    principal: PrincipalDep,
    kind: Literal["playbook", "scene", "workflow"] | None = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> PageOut[TemplateSummary]:
    """The playbook library: seed 000's seven playbooks and three scenes and seed 001's
    reactivation workflow, each with its typed parameters and its KPIs."""
    chosen = [t for t in TEMPLATES if kind is None or t.kind == kind]
    offset = int(cursor) if cursor else 0
    page = chosen[offset:offset + limit]
    more = offset + limit < len(chosen)
    return PageOut(items=[TemplateSummary.model_validate(_summary(t)) for t in page],
                   next_cursor=str(offset + limit) if more else None)


def _template(template_id: str) -> Template:
    try:
        return get_template(template_id)
    except KeyError:
        raise NotFound(f"no flow template '{template_id}'") from None


@router.get("/flow-templates/{template_id}", operation_id="get_flow_template")
def get_flow_template(template_id: TemplateId, principal: PrincipalDep,
                      language: Literal["es", "en"] = "es") -> TemplateDetail:
    t = _template(template_id)
    data = _summary(t)
    data["document"] = t.build({"language": language})
    return TemplateDetail.model_validate(data)


@router.post("/flows/from-template", operation_id="create_flow_from_template",
             status_code=201,
             responses={422: {"description": "A bad parameter (`field` is "
                                             "`parameters.<name>`) or, with publish, a flow "
                                             "with errors"}})
def create_flow_from_template(body: FromTemplate, session: SessionDep,
                              principal: PrincipalDep, cauce: CauceDep) -> FlowPublic:
    """Build the template's flow with ``parameters`` and save it as a new draft (published
    as version 1 when ``publish`` is true; nothing is saved when publishing fails)."""
    row = flow_templates.create_from_template(
        session, principal, body.template_id, body.parameters, cauce.clock.now(),
        name=body.name, publish=body.publish)
    return present(row)


@router.get("/flows/{flow_id}/kpis", operation_id="get_flow_kpis")
def get_flow_kpis(
    flow_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    from_: Annotated[datetime | None, Query(alias="from", description="Runs started at or "
                                            "after (default: 30 days before `to`)")] = None,
    to: Annotated[datetime | None, Query(description="Runs started up to (default: now)")]
    = None,
) -> FlowKpis:
    """The KPIs the flow's template declares, computed from the runs started in the period
    and what followed them (step logs, messages, tickets, events, opportunities). A KPI with
    no data is null with a reason. 409 for a flow not created from a template."""
    report = flow_kpis.flow_kpis(session, principal.workspace_id, flow_id, cauce.clock.now(),
                                 from_, to)
    return FlowKpis(
        flow_id=report.flow_id, template_id=report.template_id, from_=report.start,
        to=report.end, runs_started=report.runs_started,
        kpis=[KpiOut.model_validate(k.__dict__) for k in report.kpis],
        not_computed=[Localized.model_validate(n) for n in report.not_computed])
