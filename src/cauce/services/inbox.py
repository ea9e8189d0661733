"""The agent inbox: teams and their assignment rules, conversations handed over by a flow's
``handoff`` step, and what agents do with them (reply, note, assign, transfer, close).

A conversation is per contact and channel. While it is open the bot is paused for the contact
(:func:`paused_contacts`, consulted by the runtime's processor): the contact's messages are
stored for the agent and start or advance no flow. Closing it submits the handoff step's
activity result, so the run resumes through the step's ``returned`` exit with the resolution.

Agents' replies are ordinary outbox rows (``message_requested``), so they go through the same
channel delivery, contact rules, retries and status webhooks as a flow's messages.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from cauce.engine.types import ActivityResult, HandoffRequested
from cauce.services import tickets
from cauce.services.auth import Principal, audit
from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.services.messages import record_outbound, summary_text
from cauce.services.pagination import Page, check_limit, decode_cursor, paginate
from cauce.store.models import (
    Channel,
    Contact,
    Conversation,
    InboxNote,
    Membership,
    Message,
    Ticket,
    User,
    WhatsAppTemplate,
)
from cauce.store.models.inbox import Team, TeamMember
from cauce.store.models.runtime import (
    HANDOFF_PENDING_SQL,
    INPUT_PENDING,
    OUTBOX_PENDING,
    PRIORITY_REPLY,
    OutboxItem,
    RuntimeInput,
)

ASSIGNMENTS = ("round_robin", "least_open", "manual")
PRIORITIES = ("low", "normal", "high", "urgent")
VIEWS = ("mine", "team", "unassigned", "all")
# How many of the contact's latest messages a handoff attaches (transcript and summary).
HANDOFF_TRANSCRIPT = 50
# Priorities at which a handoff also opens a ticket (the durable record of an escalation).
TICKET_PRIORITIES = ("high", "urgent")
# The flow channel name of each adapter kind (what the outbox's ``channel`` holds).
_FLOW_CHANNEL = {"whatsapp": "whatsapp", "sms_twilio": "sms", "sms_http": "sms",
                 "email": "email", "simulator": "simulator"}
_MAX_ID = 2**63 - 1


# --------------------------------------------------------------------------------------------
# Teams
# --------------------------------------------------------------------------------------------


class TeamIn(BaseModel):
    """A team change (PATCH): only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100, examples=["ventas"])
    assignment: Literal["round_robin", "least_open", "manual"] | None = Field(
        default=None, examples=["round_robin"],
        description="Who gets a new conversation: `round_robin`, `least_open` (fewest open "
        "conversations) or `manual` (nobody; an agent takes it).")
    member_ids: list[int] | None = Field(default=None, max_length=500, examples=[[]],
                                         description="User ids of the workspace's members.")

    @field_validator("member_ids")
    @classmethod
    def _ids(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        for user_id in value:
            if user_id < 1 or user_id > _MAX_ID:
                raise ValueError("member ids are positive integers")
        return list(dict.fromkeys(value))


class TeamCreate(TeamIn):
    name: str = Field(min_length=1, max_length=100, examples=["ventas"])


@dataclass(frozen=True)
class TeamView:
    team: Team
    member_ids: list[int]


def _members(session: Session, team_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {t: [] for t in team_ids}
    for team_id, user_id in session.execute(
        select(TeamMember.team_id, TeamMember.user_id)
        .where(TeamMember.team_id.in_(team_ids)).order_by(TeamMember.user_id)
    ):
        out[team_id].append(user_id)
    return out


def _check_members(session: Session, workspace_id: int, user_ids: list[int]) -> None:
    if not user_ids:
        return
    found = set(session.scalars(select(Membership.user_id).where(
        Membership.workspace_id == workspace_id, Membership.user_id.in_(user_ids))))
    missing = [u for u in user_ids if u not in found]
    if missing:
        raise Invalid(f"member_ids: user {missing[0]} is not a member of this workspace",
                      field="member_ids")


def _set_members(session: Session, team: Team, user_ids: list[int]) -> None:
    current = {m.user_id: m for m in session.scalars(
        select(TeamMember).where(TeamMember.team_id == team.id))}
    for user_id, row in current.items():
        if user_id not in user_ids:
            session.delete(row)
    for user_id in user_ids:
        if user_id not in current:
            session.add(TeamMember(workspace_id=team.workspace_id, team_id=team.id,
                                   user_id=user_id))
    session.flush()


def _name_taken(session: Session, workspace_id: int, name: str, but: int | None = None) -> None:
    query = select(Team.id).where(Team.workspace_id == workspace_id,
                                  func.lower(Team.name) == name.lower())
    if but is not None:
        query = query.where(Team.id != but)
    if session.scalar(query) is not None:
        raise Conflict(f"a team named '{name}' already exists", field="name")


def create_team(session: Session, principal: Principal, data: TeamIn, now: datetime) -> TeamView:
    principal.require("admin")
    name = (data.name or "").strip()
    if not name:
        raise Invalid("name: required", field="name")
    _name_taken(session, principal.workspace_id, name)
    members = data.member_ids or []
    _check_members(session, principal.workspace_id, members)
    team = Team(workspace_id=principal.workspace_id, name=name,
                assignment=data.assignment or "round_robin", created_at=now, updated_at=now)
    session.add(team)
    session.flush()
    _set_members(session, team, members)
    audit(session, principal, now, "team.created", f"team:{team.id}", name=name,
          assignment=team.assignment, member_ids=members)
    return TeamView(team, members)


def get_team(session: Session, workspace_id: int, team_id: int) -> TeamView:
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id:
        raise NotFound(f"team {team_id} not found")
    return TeamView(team, _members(session, [team.id])[team.id])


def update_team(session: Session, principal: Principal, team_id: int, data: TeamIn,
                now: datetime) -> TeamView:
    principal.require("admin")
    team = get_team(session, principal.workspace_id, team_id).team
    if data.name is not None:
        name = data.name.strip()
        if not name:
            raise Invalid("name: cannot be empty", field="name")
        _name_taken(session, principal.workspace_id, name, but=team.id)
        team.name = name
    if data.assignment is not None:
        team.assignment = data.assignment
    if data.member_ids is not None:
        _check_members(session, principal.workspace_id, data.member_ids)
        _set_members(session, team, data.member_ids)
    team.updated_at = now
    audit(session, principal, now, "team.updated", f"team:{team.id}",
          **data.model_dump(exclude_unset=True))
    return get_team(session, principal.workspace_id, team.id)


def delete_team(session: Session, principal: Principal, team_id: int, now: datetime) -> None:
    principal.require("admin")
    team = get_team(session, principal.workspace_id, team_id).team
    audit(session, principal, now, "team.deleted", f"team:{team.id}", name=team.name)
    session.delete(team)


def list_teams(session: Session, workspace_id: int, *, limit: int | None,
               cursor: str | None) -> Page[TeamView]:
    page = paginate(session, select(Team).where(Team.workspace_id == workspace_id), Team.id,
                    limit, cursor)
    members = _members(session, [t.id for t in page.items])
    return Page([TeamView(t, members[t.id]) for t in page.items], page.next_cursor)


def find_team(session: Session, workspace_id: int, ref: str) -> Team | None:
    """A team by id (digits) or by name, case-insensitive."""
    ref = ref.strip()
    if ref.isdigit() and int(ref) <= _MAX_ID:
        team = session.get(Team, int(ref))
        if team is not None and team.workspace_id == workspace_id:
            return team
    return session.scalar(select(Team).where(Team.workspace_id == workspace_id,
                                             func.lower(Team.name) == ref.lower()))


# --------------------------------------------------------------------------------------------
# Assignment rules
# --------------------------------------------------------------------------------------------


def _active_members(session: Session, team: Team) -> list[int]:
    """The team's members who still belong to the workspace and are not disabled."""
    return list(session.scalars(
        select(TeamMember.user_id)
        .join(Membership, (Membership.user_id == TeamMember.user_id)
              & (Membership.workspace_id == team.workspace_id))
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id, User.disabled_at.is_(None))
        .order_by(TeamMember.user_id)))


def open_counts(session: Session, workspace_id: int, user_ids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(user_ids, 0)
    for user_id, count in session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.workspace_id == workspace_id, Conversation.status == "open",
               Conversation.assignee_id.in_(user_ids))
        .group_by(Conversation.assignee_id)
    ):
        if user_id is not None:
            counts[user_id] = int(count)
    return counts


def choose_assignee(session: Session, team: Team) -> int | None:
    """Who the team's rule gives a new conversation to (``None``: manual, or nobody there)."""
    members = _active_members(session, team)
    if not members or team.assignment == "manual":
        return None
    if team.assignment == "least_open":
        counts = open_counts(session, team.workspace_id, members)
        return min(members, key=lambda u: (counts[u], u))
    # Round robin: the first member after the last one served, wrapping around.
    last = team.last_assigned_id or 0
    after = [u for u in members if u > last]
    chosen = after[0] if after else members[0]
    team.last_assigned_id = chosen
    return chosen


def find_agent(session: Session, workspace_id: int, ref: str) -> int | None:
    """A workspace member named by a handoff step: user id, e-mail or name."""
    ref = ref.strip()
    if not ref:
        return None
    query = select(User.id).join(Membership, Membership.user_id == User.id).where(
        Membership.workspace_id == workspace_id, User.disabled_at.is_(None))
    if ref.isdigit() and int(ref) <= _MAX_ID:
        found = session.scalar(query.where(User.id == int(ref)))
        if found is not None:
            return int(found)
    found = session.scalar(query.where(or_(func.lower(User.email) == ref.lower(),
                                           func.lower(User.name) == ref.lower()))
                           .order_by(User.id))
    return int(found) if found is not None else None


# --------------------------------------------------------------------------------------------
# Handoff (called by the runtime's ``handoff_requested`` delivery handler)
# --------------------------------------------------------------------------------------------


def paused_contacts(session: Session, contact_ids: list[int]) -> set[int]:
    """Of ``contact_ids``, those the bot is paused for: with an open conversation, or with a
    handoff that is not delivered yet. The ``handoff_requested`` outbox row is committed with
    the run state of the handoff step, so the pause holds from that commit on, before the
    delivery handler has opened the conversation."""
    if not contact_ids:
        return set()
    return set(session.scalars(select(Conversation.contact_id).where(
        Conversation.contact_id.in_(contact_ids), Conversation.status == "open"))) | set(
        session.scalars(select(OutboxItem.contact_id).where(
            OutboxItem.contact_id.in_(contact_ids), sql_text(HANDOFF_PENDING_SQL))))


def _latest_channel(session: Session, workspace_id: int,
                    contact_id: int) -> tuple[int | None, str]:
    row = session.execute(
        select(Message.channel_id, Message.channel_kind)
        .where(Message.workspace_id == workspace_id, Message.contact_id == contact_id,
               Message.direction == "in")
        .order_by(Message.id.desc()).limit(1)).first()
    if row is None:
        return None, "whatsapp"
    return row[0], row[1]


@dataclass(frozen=True)
class Handoff:
    conversation: Conversation
    created: bool  # False: this handoff was applied before (a re-delivered outbox row)
    turns: list[dict[str, str]]  # the attached transcript, for the summary


def apply_handoff(session: Session, workspace_id: int, contact_id: int, run_id: str | None,
                  event: HandoffRequested, now: datetime,
                  flow_id: int | None = None,
                  transcript_from_id: int | None = None) -> Handoff:
    """Open (or reuse) the contact's conversation for a handoff step and assign it.

    Without ``include_transcript`` the conversation starts at ``transcript_from_id``: the
    first message stored after the handoff step was committed (the runtime records it then),
    so a message that arrived while the handoff waited for delivery is the agent's to read."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id != workspace_id:
        raise NotFound(f"contact {contact_id} not found")
    channel_id, channel_kind = _latest_channel(session, workspace_id, contact_id)
    conversation = session.scalars(
        select(Conversation).where(Conversation.workspace_id == workspace_id,
                                   Conversation.contact_id == contact_id,
                                   Conversation.status == "open")
        .order_by(Conversation.id)).first()
    recent = list(session.scalars(
        select(Message).where(Message.workspace_id == workspace_id,
                              Message.contact_id == contact_id)
        .order_by(Message.id.desc()).limit(HANDOFF_TRANSCRIPT)))
    recent.reverse()
    turns = [{"role": "contact" if m.direction == "in" else "agent", "text": m.text}
             for m in recent if m.text]
    seen = conversation is not None and any(
        h.get("activity_id") == event.activity_id for h in conversation.context.get(
            "handoffs", []) if isinstance(h, dict))
    if conversation is not None and seen:
        return Handoff(conversation, False, turns)
    handoff = {"run_id": run_id, "activity_id": event.activity_id, "node_id": event.node_id,
               "flow_id": flow_id, "at": now.isoformat()}
    events: list[Part] = []
    if conversation is None:
        if recent and event.include_transcript:
            start = recent[0].id
        elif transcript_from_id is not None:
            start = transcript_from_id
        else:
            start = next_message_id(session)
        conversation = Conversation(
            workspace_id=workspace_id, contact_id=contact_id, channel_id=channel_id,
            channel_kind=channel_kind, status="open", priority=event.priority,
            transcript_from_id=start, opened_at=now, updated_at=now, context={})
        session.add(conversation)
        created = True
    else:
        created = False
        # A second flow hands the same contact over: one conversation, both runs wait on it.
        if PRIORITIES.index(event.priority) > PRIORITIES.index(conversation.priority):
            conversation.priority = event.priority
        events.append(_part("handed_again"))
    conversation.note = event.note or conversation.note
    conversation.run_id, conversation.activity_id = run_id, event.activity_id
    context = dict(conversation.context)
    context.update({k: v for k, v in event.context.items() if k in ("results", "trigger")})
    context["handoffs"] = [*context.get("handoffs", []), handoff]
    if flow_id is not None:
        context["flow_id"] = flow_id
    conversation.context = context
    conversation.updated_at = now
    session.flush()
    if created:
        assignee, team, why = _route(session, workspace_id, event)
        conversation.team_id = team.id if team is not None else None
        conversation.assignee_id = assignee
        events.extend(why)
    _link_ticket(session, conversation, contact, event, recent, now)
    if events:
        _event(session, conversation, "system", events, now)
    session.flush()
    return Handoff(conversation, True, turns)


def unseen_from(session: Session, contact_id: int, after_input_id: int) -> int:
    """The first message of the contact that the bot will not see because of a handoff
    requested by input ``after_input_id``: where the conversation's transcript starts when
    the step attaches none. Called by the runtime in the transaction that commits the step,
    while the inputs of the same batch are still pending: the contact's later message inputs
    (this batch's and the queued ones) are paused for the agent, and so is anything stored
    from now on."""
    start = next_message_id(session)
    later = [str(p["message_id"]) for p in session.scalars(select(RuntimeInput.payload).where(
        RuntimeInput.contact_id == contact_id, RuntimeInput.status == INPUT_PENDING,
        RuntimeInput.kind == "message", RuntimeInput.id > after_input_id))
        if isinstance(p, dict) and p.get("message_id")]
    if later:
        first = session.scalar(select(func.min(Message.id)).where(
            Message.contact_id == contact_id, Message.direction == "in",
            Message.provider_id.in_(later)))
        if first is not None:
            start = min(start, int(first))
    return start


def next_message_id(session: Session) -> int:
    """Where a conversation without an attached transcript starts: after every message so far."""
    return int(session.scalar(select(func.coalesce(func.max(Message.id), 0))) or 0) + 1


# What the system writes into a conversation, as parts an UI can translate (web i18n keys
# `inbox.ev.<code>`); the English text is what API readers see in `text`.
EVENT_TEXT = {
    "handed_again": "handed over again by another flow",
    "team_missing": "team '{team}' does not exist",
    "assigned_named": "assigned to user {user} (named in the flow)",
    "agent_not_member": "agent '{agent}' is not an active member",
    "assigned_by_team": "assigned to user {user} by team '{team}' ({rule})",
    "waiting_in_team": "waiting in team '{team}' for an agent",
    "waiting_unassigned": "waiting unassigned for an agent",
    "assigned": "assigned to user {user}",
    "transferred_to_user": "transferred to user {user}",
    "transferred_to_team": "transferred to team '{team}', assigned to user {user}",
    "transferred_to_team_unassigned": "transferred to team '{team}', unassigned",
    "closed": "closed: {resolution}",
    "closed_with_note": "closed: {resolution} — {note}",
}
Part = dict[str, Any]


def _part(code: str, **params: Any) -> Part:
    return {"code": code, **params}


def parts_text(parts: list[Part]) -> str:
    return "; ".join(EVENT_TEXT[p["code"]].format(**p) for p in parts)


def _route(session: Session, workspace_id: int,
           event: HandoffRequested) -> tuple[int | None, Team | None, list[Part]]:
    """(assignee, team, what happened): the agent named in the step wins; then the team's
    rule; without either the conversation waits unassigned."""
    team = find_team(session, workspace_id, event.team) if event.team else None
    notes: list[Part] = []
    if event.team and team is None:
        notes.append(_part("team_missing", team=event.team))
    if event.agent:
        agent = find_agent(session, workspace_id, event.agent)
        if agent is not None:
            return agent, team, [*notes, _part("assigned_named", user=agent)]
        notes.append(_part("agent_not_member", agent=event.agent))
    if team is not None:
        chosen = choose_assignee(session, team)
        if chosen is not None:
            notes.append(_part("assigned_by_team", user=chosen, team=team.name,
                               rule=team.assignment))
        else:
            notes.append(_part("waiting_in_team", team=team.name))
        return chosen, team, notes
    notes.append(_part("waiting_unassigned"))
    return None, None, notes


def _link_ticket(session: Session, conversation: Conversation, contact: Contact,
                 event: HandoffRequested, recent: list[Message], now: datetime) -> None:
    """Attach the run's own open ticket (a ``create_ticket`` step before the handoff) or,
    for an escalation (high or urgent priority), open one with the transcript."""
    if conversation.ticket_id is not None:
        return
    run_id = conversation.run_id
    for ticket in session.scalars(select(Ticket).where(
            Ticket.workspace_id == conversation.workspace_id, Ticket.contact_id == contact.id,
            Ticket.status.in_(("open", "pending"))).order_by(Ticket.id.desc())):
        if run_id and isinstance(ticket.context, dict) and ticket.context.get("run_id") == run_id:
            conversation.ticket_id = ticket.id
            return
    if event.priority not in TICKET_PRIORITIES:
        return
    team = session.get(Team, conversation.team_id) if conversation.team_id else None
    entries = [tickets.TranscriptEntry(direction="in" if m.direction == "in" else "out",
                                       text=m.text[:8000], at=m.created_at,
                                       channel=m.channel_kind[:32])
               for m in recent if m.text]
    subject = event.note.strip().splitlines()[0] if event.note.strip() else \
        f"Conversación con {contact.name or contact.phone or contact.email or contact.id}"
    ticket, _ = tickets.create_ticket(session, conversation.workspace_id, tickets.TicketIn(
        subject=subject[:300], description=event.note[:20000], contact_id=contact.id,
        priority=event.priority, assignee_id=conversation.assignee_id,
        team=team.name if team is not None else event.team, transcript=entries,
        context={"run_id": run_id, "conversation_id": conversation.id,
                 "node_id": event.node_id},
        key=f"handoff:{event.activity_id}"[:128]), now, source="handoff")
    conversation.ticket_id = ticket.id


def attach_summary(session: Session, workspace_id: int, activity_id: str, summary: str,
                   now: datetime) -> Conversation | None:
    """Store the AI summary computed for a handoff (outside the transaction that opened it)."""
    conversation = session.scalars(select(Conversation).where(
        Conversation.workspace_id == workspace_id,
        Conversation.activity_id == activity_id)).first()
    if conversation is None or not summary:
        return conversation
    conversation.summary = summary[:4000]
    conversation.updated_at = now
    if conversation.ticket_id is not None:
        ticket = session.get(Ticket, conversation.ticket_id)
        if ticket is not None:
            ticket.context = {**ticket.context, "summary": conversation.summary}
    return conversation


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    contact: Contact | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    window_hours: int

    def window_open(self, now: datetime) -> bool:
        if self.window_hours <= 0:
            return True
        return self.last_inbound_at is not None and \
            now - self.last_inbound_at < timedelta(hours=self.window_hours)


def _window_hours(kind: str) -> int:
    from cauce.channels import registry

    try:
        return int(registry.capabilities(kind).window_hours)
    except Exception:  # an adapter kind this build does not have: no window to respect
        return 0


def _message_scope(c: Conversation) -> Any:
    conds = [Message.workspace_id == c.workspace_id, Message.contact_id == c.contact_id,
             Message.id >= c.transcript_from_id]
    if c.channel_id is not None:
        conds.append(or_(Message.channel_id == c.channel_id, Message.channel_id.is_(None)))
    if c.closed_at is not None:
        conds.append(Message.created_at <= c.closed_at)
    return conds


def _views(session: Session, rows: list[Conversation]) -> list[ConversationView]:
    """Rows with their contact, last message and last inbound: three queries per page,
    whatever its size (grouped joins from the page's conversations to their messages)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    contacts = {c.id: c for c in session.scalars(
        select(Contact).where(Contact.id.in_([r.contact_id for r in rows])))}
    c = Conversation
    same_contact = (Message.workspace_id == c.workspace_id) & (Message.contact_id == c.contact_id)
    last: dict[int, datetime | None] = dict(session.execute(
        select(c.id, func.max(Message.created_at)).join(Message, same_contact & and_(
            Message.id >= c.transcript_from_id,
            or_(c.channel_id.is_(None), Message.channel_id == c.channel_id,
                Message.channel_id.is_(None)),
            or_(c.closed_at.is_(None), Message.created_at <= c.closed_at)))
        .where(c.id.in_(ids)).group_by(c.id)).all())
    # The window counts from the contact's last message on the channel, handoff or not.
    last_in: dict[int, datetime | None] = dict(session.execute(
        select(c.id, func.max(Message.created_at)).join(Message, same_contact & and_(
            Message.direction == "in",
            or_(and_(c.channel_id.is_not(None), Message.channel_id == c.channel_id),
                and_(c.channel_id.is_(None), Message.channel_kind == c.channel_kind))))
        .where(c.id.in_(ids)).group_by(c.id)).all())
    return [ConversationView(row, contacts.get(row.contact_id), last.get(row.id),
                             last_in.get(row.id), _window_hours(row.channel_kind))
            for row in rows]


def _user_id(principal: Principal) -> int | None:
    kind, _, ident = principal.actor.partition(":")
    return int(ident) if kind == "user" and ident.isdigit() else None


def _require_user(principal: Principal, what: str) -> int:
    user_id = _user_id(principal)
    if user_id is None:
        raise Invalid(f"{what} needs a signed-in user; an API key is nobody in particular",
                      field="view" if what.startswith("view") else "assignee_id")
    return user_id


def list_conversations(
    session: Session, principal: Principal, *, view: str = "all", status: str | None = None,
    team_id: int | None = None, assignee_id: int | None = None, priority: str | None = None,
    q: str | None = None, limit: int | None = None, cursor: str | None = None,
) -> Page[ConversationView]:
    ws = principal.workspace_id
    stmt = select(Conversation).where(Conversation.workspace_id == ws)
    if view not in VIEWS:
        raise Invalid(f"view: one of {', '.join(VIEWS)}", field="view")
    if view == "mine":
        stmt = stmt.where(Conversation.assignee_id == _require_user(principal, "view=mine"))
    elif view == "team":
        me = _require_user(principal, "view=team")
        stmt = stmt.where(Conversation.team_id.in_(
            select(TeamMember.team_id).where(TeamMember.user_id == me,
                                             TeamMember.workspace_id == ws)))
    elif view == "unassigned":
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    if status is not None:
        if status not in ("open", "closed"):
            raise Invalid("status: open or closed", field="status")
        stmt = stmt.where(Conversation.status == status)
    if team_id is not None:
        stmt = stmt.where(Conversation.team_id == team_id)
    if assignee_id is not None:
        stmt = stmt.where(Conversation.assignee_id == assignee_id)
    if priority is not None:
        if priority not in PRIORITIES:
            raise Invalid(f"priority: one of {', '.join(PRIORITIES)}", field="priority")
        stmt = stmt.where(Conversation.priority == priority)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(Conversation.contact_id.in_(
            select(Contact.id).where(Contact.workspace_id == ws, or_(
                func.lower(Contact.name).like(like), func.lower(Contact.email).like(like),
                Contact.phone.like(like)))))
    page = paginate(session, stmt, Conversation.id, limit, cursor)
    return Page(_views(session, page.items), page.next_cursor)


def get_conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation:
    row = session.get(Conversation, conversation_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"conversation {conversation_id} not found")
    return row


def conversation_view(session: Session, workspace_id: int,
                      conversation_id: int) -> ConversationView:
    return _views(session, [get_conversation(session, workspace_id, conversation_id)])[0]


@dataclass(frozen=True)
class TranscriptItem:
    kind: str  # message|note|event
    direction: str | None
    text: str
    author_id: int | None
    at: datetime
    status: str | None
    message_id: int | None = None
    note_id: int | None = None
    parts: list[Part] | None = None


def read_transcript(session: Session, workspace_id: int, conversation_id: int, *,
                    limit: int | None = None, cursor: str | None = None
                    ) -> Page[TranscriptItem]:
    """Messages and notes of the conversation, oldest first. The cursor counts the items
    already read, which stays stable because a conversation only grows at its end."""
    row = get_conversation(session, workspace_id, conversation_id)
    size = check_limit(limit)
    skip = decode_cursor(cursor)
    # A cursor past any real transcript must not become a LIMIT the database rejects.
    want = min(skip + size + 1, 2**31 - 1)
    messages = list(session.scalars(select(Message).where(*_message_scope(row))
                                    .order_by(Message.created_at, Message.id).limit(want)))
    notes = list(session.scalars(select(InboxNote).where(
        InboxNote.conversation_id == row.id).order_by(InboxNote.at, InboxNote.id).limit(
        want + len(messages))))
    authors = {n.message_key: n.author_id for n in notes if n.kind == "reply" and n.message_key}
    items = [TranscriptItem("message", m.direction, m.text, authors.get(m.key or ""),
                            m.created_at, m.status, message_id=m.id) for m in messages]
    items += [TranscriptItem(n.kind, None, n.text, n.author_id, n.at, None, note_id=n.id,
                             parts=n.parts)
              for n in notes if n.kind != "reply"]
    items.sort(key=lambda i: (i.at, i.kind != "message", i.message_id or i.note_id or 0))
    chunk = items[skip:skip + size + 1]
    more = len(chunk) > size
    return Page(chunk[:size], str(skip + size) if more else None)


# --------------------------------------------------------------------------------------------
# Acting
# --------------------------------------------------------------------------------------------


def _event(session: Session, conversation: Conversation, actor: str, text: str | list[Part],
           now: datetime, author_id: int | None = None, kind: str = "event",
           message_key: str | None = None) -> InboxNote:
    """A note, reply marker or event (``text`` given as parts for the system's events)."""
    parts = text if isinstance(text, list) else None
    note = InboxNote(workspace_id=conversation.workspace_id, conversation_id=conversation.id,
                     kind=kind, author_id=author_id, actor=actor[:254],
                     text=parts_text(parts) if parts is not None else text,
                     parts=parts, message_key=message_key, at=now)
    session.add(note)
    return note


def _open(session: Session, principal: Principal, conversation_id: int) -> Conversation:
    principal.require("agent")
    row = get_conversation(session, principal.workspace_id, conversation_id)
    if row.status != "open":
        raise Conflict(f"conversation {conversation_id} is closed", code="conversation_closed")
    return row


class TemplateReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512, examples=["seguimiento_pedido"])
    language: str = Field(default="es", min_length=2, max_length=16, examples=["es"])
    variables: dict[str, str | int | float] = Field(
        default_factory=dict, max_length=20,
        description="Body parameters: keys `1`, `2`... are positional, other keys named.",
        examples=[{"1": "Ana"}])


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=4096,
                             examples=["Hola, soy Laura. Ya reviso tu pedido."])
    template: TemplateReply | None = None


def _template_payload(t: TemplateReply) -> dict[str, Any]:
    positional = sorted(((int(k), v) for k, v in t.variables.items() if k.isdigit()))
    named = [{"type": "text", "name": k, "text": str(v)}
             for k, v in t.variables.items() if not k.isdigit()]
    body: list[Any] = [str(v) for _, v in positional] + named
    return {"name": t.name, "language": t.language, "body": body}


def _check_template(session: Session, conversation: Conversation, t: TemplateReply) -> None:
    """The template must be in the number's registry, approved, in that language."""
    query = select(WhatsAppTemplate).where(
        WhatsAppTemplate.workspace_id == conversation.workspace_id,
        WhatsAppTemplate.channel_id == conversation.channel_id,
        WhatsAppTemplate.name == t.name)
    rows = list(session.scalars(query))
    if not rows:
        raise Invalid(f"template: '{t.name}' is not in this number's template registry",
                      field="template.name")
    match = [r for r in rows if r.language == t.language or
             r.language.split("_")[0] == t.language]
    if not match:
        raise Invalid(f"template: '{t.name}' has no '{t.language}' version",
                      field="template.language")
    if not any(r.status == "approved" for r in match):
        raise Invalid(f"template: '{t.name}' is {match[0].status}, not approved",
                      field="template.name")


def _outbox_channel(session: Session, conversation: Conversation) -> str:
    if conversation.channel_id is not None:
        channel = session.get(Channel, conversation.channel_id)
        if channel is not None and len(channel.name) <= 32 and channel.status == "active":
            return channel.name  # this very number, even when the workspace has several
    return _FLOW_CHANNEL.get(conversation.channel_kind, conversation.channel_kind)


def reply(session: Session, principal: Principal, conversation_id: int, data: ReplyIn,
          now: datetime) -> Message:
    """Queue the agent's reply in the outbox (delivered like any message of a flow)."""
    row = _open(session, principal, conversation_id)
    if (data.text is None) == (data.template is None):
        raise Invalid("send either text or template", field="text")
    view = _views(session, [row])[0]
    if data.template is not None:
        if row.channel_kind not in ("whatsapp", "simulator"):
            raise Invalid("template: only WhatsApp conversations use templates",
                          field="template")
        if row.channel_kind == "whatsapp" and row.channel_id is not None:
            _check_template(session, row, data.template)
        kind, payload = "template", _template_payload(data.template)
    else:
        text = (data.text or "").strip()
        if not text:
            raise Invalid("text: cannot be empty", field="text")
        if not view.window_open(now):
            raise Conflict(
                f"the {view.window_hours}-hour customer service window is closed (the contact "
                "last wrote "
                + (view.last_inbound_at.isoformat() if view.last_inbound_at else "never")
                + "); only an approved template can be sent", field="text",
                code="outside_window")
        kind, payload = "text", {"text": text}
    author = _user_id(principal)
    key = f"inbox:{row.id}:{secrets.token_hex(8)}"
    channel = _outbox_channel(session, row)
    event = {"type": "message_requested", "key": key, "node_id": f"inbox:{row.id}",
             "channel": channel, "kind": kind,
             "category": "utility" if kind == "template" else "service",
             "payload": payload, "fallback_template": None, "respect_window": False}
    wall = datetime.now(UTC)  # delivery timing runs on the real clock (see processor)
    session.add(OutboxItem(
        workspace_id=row.workspace_id, contact_id=row.contact_id, run_id=None, key=key,
        kind="message_requested", channel=channel, payload=event, priority=PRIORITY_REPLY,
        status=OUTBOX_PENDING, attempts=0, uncertain=0, next_attempt_at=wall, created_at=now,
        updated_at=now))
    message = record_outbound(
        session, workspace_id=row.workspace_id, contact_id=row.contact_id,
        channel_kind=row.channel_kind, channel_id=row.channel_id, key=key, kind=kind,
        content=payload, now=now, category=str(event["category"]))
    _event(session, row, principal.actor, summary_text(kind, payload), now, author_id=author,
           kind="reply", message_key=key)
    if row.first_response_at is None:
        row.first_response_at = now
        row.first_response_seconds = max(0, int((now - row.opened_at).total_seconds()))
    if row.assignee_id is None and author is not None:
        row.assignee_id = author  # whoever answers an unassigned conversation owns it
    row.updated_at = now
    from cauce.runtime.wakeup import OUTBOX_CHANNEL, notify_after_commit

    notify_after_commit(session, OUTBOX_CHANNEL)
    audit(session, principal, now, "conversation.replied", f"conversation:{row.id}",
          kind=kind, key=key)
    return message


def add_note(session: Session, principal: Principal, conversation_id: int, text: str,
             now: datetime) -> InboxNote:
    principal.require("agent")
    row = get_conversation(session, principal.workspace_id, conversation_id)
    text = text.strip()
    if not text:
        raise Invalid("text: cannot be empty", field="text")
    note = _event(session, row, principal.actor, text, now, author_id=_user_id(principal),
                  kind="note")
    row.updated_at = now
    session.flush()
    audit(session, principal, now, "conversation.noted", f"conversation:{row.id}")
    return note


def _member(session: Session, workspace_id: int, user_id: int, field: str) -> None:
    if session.scalar(select(Membership.id).join(User, User.id == Membership.user_id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id,
            User.disabled_at.is_(None))) is None:
        raise Invalid(f"{field}: user {user_id} is not an active member of this workspace",
                      field=field)


def assign(session: Session, principal: Principal, conversation_id: int,
           assignee_id: int | None, now: datetime) -> Conversation:
    """Give the conversation to a member (``None``: the caller takes it)."""
    row = _open(session, principal, conversation_id)
    target = assignee_id if assignee_id is not None else _require_user(principal,
                                                                       "taking a conversation")
    _member(session, principal.workspace_id, target, "assignee_id")
    if row.assignee_id != target:
        row.assignee_id = target
        _event(session, row, principal.actor, [_part("assigned", user=target)], now,
               author_id=_user_id(principal))
        _sync_ticket(session, row, now)
        audit(session, principal, now, "conversation.assigned", f"conversation:{row.id}",
              assignee_id=target)
    row.updated_at = now
    return row


def transfer(session: Session, principal: Principal, conversation_id: int, *,
             assignee_id: int | None, team_id: int | None, now: datetime) -> Conversation:
    """Hand the conversation to another agent, or to a team (whose rule picks the agent)."""
    row = _open(session, principal, conversation_id)
    if (assignee_id is None) == (team_id is None):
        raise Invalid("send either assignee_id or team_id", field="assignee_id")
    if assignee_id is not None:
        _member(session, principal.workspace_id, assignee_id, "assignee_id")
        row.assignee_id = assignee_id
        parts = [_part("transferred_to_user", user=assignee_id)]
    else:
        assert team_id is not None
        team = session.get(Team, team_id)
        if team is None or team.workspace_id != principal.workspace_id:
            raise Invalid(f"team_id: team {team_id} not found", field="team_id")
        row.team_id = team.id
        row.assignee_id = choose_assignee(session, team)
        parts = [_part("transferred_to_team", team=team.name, user=row.assignee_id)
                 if row.assignee_id else _part("transferred_to_team_unassigned", team=team.name)]
    _event(session, row, principal.actor, parts, now, author_id=_user_id(principal))
    _sync_ticket(session, row, now)
    row.updated_at = now
    audit(session, principal, now, "conversation.transferred", f"conversation:{row.id}",
          assignee_id=row.assignee_id, team_id=row.team_id)
    return row


def _sync_ticket(session: Session, row: Conversation, now: datetime) -> None:
    if row.ticket_id is None:
        return
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is None:
        return
    ticket.assignee_id = row.assignee_id
    team = session.get(Team, row.team_id) if row.team_id else None
    if team is not None:
        ticket.team = team.name
    ticket.updated_at = now


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                            examples=["resolved"],
                            description="`resolved`, `unresolved` or your own word; the flow "
                            "reads it as `results.<handoff step>.resolution`.")
    note: str = Field(default="", max_length=4000)


def close(session: Session, principal: Principal, conversation_id: int, data: CloseIn,
          now: datetime) -> Conversation:
    """Close the conversation and hand every waiting run back (``returned`` exit)."""
    row = _open(session, principal, conversation_id)
    row.status = "closed"
    row.closed_at = now
    row.resolution = data.resolution
    row.resolution_seconds = max(0, int((now - row.opened_at).total_seconds()))
    row.updated_at = now
    note = data.note.strip()
    closed = (_part("closed_with_note", resolution=data.resolution, note=note) if note
              else _part("closed", resolution=data.resolution))
    _event(session, row, principal.actor, [closed], now, author_id=_user_id(principal))
    if row.ticket_id is not None:
        ticket = session.get(Ticket, row.ticket_id)
        if ticket is not None and ticket.status in ("open", "pending"):
            ticket.status = "solved" if data.resolution == "resolved" else "closed"
            ticket.closed_at = now
            ticket.updated_at = now
    result = {"resolution": data.resolution, "note": data.note, "conversation_id": row.id,
              "assignee_id": row.assignee_id, "team_id": row.team_id,
              "ticket_id": row.ticket_id, "first_response_seconds": row.first_response_seconds,
              "resolution_seconds": row.resolution_seconds}
    from cauce.runtime.ingest import submit_input

    for handoff in row.context.get("handoffs", []):
        activity = handoff.get("activity_id") if isinstance(handoff, dict) else None
        if activity:
            submit_input(session, workspace_id=row.workspace_id, contact_id=row.contact_id,
                         input=ActivityResult(activity_id=str(activity), ok=True, data=result),
                         dedupe_key=f"handoff-closed:{activity}"[:200], now=now)
    audit(session, principal, now, "conversation.closed", f"conversation:{row.id}",
          resolution=data.resolution)
    return row

