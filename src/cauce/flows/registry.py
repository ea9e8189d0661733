"""The explicit table of node types: ``type`` → class. No folder scanning."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cauce.flows.nodes.add_tag import AddTag
from cauce.flows.nodes.ai_classify_intent import AiClassifyIntent
from cauce.flows.nodes.ai_extract import AiExtract
from cauce.flows.nodes.ai_sentiment import AiSentiment
from cauce.flows.nodes.ai_summarize import AiSummarize
from cauce.flows.nodes.base import Node
from cauce.flows.nodes.condition import ConditionNode
from cauce.flows.nodes.create_ticket import CreateTicket
from cauce.flows.nodes.delay import Delay
from cauce.flows.nodes.email import Email
from cauce.flows.nodes.end import End
from cauce.flows.nodes.go_to_flow import GoToFlow
from cauce.flows.nodes.handoff import Handoff
from cauce.flows.nodes.http_request import HttpRequest
from cauce.flows.nodes.lead_score import LeadScore
from cauce.flows.nodes.notify_team import NotifyTeam
from cauce.flows.nodes.opt_out import OptOut
from cauce.flows.nodes.random_split import RandomSplit
from cauce.flows.nodes.remove_from_flows import RemoveFromFlows
from cauce.flows.nodes.remove_tag import RemoveTag
from cauce.flows.nodes.set_field import SetField
from cauce.flows.nodes.sms import Sms
from cauce.flows.nodes.update_opportunity import UpdateOpportunity
from cauce.flows.nodes.wait_for_condition import WaitForCondition
from cauce.flows.nodes.wait_for_event import WaitForEvent
from cauce.flows.nodes.wait_for_reply import WaitForReply
from cauce.flows.nodes.wait_until import WaitUntil
from cauce.flows.nodes.whatsapp_buttons import WhatsAppButtons
from cauce.flows.nodes.whatsapp_list import WhatsAppList
from cauce.flows.nodes.whatsapp_media import WhatsAppMedia
from cauce.flows.nodes.whatsapp_template import WhatsAppTemplate
from cauce.flows.nodes.whatsapp_text import WhatsAppText
from cauce.flows.nodes.window_check import WindowCheck

NODE_TYPES: dict[str, type[Node]] = {
    # messages
    "whatsapp_text": WhatsAppText,
    "whatsapp_template": WhatsAppTemplate,
    "whatsapp_buttons": WhatsAppButtons,
    "whatsapp_list": WhatsAppList,
    "whatsapp_media": WhatsAppMedia,
    "email": Email,
    "sms": Sms,
    "notify_team": NotifyTeam,
    # waits
    "delay": Delay,
    "wait_until": WaitUntil,
    "wait_for_reply": WaitForReply,
    "wait_for_event": WaitForEvent,
    "wait_for_condition": WaitForCondition,
    # logic
    "condition": ConditionNode,
    "random_split": RandomSplit,
    "window_check": WindowCheck,
    "go_to_flow": GoToFlow,
    "end": End,
    "remove_from_flows": RemoveFromFlows,
    # data
    "set_field": SetField,
    "add_tag": AddTag,
    "remove_tag": RemoveTag,
    "update_opportunity": UpdateOpportunity,
    "create_ticket": CreateTicket,
    "handoff": Handoff,
    "http_request": HttpRequest,
    "lead_score": LeadScore,
    "opt_out": OptOut,
    # AI
    "ai_classify_intent": AiClassifyIntent,
    "ai_extract": AiExtract,
    "ai_sentiment": AiSentiment,
    "ai_summarize": AiSummarize,
}

AnyNode = Annotated[
    WhatsAppText | WhatsAppTemplate | WhatsAppButtons | WhatsAppList | WhatsAppMedia | Email
    | Sms | NotifyTeam | Delay | WaitUntil | WaitForReply | WaitForEvent | WaitForCondition
    | ConditionNode | RandomSplit | WindowCheck | GoToFlow | End | RemoveFromFlows | SetField
    | AddTag | RemoveTag | UpdateOpportunity | CreateTicket | Handoff | HttpRequest | LeadScore
    | OptOut | AiClassifyIntent | AiExtract | AiSentiment | AiSummarize,
    Field(discriminator="type"),
]


def suggest(name: str) -> str | None:
    """The closest known node type, for 'did you mean …?'."""
    import difflib

    close = difflib.get_close_matches(name, NODE_TYPES, n=1)
    return close[0] if close else None
