"""The playbook library: seed 000's seven playbooks and three scenes and seed 001's
reactivation workflow as parameterised flow templates (see docs/playbooks/)."""

from __future__ import annotations

from cauce.flows.playbooks.b2b_onboarding import B2B_ONBOARDING
from cauce.flows.playbooks.cart_recovery import CART_RECOVERY
from cauce.flows.playbooks.lead_capture import LEAD_CAPTURE
from cauce.flows.playbooks.lead_scoring import LEAD_SCORING
from cauce.flows.playbooks.operations_risk import OPERATIONS_RISK
from cauce.flows.playbooks.post_sale_nps import POST_SALE_NPS
from cauce.flows.playbooks.reactivation import REACTIVATION
from cauce.flows.playbooks.scenes import SCENE_CART, SCENE_LEAD, SCENE_SUPPORT
from cauce.flows.playbooks.spec import Kpi, Param, ParameterError, Template
from cauce.flows.playbooks.support_handoff import SUPPORT_HANDOFF

TEMPLATES: tuple[Template, ...] = (
    LEAD_CAPTURE, CART_RECOVERY, SUPPORT_HANDOFF, POST_SALE_NPS, B2B_ONBOARDING, LEAD_SCORING,
    OPERATIONS_RISK, SCENE_LEAD, SCENE_CART, SCENE_SUPPORT, REACTIVATION,
)
_BY_ID = {t.id: t for t in TEMPLATES}


def template_ids() -> list[str]:
    return [t.id for t in TEMPLATES]


def get_template(template_id: str) -> Template:
    """The template, or KeyError."""
    return _BY_ID[template_id]


__all__ = ["TEMPLATES", "Kpi", "Param", "ParameterError", "Template", "get_template",
           "template_ids"]
