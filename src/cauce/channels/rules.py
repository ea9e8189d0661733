"""Contact rules, checked before anything is sent. Pure functions: the runtime (through
``cauce.services.messages.check_rules``) gathers the facts and acts on the :class:`Decision`.

- consent per channel and marketing opt-out (STOP / BAJA / CANCELAR keywords, configurable per
  workspace, and WhatsApp's own ``user_preferences: stop``): opted-out contacts get no
  marketing, only replies inside the window;
- the customer-service window (24 hours from the contact's last message to this number);
  outside it only templates go: the decision is "fallback template" or "fail: window closed";
- the 72-hour free entry point after a click-to-WhatsApp ad, recorded for cost reporting;
- frequency caps for marketing per day and per week;
- quiet hours: a message that must respect the communication window waits for it, in the
  contact's timezone (from the phone number when unknown).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from cauce import limits
from cauce.engine.business_time import (
    BusinessTimeError,
    BusinessWindow,
    next_business_time,
    timezone_for_phone,
)

DEFAULT_STOP_KEYWORDS = ("stop", "baja", "cancelar", "unsubscribe", "parar", "no mas")
DEFAULT_RESUME_KEYWORDS = ("start", "alta", "reanudar", "unstop")
FREE_FORM_KINDS = frozenset({"text", "buttons", "list", "media"})
BUSINESS_INITIATED = frozenset({"marketing", "utility", "authentication"})

Action = Literal["send", "fallback_template", "fail", "suppress", "defer"]


@dataclass(frozen=True)
class RulesConfig:
    """A workspace's rules (``workspace.settings["contact_rules"]``)."""

    stop_keywords: frozenset[str] = frozenset(DEFAULT_STOP_KEYWORDS)
    resume_keywords: frozenset[str] = frozenset(DEFAULT_RESUME_KEYWORDS)
    marketing_per_day: int | None = 2
    marketing_per_week: int | None = 5
    require_marketing_consent: bool = False
    communication_window: BusinessWindow | None = None
    timezone: str = "America/Argentina/Buenos_Aires"
    country: str | None = "AR"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, timezone: str,
                      country: str | None) -> RulesConfig:
        """Read ``{"stop_keywords": [...], "marketing_per_day": 1, "marketing_per_week": 3,
        "require_marketing_consent": true, "communication_window": {"weekdays": [...],
        "start": "09:00", "end": "20:00"}}``; raises ``ValueError`` naming the field."""
        raw = dict(settings or {})

        def words(key: str, default: tuple[str, ...]) -> frozenset[str]:
            value = raw.get(key, default)
            if not isinstance(value, list | tuple) or not all(isinstance(w, str) for w in value):
                raise ValueError(f"{key}: a list of words")
            return frozenset(normalize_keyword(w) for w in value if w.strip())

        def cap(key: str, default: int | None) -> int | None:
            value = raw.get(key, default)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key}: a whole number of messages, or null for no cap")
            return value

        window = raw.get("communication_window")
        try:
            parsed = BusinessWindow.from_config(window) if window else None
        except BusinessTimeError as exc:
            raise ValueError(f"communication_window: {exc}") from None
        return cls(
            stop_keywords=words("stop_keywords", DEFAULT_STOP_KEYWORDS),
            resume_keywords=words("resume_keywords", DEFAULT_RESUME_KEYWORDS),
            marketing_per_day=cap("marketing_per_day", 2),
            marketing_per_week=cap("marketing_per_week", 5),
            require_marketing_consent=bool(raw.get("require_marketing_consent", False)),
            communication_window=parsed, timezone=timezone, country=country)


@dataclass(frozen=True)
class ContactFacts:
    """What the rules need to know about one contact on one channel/number."""

    phone: str | None = None
    timezone: str | None = None
    country: str | None = None
    consent: Mapping[str, Any] = field(default_factory=dict)  # this channel's consent entry
    opted_out_marketing: bool = False
    last_inbound_at: datetime | None = None  # on this number
    referral_at: datetime | None = None  # last inbound that came from a click-to-WhatsApp ad
    first_reply_after_referral_at: datetime | None = None
    marketing_last_day: int = 0
    marketing_last_week: int = 0


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    code: str = ""
    not_before: datetime | None = None  # for "defer"
    free_entry_point: bool = False  # inside the 72 h free window (cost reporting)

    @property
    def may_send(self) -> bool:
        return self.action == "send"


# --------------------------------------------------------------------------------------------


def normalize_keyword(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: "¡BAJA!" → "baja"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


def keyword_action(text: str, config: RulesConfig) -> Literal["stop", "resume"] | None:
    """A message that is only an opt-out (or opt-in) keyword. Whole-message match only, so
    "no quiero cancelar mi pedido" is not an opt-out."""
    word = normalize_keyword(text)
    if not word:
        return None
    if word in config.stop_keywords:
        return "stop"
    if word in config.resume_keywords:
        return "resume"
    return None


def window_open(last_inbound_at: datetime | None, now: datetime,
                hours: int = limits.WHATSAPP_WINDOW_HOURS) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < timedelta(hours=hours)


def window_closes_at(last_inbound_at: datetime | None,
                     hours: int = limits.WHATSAPP_WINDOW_HOURS) -> datetime | None:
    return last_inbound_at + timedelta(hours=hours) if last_inbound_at else None


def free_entry_point_until(referral_at: datetime | None,
                           first_reply_at: datetime | None) -> datetime | None:
    """End of the 72-hour free entry point: opened when the business replies within 24 hours
    to a contact who came from a click-to-WhatsApp ad."""
    if referral_at is None or first_reply_at is None:
        return None
    if first_reply_at < referral_at or \
            first_reply_at - referral_at > timedelta(hours=limits.WHATSAPP_WINDOW_HOURS):
        return None
    return first_reply_at + timedelta(hours=limits.WHATSAPP_FREE_ENTRY_POINT_HOURS)


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} hours" if hours != 1 else "1 hour"


def decide(
    *, kind: str, category: str, now: datetime, facts: ContactFacts, config: RulesConfig,
    window_hours: int = 0, has_fallback: bool = False, respect_window: bool = False,
    channel: str = "whatsapp",
) -> Decision:
    """May this message go now? ``window_hours`` comes from the channel's capabilities (0: the
    channel has no service window); ``respect_window`` asks for the communication window
    (quiet hours), which marketing always respects."""
    free_until = free_entry_point_until(
        facts.referral_at, facts.first_reply_after_referral_at or
        (now if facts.referral_at and window_open(facts.referral_at, now) else None))
    free = free_until is not None and now < free_until
    consent_status = str(facts.consent.get("status") or "") if facts.consent else ""
    is_marketing = category == "marketing"
    in_window = window_open(facts.last_inbound_at, now, window_hours) if window_hours else True

    if is_marketing:
        if facts.opted_out_marketing:
            return Decision("suppress", "the contact opted out of marketing messages",
                            "opted_out")
        if consent_status == "opted_out":
            return Decision("suppress", f"the contact withdrew consent for {channel}",
                            "no_consent")
        if config.require_marketing_consent and consent_status != "opted_in":
            return Decision("suppress", f"no marketing consent recorded for {channel}",
                            "no_consent")
        if config.marketing_per_day is not None and \
                facts.marketing_last_day >= config.marketing_per_day:
            return Decision("suppress", f"frequency cap: already {facts.marketing_last_day} "
                            f"marketing message(s) today (limit {config.marketing_per_day})",
                            "frequency_cap")
        if config.marketing_per_week is not None and \
                facts.marketing_last_week >= config.marketing_per_week:
            return Decision("suppress", f"frequency cap: already {facts.marketing_last_week} "
                            f"marketing messages this week (limit {config.marketing_per_week})",
                            "frequency_cap")
    elif consent_status == "opted_out" and not in_window:
        # Opted out of the channel: replies to the contact only.
        return Decision("suppress", f"the contact withdrew consent for {channel}; only replies "
                        "inside the conversation window are allowed", "no_consent")

    if window_hours and kind in FREE_FORM_KINDS and not in_window:
        if facts.last_inbound_at is None:
            detail = "the contact has never written to this number"
        else:
            detail = f"the contact's last message was {_ago(now - facts.last_inbound_at)} ago"
        if has_fallback:
            return Decision("fallback_template", f"window closed: {detail}; sending the "
                            "template instead", "window_closed", free_entry_point=free)
        return Decision("fail", f"window closed: {detail}; only an approved template can be "
                        "sent", "window_closed")

    if (respect_window or is_marketing) and config.communication_window is not None:
        tz = facts.timezone or (timezone_for_phone(facts.phone, config.timezone)
                                if facts.phone else config.timezone)
        country = facts.country or config.country
        resume = next_business_time(now, config.communication_window, tz, country)
        if resume > now:
            return Decision("defer", f"outside the communication window in {tz}; sending at "
                            f"{resume.isoformat()}", "quiet_hours", not_before=resume,
                            free_entry_point=free)
    return Decision("send", free_entry_point=free)
