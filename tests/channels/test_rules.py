"""Contact rules as pure functions: window, fallback, opt-out, consent, caps, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cauce.channels.rules import (
    ContactFacts,
    RulesConfig,
    decide,
    free_entry_point_until,
    keyword_action,
    normalize_keyword,
    window_open,
)
from cauce.engine.business_time import BusinessWindow

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 12:00 in Buenos Aires
CFG = RulesConfig()


def facts(**kw: object) -> ContactFacts:
    return ContactFacts(phone="+5491122334455", **kw)  # type: ignore[arg-type]


def test_window_closed_25_hours_ago_with_fallback_sends_the_template() -> None:
    d = decide(kind="text", category="service", now=NOW, config=CFG, window_hours=24,
               facts=facts(last_inbound_at=NOW - timedelta(hours=25)), has_fallback=True)
    assert d.action == "fallback_template" and d.code == "window_closed"
    assert "25 hours ago" in d.reason


def test_window_closed_without_fallback_fails_with_window_closed() -> None:
    d = decide(kind="buttons", category="service", now=NOW, config=CFG, window_hours=24,
               facts=facts(last_inbound_at=NOW - timedelta(hours=25)))
    assert d.action == "fail"
    assert d.reason.startswith("window closed: the contact's last message was 25 hours ago")


def test_never_wrote_counts_as_closed() -> None:
    d = decide(kind="text", category="utility", now=NOW, config=CFG, window_hours=24,
               facts=facts())
    assert d.action == "fail" and "never written" in d.reason


def test_inside_the_window_free_form_goes_and_templates_always_go() -> None:
    open_facts = facts(last_inbound_at=NOW - timedelta(hours=23, minutes=59))
    assert decide(kind="text", category="service", now=NOW, config=CFG, window_hours=24,
                  facts=open_facts).action == "send"
    assert decide(kind="template", category="utility", now=NOW, config=CFG, window_hours=24,
                  facts=facts()).action == "send"


def test_channels_without_a_window_ignore_it() -> None:
    assert decide(kind="sms", category="service", now=NOW, config=CFG, window_hours=0,
                  facts=facts()).action == "send"


def test_window_boundaries() -> None:
    assert window_open(NOW - timedelta(hours=24) + timedelta(seconds=1), NOW)
    assert not window_open(NOW - timedelta(hours=24), NOW)
    assert not window_open(None, NOW)


def test_opted_out_contacts_get_no_marketing_but_replies() -> None:
    f = facts(opted_out_marketing=True, last_inbound_at=NOW - timedelta(hours=1))
    d = decide(kind="template", category="marketing", now=NOW, config=CFG, window_hours=24,
               facts=f)
    assert d.action == "suppress" and d.code == "opted_out"
    assert decide(kind="text", category="service", now=NOW, config=CFG, window_hours=24,
                  facts=f).action == "send"


def test_consent_per_channel() -> None:
    withdrawn = facts(consent={"status": "opted_out"}, last_inbound_at=NOW - timedelta(days=3))
    d = decide(kind="template", category="utility", now=NOW, config=CFG, window_hours=24,
               facts=withdrawn)
    assert d.action == "suppress" and "only replies" in d.reason
    strict = RulesConfig(require_marketing_consent=True)
    assert decide(kind="template", category="marketing", now=NOW, config=strict,
                  facts=facts()).code == "no_consent"
    assert decide(kind="template", category="marketing", now=NOW, config=strict,
                  facts=facts(consent={"status": "opted_in"})).action == "send"


def test_frequency_caps() -> None:
    cfg = RulesConfig(marketing_per_day=1, marketing_per_week=3)
    day = decide(kind="template", category="marketing", now=NOW, config=cfg,
                 facts=facts(marketing_last_day=1, marketing_last_week=1))
    assert day.action == "suppress" and "today (limit 1)" in day.reason
    week = decide(kind="template", category="marketing", now=NOW, config=cfg,
                  facts=facts(marketing_last_day=0, marketing_last_week=3))
    assert week.action == "suppress" and "this week (limit 3)" in week.reason
    assert decide(kind="template", category="utility", now=NOW, config=cfg,
                  facts=facts(marketing_last_day=9)).action == "send"


def test_quiet_hours_defer_to_the_contacts_morning() -> None:
    window = BusinessWindow.from_config({"weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                         "start": "09:00", "end": "20:00"})
    cfg = RulesConfig(communication_window=window)
    late = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 03:00 in Buenos Aires
    d = decide(kind="template", category="marketing", now=late, config=cfg, facts=facts())
    assert d.action == "defer"
    assert d.not_before == datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # 09:00 local
    assert "America/Argentina/Buenos_Aires" in d.reason
    # A service reply is not held back unless the step asks for the window.
    assert decide(kind="template", category="utility", now=late, config=cfg,
                  facts=facts()).action == "send"
    assert decide(kind="template", category="utility", now=late, config=cfg, facts=facts(),
                  respect_window=True).action == "defer"


def test_quiet_hours_use_the_timezone_from_the_phone() -> None:
    window = BusinessWindow.from_config({"weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                         "start": "09:00", "end": "20:00"})
    cfg = RulesConfig(communication_window=window)
    madrid = ContactFacts(phone="+34612345678")
    at = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Madrid, 04:00 in Buenos Aires
    d = decide(kind="template", category="marketing", now=at, config=cfg, facts=madrid)
    assert d.not_before == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_free_entry_point_after_a_click_to_whatsapp_ad() -> None:
    clicked = NOW - timedelta(hours=2)
    assert free_entry_point_until(clicked, NOW) == NOW + timedelta(hours=72)
    assert free_entry_point_until(clicked, clicked + timedelta(hours=25)) is None
    first_reply = decide(kind="text", category="service", now=NOW, config=CFG, window_hours=24,
                         facts=facts(last_inbound_at=clicked, referral_at=clicked))
    assert first_reply.action == "send" and first_reply.free_entry_point
    later = NOW + timedelta(hours=48)
    template = decide(kind="template", category="marketing", now=later, config=CFG,
                      window_hours=24, facts=facts(last_inbound_at=clicked, referral_at=clicked,
                                                   first_reply_after_referral_at=NOW))
    assert template.free_entry_point
    expired = decide(kind="template", category="marketing", now=NOW + timedelta(hours=73),
                     config=CFG, window_hours=24,
                     facts=facts(referral_at=clicked, first_reply_after_referral_at=NOW))
    assert not expired.free_entry_point


@pytest.mark.parametrize(("text", "expected"), [
    ("STOP", "stop"), ("Baja", "stop"), ("¡CANCELAR!", "stop"), ("  baja.  ", "stop"),
    ("no más", "stop"), ("ALTA", "resume"), ("quiero cancelar mi pedido", None), ("", None),
])
def test_keywords(text: str, expected: str | None) -> None:
    assert keyword_action(text, CFG) == expected


def test_keywords_are_configurable_per_workspace() -> None:
    cfg = RulesConfig.from_settings({"stop_keywords": ["SALIR"], "marketing_per_day": None},
                                    timezone="UTC", country=None)
    assert keyword_action("salir", cfg) == "stop" and keyword_action("baja", cfg) is None
    assert cfg.marketing_per_day is None
    assert normalize_keyword("Ñandú!") == "nandu"


@pytest.mark.parametrize(("settings", "field"), [
    ({"stop_keywords": "baja"}, "stop_keywords"),
    ({"marketing_per_week": -1}, "marketing_per_week"),
    ({"communication_window": {"weekdays": [], "start": "09:00", "end": "20:00"}},
     "communication_window"),
])
def test_bad_rule_settings_name_the_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RulesConfig.from_settings(settings, timezone="UTC", country=None)
