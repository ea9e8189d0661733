"""Every model, imported here so ``Base.metadata`` is complete for Alembic.

Each area keeps its models in its own module; add the import below when you add a module.
"""

from cauce.store.base import Base
from cauce.store.models.contacts import Contact
from cauce.store.models.core import ApiKey, AuditEntry, Membership, User, Workspace
from cauce.store.models.flows import Flow, FlowVersion

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Contact",
    "Flow",
    "FlowVersion",
    "Membership",
    "User",
    "Workspace",
]
