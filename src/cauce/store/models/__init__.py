"""Every model, imported here so ``Base.metadata`` is complete for Alembic.

Each area keeps its models in its own module; add the import below when you add a module.
"""

from cauce.store.base import Base
from cauce.store.models.ai import AiDecisionLog, AiIntent
from cauce.store.models.channels import Channel, WhatsAppTemplate
from cauce.store.models.contacts import Contact, ContactField
from cauce.store.models.core import ApiKey, AuditEntry, Membership, User, Workspace
from cauce.store.models.crm import (
    EventReceipt,
    EventSource,
    ImportChunk,
    ImportJob,
    Opportunity,
    OpportunityChange,
    Pipeline,
    PipelineStage,
    RateLimitWindow,
    Segment,
    Ticket,
    WebSession,
)
from cauce.store.models.flows import Flow, FlowVersion
from cauce.store.models.inbox import Conversation, InboxNote, Team, TeamMember
from cauce.store.models.integrations import WebhookSubscription
from cauce.store.models.messages import Message
from cauce.store.models.runtime import (
    FlowCounter,
    InboundWebhook,
    OutboxItem,
    RateBucket,
    RuntimeClock,
    RuntimeInput,
    RuntimeRun,
    RuntimeTimer,
    StepLogEntry,
)

__all__ = [
    "AiDecisionLog",
    "AiIntent",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Channel",
    "Contact",
    "ContactField",
    "Conversation",
    "EventReceipt",
    "EventSource",
    "Flow",
    "FlowCounter",
    "FlowVersion",
    "ImportChunk",
    "ImportJob",
    "InboundWebhook",
    "InboxNote",
    "Membership",
    "Message",
    "Opportunity",
    "OpportunityChange",
    "OutboxItem",
    "Pipeline",
    "PipelineStage",
    "RateBucket",
    "RateLimitWindow",
    "RuntimeClock",
    "RuntimeInput",
    "RuntimeRun",
    "RuntimeTimer",
    "Segment",
    "StepLogEntry",
    "Team",
    "TeamMember",
    "Ticket",
    "User",
    "WebSession",
    "WebhookSubscription",
    "WhatsAppTemplate",
    "Workspace",
]
