"""Flows from the playbook library: build a template with parameters and store it as a new
flow (published as version 1 on request). The API (``POST /flows/from-template``) and the CLI
(``cauce flows from-template``) both go through :func:`create_from_template`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cauce.flows.playbooks import ParameterError, get_template
from cauce.flows.playbooks.spec import Template
from cauce.services import flows
from cauce.services.auth import Principal
from cauce.services.errors import Invalid
from cauce.store.models import Flow


def find_template(template_id: str, field: str = "template_id") -> Template:
    """The template, or :class:`Invalid` naming ``field``."""
    try:
        return get_template(template_id)
    except KeyError:
        raise Invalid(f"no flow template '{template_id}'", field=field) from None


def create_from_template(session: Session, principal: Principal, template_id: str,
                         parameters: dict[str, Any] | None, now: datetime, *,
                         name: str | None = None, publish: bool = False) -> Flow:
    """A new flow built from the template with ``parameters`` (the rest take their defaults):
    a draft, or published as version 1 when ``publish`` is true. Bad parameters raise
    :class:`Invalid` with ``field`` = ``parameters.<name>``; a flow that cannot be published
    raises :class:`flows.FlowInvalid` (the caller's transaction then saves nothing)."""
    principal.require("editor")
    template = find_template(template_id)
    try:
        document = template.build(parameters, name=name)
    except ParameterError as exc:
        raise Invalid(exc.message, field=f"parameters.{exc.parameter}") from None
    row = flows.create_flow(session, principal, document, now, template_slug=template.id)
    if publish:
        flows.publish(session, principal, row.id, now, note=f"from template {template.id}")
    return row
