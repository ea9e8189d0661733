"""Business-time waits: examples pinned to real calendars, and property tests against an
independent oracle (the earliest allowed instant, DST and holidays included)."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauce.engine import business_time
from cauce.engine.business_time import (
    END_OF_DAY,
    BusinessTimeError,
    BusinessWindow,
    NoBusinessTimeError,
    country_for_phone,
    next_business_time,
    timezone_for_phone,
)

BA = "America/Argentina/Buenos_Aires"
NY = "America/New_York"
MADRID = "Europe/Madrid"
SANTIAGO = "America/Santiago"
MON_FRI = frozenset(range(5))
SUNDAY = frozenset({6})
SATURDAY = frozenset({5})
# The seed's "Espera Programada": resume Monday to Friday, 05:00 to 17:00.
SEED_WINDOW = BusinessWindow(MON_FRI, time(5), time(17))
SEED_WINDOW_HOLIDAYS = BusinessWindow(MON_FRI, time(5), time(17), skip_holidays=True)


def local(tz: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the seed's reactivation wait ---------------------------------------------------------------


def test_seed_seven_days_from_friday_evening_resumes_monday_at_five() -> None:
    entered = local(BA, 2026, 11, 13, 18, 0)  # Friday, after the window closed
    due = next_business_time(entered + timedelta(days=7), SEED_WINDOW, BA, "AR")
    assert due == utc(2026, 11, 23, 8, 0)  # Monday 05:00 in Buenos Aires (UTC-3)
    assert due.tzinfo is UTC
    assert due.astimezone(ZoneInfo(BA)).strftime("%A %H:%M") == "Monday 05:00"


def test_seed_with_holidays_skips_argentinas_national_sovereignty_day() -> None:
    # 2026-11-23 is Día de la Soberanía Nacional, so the Monday is skipped too.
    entered = local(BA, 2026, 11, 13, 18, 0)
    due = next_business_time(entered + timedelta(days=7), SEED_WINDOW_HOLIDAYS, BA, "AR")
    assert due == local(BA, 2026, 11, 24, 5, 0)


def test_seven_days_landing_on_a_saturday_resume_on_monday() -> None:
    entered = local(BA, 2026, 3, 7, 10, 0)  # a Saturday; seven days later is Saturday again
    due = next_business_time(entered + timedelta(days=7), SEED_WINDOW, BA, "AR")
    assert due == local(BA, 2026, 3, 16, 5, 0)


def test_inside_the_window_resumes_at_once() -> None:
    earliest = local(BA, 2026, 3, 11, 10, 17, 23, 456)  # Wednesday morning
    due = next_business_time(earliest, SEED_WINDOW, BA, "AR")
    assert due == earliest
    assert due.tzinfo is UTC


def test_start_is_inclusive_and_end_exclusive() -> None:
    opening = local(BA, 2026, 3, 11, 5, 0)
    assert next_business_time(opening, SEED_WINDOW, BA, None) == opening
    just_before = local(BA, 2026, 3, 11, 4, 59, 59, 999_999)
    assert next_business_time(just_before, SEED_WINDOW, BA, None) == opening
    closing = local(BA, 2026, 3, 11, 17, 0)
    assert next_business_time(closing, SEED_WINDOW, BA, None) == local(BA, 2026, 3, 12, 5, 0)
    assert SEED_WINDOW.contains(local(BA, 2026, 3, 11, 16, 59, 59), BA, None)
    assert not SEED_WINDOW.contains(closing, BA, None)


def test_without_a_window_the_earliest_time_is_the_answer_in_utc() -> None:
    earliest = local(BA, 2026, 3, 14, 23, 0)
    due = next_business_time(earliest, None, BA, None)
    assert due == earliest and due.tzinfo is UTC


def test_same_instant_in_any_representation_gives_the_same_answer() -> None:
    earliest = local(BA, 2026, 11, 20, 18, 0)
    in_tokyo = earliest.astimezone(ZoneInfo("Asia/Tokyo"))
    assert next_business_time(in_tokyo, SEED_WINDOW, BA, "AR") == next_business_time(
        earliest, SEED_WINDOW, BA, "AR"
    )


def test_the_contacts_timezone_decides_not_the_servers() -> None:
    earliest = utc(2026, 3, 11, 18, 0)  # 15:00 in Buenos Aires, 19:00 in Madrid
    assert next_business_time(earliest, SEED_WINDOW, BA, None) == earliest
    assert next_business_time(earliest, SEED_WINDOW, MADRID, None) == local(MADRID, 2026, 3, 12, 5)


def test_a_window_until_midnight() -> None:
    window = BusinessWindow.from_config({"weekdays": ["sat"], "start": "22:00", "end": "24:00"})
    assert window.end == END_OF_DAY
    late = local(BA, 2026, 3, 14, 23, 59, 59, 999_999)
    assert next_business_time(late, window, BA, None) == late
    assert not window.contains(local(BA, 2026, 3, 15, 0, 0), BA, None)


# -- holidays --------------------------------------------------------------------------------


def test_argentina_may_revolution_day_is_skipped() -> None:
    earliest = local(BA, 2026, 5, 22, 18, 0)  # Friday evening; Monday 25 May is a holiday
    assert next_business_time(earliest, SEED_WINDOW, BA, "AR") == local(BA, 2026, 5, 25, 5)
    assert next_business_time(earliest, SEED_WINDOW_HOLIDAYS, BA, "AR") == local(
        BA, 2026, 5, 26, 5
    )
    assert not SEED_WINDOW_HOLIDAYS.contains(local(BA, 2026, 5, 25, 10), BA, "AR")
    assert SEED_WINDOW.contains(local(BA, 2026, 5, 25, 10), BA, "AR")


def test_mexico_independence_day_is_skipped() -> None:
    tz = "America/Mexico_City"
    earliest = local(tz, 2026, 9, 15, 18, 0)  # Wednesday 16 September is a holiday
    assert next_business_time(earliest, SEED_WINDOW_HOLIDAYS, tz, "MX") == local(
        tz, 2026, 9, 17, 5
    )


def test_spain_national_day_is_skipped() -> None:
    earliest = local(MADRID, 2026, 10, 9, 18, 0)  # Friday; Monday 12 October is a holiday
    assert next_business_time(earliest, SEED_WINDOW_HOLIDAYS, MADRID, "ES") == utc(
        2026, 10, 13, 3, 0
    )  # Tuesday 05:00 CEST


def test_colombia_holy_thursday_and_good_friday_are_skipped() -> None:
    tz = "America/Bogota"
    earliest = local(tz, 2026, 4, 1, 18, 0)
    assert next_business_time(earliest, SEED_WINDOW_HOLIDAYS, tz, "co") == local(
        tz, 2026, 4, 6, 5
    )


def test_observed_holidays_count_as_days_off() -> None:
    # 4 July 2026 is a Saturday; the United States observe it on Friday 3 July.
    earliest = local(NY, 2026, 7, 2, 18, 0)
    assert next_business_time(earliest, SEED_WINDOW_HOLIDAYS, NY, "US") == local(NY, 2026, 7, 6, 5)


def test_holidays_across_new_year_use_each_years_calendar() -> None:
    earliest = local(MADRID, 2026, 12, 31, 18, 0)  # 1 January is a holiday; then the weekend
    due = next_business_time(earliest, SEED_WINDOW_HOLIDAYS, MADRID, "ES")
    assert due == local(MADRID, 2027, 1, 4, 5)


# -- daylight saving time ---------------------------------------------------------------------


def test_new_york_spring_forward_missing_start_resolves_to_the_transition() -> None:
    # 2026-03-08 02:00 EST jumps to 03:00 EDT: a 02:30 start does not exist that day.
    window = BusinessWindow(SUNDAY, time(2, 30), time(4))
    due = next_business_time(local(NY, 2026, 3, 7, 12), window, NY, None)
    assert due == utc(2026, 3, 8, 7, 0)
    assert due.astimezone(ZoneInfo(NY)).time() == time(3, 0)


def test_new_york_spring_forward_window_entirely_in_the_gap_moves_a_week() -> None:
    window = BusinessWindow(SUNDAY, time(2, 0), time(2, 30))
    due = next_business_time(local(NY, 2026, 3, 7, 12), window, NY, None)
    assert due == local(NY, 2026, 3, 15, 2, 0)


def test_new_york_fall_back_ambiguous_start_uses_the_first_occurrence() -> None:
    # 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens twice.
    window = BusinessWindow(SUNDAY, time(1, 30), time(5))
    due = next_business_time(local(NY, 2026, 10, 31, 12), window, NY, None)
    assert due == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert due.astimezone(ZoneInfo(NY)).fold == 0
    # The repeated hour is on the window's wall clock too.
    assert window.contains(local(NY, 2026, 11, 1, 1, 45, fold=1), NY, None)


def test_new_york_fall_back_repeated_hour_reopens_a_closed_window() -> None:
    window = BusinessWindow(SUNDAY, time(0, 0), time(1, 30))
    after_first_pass = local(NY, 2026, 11, 1, 1, 45, fold=0)  # 05:45 UTC, outside
    due = next_business_time(after_first_pass, window, NY, None)
    assert due == utc(2026, 11, 1, 6, 0)  # 01:00 EST, the wall clock is back inside
    assert due.astimezone(ZoneInfo(NY)).fold == 1


def test_madrid_spring_forward_and_fall_back() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC).
    spring = BusinessWindow(SUNDAY, time(2, 30), time(9))
    assert next_business_time(local(MADRID, 2026, 3, 28, 20), spring, MADRID, "ES") == utc(
        2026, 3, 29, 1, 0
    )
    # 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC): 02:15 happens twice, first at 00:15 UTC.
    autumn = BusinessWindow(SUNDAY, time(2, 15), time(9))
    assert next_business_time(local(MADRID, 2026, 10, 24, 20), autumn, MADRID, "ES") == utc(
        2026, 10, 25, 0, 15
    )


def test_offset_of_the_resume_day_is_used_not_the_offset_of_the_start() -> None:
    # Friday before Madrid's spring-forward: Monday 05:00 is CEST (UTC+2), not CET.
    due = next_business_time(local(MADRID, 2026, 3, 27, 18), SEED_WINDOW, MADRID, "ES")
    assert due == utc(2026, 3, 30, 3, 0)
    due = next_business_time(local(NY, 2026, 10, 30, 18), SEED_WINDOW, NY, "US")
    assert due == utc(2026, 11, 2, 10, 0)  # Monday 05:00 EST after the fall-back


def test_santiago_spring_forward_at_midnight() -> None:
    # 2026-09-06 00:00 -04 jumps to 01:00 -03: that Sunday starts at 01:00.
    window = BusinessWindow(SUNDAY, time(0, 0), time(12))
    due = next_business_time(local(SANTIAGO, 2026, 9, 5, 20), window, SANTIAGO, "CL")
    assert due == utc(2026, 9, 6, 4, 0)
    assert due.astimezone(ZoneInfo(SANTIAGO)).time() == time(1, 0)


def test_santiago_fall_back_at_midnight_repeats_saturdays_last_hour() -> None:
    # 2026-04-05 00:00 -03 falls back to Saturday 23:00 -04 (03:00 UTC).
    window = BusinessWindow(SATURDAY, time(22, 0), time(23, 30))
    after_first_pass = local(SANTIAGO, 2026, 4, 4, 23, 45)  # 02:45 UTC
    due = next_business_time(after_first_pass, window, SANTIAGO, "CL")
    assert due == utc(2026, 4, 5, 3, 0)
    assert due.astimezone(ZoneInfo(SANTIAGO)).replace(tzinfo=None) == datetime(2026, 4, 4, 23)


def test_mexico_city_has_no_daylight_saving_any_more() -> None:
    tz = "America/Mexico_City"
    # First Sunday of April was the old spring-forward day; 02:30 exists since 2023.
    window = BusinessWindow(SUNDAY, time(2, 30), time(4))
    assert next_business_time(local(tz, 2026, 4, 4, 12), window, tz, "MX") == utc(
        2026, 4, 5, 8, 30
    )


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "words"),
    [
        (lambda: BusinessWindow(frozenset(), time(5), time(17)), "weekdays", "at least one"),
        (lambda: BusinessWindow(frozenset({7}), time(5), time(17)), "weekdays", "0 = Monday"),
        (lambda: BusinessWindow(MON_FRI, time(17), time(5)), "end", "must be after start"),
        (lambda: BusinessWindow(MON_FRI, time(9), time(9)), "end", "must be after start"),
        (
            lambda: BusinessWindow(MON_FRI, time(5, tzinfo=UTC), time(17)),
            "start",
            "without a timezone",
        ),
        (lambda: BusinessWindow(MON_FRI, time(5), time(17), "yes"), "skip_holidays", "true or"),
    ],
)
def test_invalid_windows_are_refused_with_the_field_named(
    build: Callable[[], object], field: str, words: str
) -> None:
    with pytest.raises(BusinessTimeError, match=words) as caught:
        build()
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus_Mons'") as caught:
        next_business_time(utc(2026, 1, 5), SEED_WINDOW, "Mars/Olympus_Mons", None)
    assert caught.value.field == "timezone"  # type: ignore[attr-defined]
    with pytest.raises(BusinessTimeError, match="timezone"):
        SEED_WINDOW.contains(utc(2026, 1, 5), "../../etc/passwd", None)
    with pytest.raises(BusinessTimeError, match="timezone is empty"):
        next_business_time(utc(2026, 1, 5), None, "", None)


def test_unknown_country_is_refused_only_when_holidays_are_skipped() -> None:
    with pytest.raises(BusinessTimeError, match="unknown country code 'XX'") as caught:
        next_business_time(utc(2026, 1, 5), SEED_WINDOW_HOLIDAYS, BA, "XX")
    assert caught.value.field == "country"
    with pytest.raises(BusinessTimeError, match="needs the contact's or the workspace's country"):
        next_business_time(utc(2026, 1, 5), SEED_WINDOW_HOLIDAYS, BA, None)
    # Without skip_holidays the country is not consulted at all.
    assert next_business_time(utc(2026, 1, 5, 12), SEED_WINDOW, BA, "XX") == utc(2026, 1, 5, 12)


def test_validate_for_checks_timezone_and_country_up_front() -> None:
    SEED_WINDOW_HOLIDAYS.validate_for(BA, "ar")
    with pytest.raises(BusinessTimeError, match="country"):
        SEED_WINDOW_HOLIDAYS.validate_for(BA, "Narnia")
    with pytest.raises(BusinessTimeError, match="timezone"):
        SEED_WINDOW.validate_for("Buenos Aires", None)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(BusinessTimeError, match="earliest must be a timezone-aware"):
        next_business_time(datetime(2026, 1, 5, 12), SEED_WINDOW, BA, None)
    with pytest.raises(BusinessTimeError, match="moment must be a timezone-aware"):
        SEED_WINDOW.contains(datetime(2026, 1, 5, 12), BA, None)


def test_no_allowed_time_within_the_scan_limit_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(business_time, "BUSINESS_TIME_MAX_SCAN_DAYS", 5)
    mondays = BusinessWindow(frozenset({0}), time(9), time(10))
    with pytest.raises(NoBusinessTimeError, match=r"no time inside the window \(mon 09:00-10:00\)"):
        next_business_time(local(BA, 2026, 3, 3, 12), mondays, BA, None)  # a Tuesday
    assert next_business_time(local(BA, 2026, 3, 4, 12), mondays, BA, None) == local(
        BA, 2026, 3, 9, 9
    )


def test_the_end_of_the_calendar_is_an_error_not_a_crash() -> None:
    mondays = BusinessWindow(frozenset({0}), time(9), time(10))
    with pytest.raises(NoBusinessTimeError, match="no time inside the window"):
        next_business_time(utc(9999, 12, 30), mondays, "UTC", None)  # a Thursday
    # Friday 22:00 in Buenos Aires on the last day is already in the year 10000 in UTC.
    fridays = BusinessWindow(frozenset({4}), time(22), time(23))
    with pytest.raises(NoBusinessTimeError, match="outside the calendar"):
        next_business_time(utc(9999, 12, 31, 12), fridays, BA, None)
    with pytest.raises(BusinessTimeError, match="outside the calendar"):
        fridays.contains(utc(9999, 12, 31, 23), "Asia/Tokyo", None)


def test_a_year_of_holidays_is_well_inside_the_scan_limit() -> None:
    # Only Christmas Day's weekday and only in the morning: the search still finds a Friday.
    fridays = BusinessWindow(frozenset({4}), time(9), time(10), skip_holidays=True)
    earliest = local(MADRID, 2026, 12, 24, 12)
    assert next_business_time(earliest, fridays, MADRID, "ES") == local(MADRID, 2027, 1, 8, 9)


# -- config -----------------------------------------------------------------------------------


def test_from_config_reads_the_flow_document_form() -> None:
    window = BusinessWindow.from_config(
        {
            "weekdays": ["mon", "Tuesday", "WED", 3, "fri"],
            "start": "5:00",
            "end": "17:00:30",
            "skip_holidays": True,
        }
    )
    assert window == BusinessWindow(MON_FRI, time(5), time(17, 0, 30), skip_holidays=True)
    assert window.to_config() == {
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "start": "05:00",
        "end": "17:00:30",
        "skip_holidays": True,
    }
    defaults = BusinessWindow.from_config({"weekdays": [5, 6], "start": "09:00", "end": "24:00"})
    assert defaults.skip_holidays is False
    assert defaults.to_config()["end"] == "24:00"


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({"weekdays": [], "start": "05:00", "end": "17:00"}, "weekdays", "at least one"),
        ({"weekdays": "mon-fri", "start": "05:00", "end": "17:00"}, "weekdays", "a list"),
        ({"weekdays": ["lunes"], "start": "05:00", "end": "17:00"}, "weekdays", "'lunes'"),
        ({"weekdays": [True], "start": "05:00", "end": "17:00"}, "weekdays", "not a day"),
        ({"weekdays": [9], "start": "05:00", "end": "17:00"}, "weekdays", "0 = Monday"),
        ({"weekdays": ["mon"], "start": "25:00", "end": "26:00"}, "start", "'25:00'"),
        ({"weekdays": ["mon"], "start": "5pm", "end": "18:00"}, "start", "HH:MM"),
        ({"weekdays": ["mon"], "start": "24:00", "end": "24:00"}, "start", "'24:00'"),
        ({"weekdays": ["mon"], "start": "05:00", "end": 17}, "end", "a time such as"),
        ({"weekdays": ["mon"], "start": "17:00", "end": "05:00"}, "end", "after start"),
        ({"weekdays": ["mon"], "start": "05:00"}, "end", "needs 'end'"),
        ({"weekdays": ["mon"], "start": "05:00", "end": "17:00", "tz": "x"}, "tz", "unknown"),
        (
            {"weekdays": ["mon"], "start": "05:00", "end": "17:00", "skip_holidays": "yes"},
            "skip_holidays",
            "true or false",
        ),
    ],
)
def test_from_config_errors_name_the_key(config: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(BusinessTimeError, match=words) as caught:
        BusinessWindow.from_config(config)
    assert caught.value.field == field


def test_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(business_time, optionflags=doctest.ELLIPSIS)
    assert tried >= 2 and failures == 0


# -- timezone from the phone number -----------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+5491123456789", BA),  # Buenos Aires mobile
        ("5493514567890", BA),  # Córdoba mobile as a WhatsApp id (no plus sign)
        ("+525512345678", "America/Mexico_City"),
        ("+5215512345678", "America/Mexico_City"),  # old mobile form WhatsApp still reports
        ("+526641234567", "America/Tijuana"),
        ("+34612345678", MADRID),  # Spanish mobile: Madrid or the Canaries, Madrid wins
        ("+34928123456", "Atlantic/Canary"),  # Las Palmas landline
        ("+573001234567", "America/Bogota"),
        ("+12125551234", NY),
        ("+13105551234", "America/Los_Angeles"),
        ("+13125551234", "America/Chicago"),
        ("+5511987654321", "America/Sao_Paulo"),
    ],
)
def test_timezone_for_phone(phone: str, zone: str) -> None:
    assert timezone_for_phone(phone, "UTC") == zone


def test_timezone_for_phone_falls_back_to_the_default_when_it_cannot_tell() -> None:
    assert timezone_for_phone("+18005551234", "America/Denver") == "America/Denver"  # toll-free
    assert timezone_for_phone("+80012345678", MADRID) == MADRID  # international freephone


def test_timezone_for_phone_refuses_bad_input() -> None:
    with pytest.raises(BusinessTimeError, match="not an international phone number") as caught:
        timezone_for_phone("hello", "UTC")
    assert caught.value.field == "phone"
    with pytest.raises(BusinessTimeError, match="unknown timezone"):
        timezone_for_phone("+5491123456789", "Buenos Aires")


def test_country_for_phone() -> None:
    assert country_for_phone("+5491123456789") == "AR"
    assert country_for_phone("5215512345678") == "MX"
    assert country_for_phone("+12125551234") == "US"
    assert country_for_phone("+80012345678") is None


# -- properties -------------------------------------------------------------------------------

ZONES = (
    "UTC",
    BA,
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    MADRID,
    NY,
    "America/Los_Angeles",
    "America/St_Johns",  # -03:30 with DST
    SANTIAGO,  # southern hemisphere, transitions at midnight
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Auckland",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Beirut",  # falls back from Sunday 00:00 to Saturday 23:00
    "Asia/Kathmandu",
    "Asia/Tehran",  # DST at midnight until 2022
    "Africa/Casablanca",  # offset drops during Ramadan
)
DST_ZONES = (MADRID, NY, SANTIAGO, "Australia/Lord_Howe", "Asia/Beirut", "Pacific/Chatham",
             "Africa/Casablanca", "America/St_Johns")
COUNTRIES = ("AR", "MX", "ES", "CO", "US", "BR")
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@cache
def _holidays_of(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year))


def inside(moment: datetime, window: BusinessWindow, zone: ZoneInfo, country: str | None) -> bool:
    """The oracle: the window read straight off the local wall clock, holidays straight from
    the holidays package."""
    wall = moment.astimezone(zone)
    day = wall.date()
    if day.weekday() not in window.weekdays:
        return False
    if country is not None and day in _holidays_of(country, day.year):
        return False
    minute = wall.time().replace(tzinfo=None, fold=0)
    return window.start <= minute and (window.end == END_OF_DAY or minute < window.end)


def transitions_between(
    zone: ZoneInfo, lo: datetime, hi: datetime, step: timedelta = timedelta(hours=1)
) -> list[datetime]:
    """Every instant in (lo, hi] where the zone's UTC offset changes, found by stepping
    (no zone changes its offset twice within a step) and bisecting to the microsecond."""
    found = []
    here, offset = lo, lo.astimezone(zone).utcoffset()
    while here < hi:
        there = min(here + step, hi)
        if there.astimezone(zone).utcoffset() != offset:
            a, b = here, there
            while b - a > timedelta(microseconds=1):
                middle = a + (b - a) // 2
                if middle.astimezone(zone).utcoffset() == offset:
                    a = middle
                else:
                    b = middle
            found.append(b)
            offset = there.astimezone(zone).utcoffset()
        here = there
    return found


@st.composite
def windows(draw: st.DrawFn) -> BusinessWindow:
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(start + 1, 24 * 60))
    return BusinessWindow(
        weekdays,
        time(start // 60, start % 60),
        END_OF_DAY if end == 24 * 60 else time(end // 60, end % 60),
        skip_holidays=draw(st.booleans()),
    )


def assert_earliest(
    earliest: datetime, window: BusinessWindow, tz: str, country: str, due: datetime
) -> None:
    zone = ZoneInfo(tz)
    holidays_of = country if window.skip_holidays else None
    assert due.tzinfo is UTC
    assert due >= earliest
    assert inside(due, window, zone, holidays_of)
    assert window.contains(due, tz, country)
    if due == earliest:
        return
    # ``due`` begins a stretch of allowed time ...
    assert not inside(due - timedelta(microseconds=1), window, zone, holidays_of)
    # ... and no earlier stretch begins between ``earliest`` and ``due``. A stretch can only
    # begin at ``earliest``, where the wall clock reaches the window's start (either occurrence
    # of an ambiguous start) or where the offset jumps.
    candidates = [earliest, *transitions_between(zone, earliest, due)]
    day = earliest.astimezone(zone).date() - timedelta(days=1)
    while day <= due.astimezone(zone).date() + timedelta(days=1):
        for fold in (0, 1):
            opening = datetime.combine(day, window.start, tzinfo=zone).replace(fold=fold)
            candidates.append(opening.astimezone(UTC))
        day += timedelta(days=1)
    for candidate in candidates:
        if earliest <= candidate < due:
            assert not inside(candidate, window, zone, holidays_of), (
                f"{candidate} is allowed and earlier than {due}"
            )


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@cache
def _holidays_2020_2035(country: str) -> tuple[date, ...]:
    return tuple(sorted(day for year in range(2020, 2036) for day in _holidays_of(country, year)))


@st.composite
def starts(draw: st.DrawFn) -> tuple[datetime, str]:
    """A start time and a country; half of the starts fall in the days before a holiday."""
    country = draw(st.sampled_from(COUNTRIES))
    if draw(st.booleans()):
        return draw(moments), country
    holiday = draw(st.sampled_from(_holidays_2020_2035(country)))
    before = draw(st.integers(0, 36 * 3600))
    return datetime.combine(holiday, time(), tzinfo=UTC) - timedelta(seconds=before), country


@PROPERTY_SETTINGS
@given(start=starts(), window=windows(), tz=st.sampled_from(ZONES))
def test_property_the_resume_time_is_the_earliest_allowed_instant(
    start: tuple[datetime, str], window: BusinessWindow, tz: str
) -> None:
    earliest, country = start
    due = next_business_time(earliest, window, tz, country)
    assert_earliest(earliest, window, tz, country, due)
    # Deterministic, and an allowed instant is its own answer.
    assert next_business_time(earliest, window, tz, country) == due
    assert next_business_time(due, window, tz, country) == due


@cache
def _transitions_2020_2035(tz: str) -> tuple[datetime, ...]:
    first, last = datetime(2020, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC)
    return tuple(transitions_between(ZoneInfo(tz), first, last, timedelta(days=1)))


@st.composite
def near_a_transition(draw: st.DrawFn) -> tuple[str, datetime]:
    tz = draw(st.sampled_from(DST_ZONES))
    transition = draw(st.sampled_from(_transitions_2020_2035(tz)))
    shift = draw(st.integers(-36 * 3600, 12 * 3600))
    return tz, transition + timedelta(seconds=shift)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=near_a_transition(),
    window=windows(),
    country=st.sampled_from(COUNTRIES),
)
def test_property_around_dst_transitions_no_minute_before_the_answer_is_allowed(
    case: tuple[str, datetime], window: BusinessWindow, country: str
) -> None:
    tz, earliest = case
    due = next_business_time(earliest, window, tz, country)
    assert_earliest(earliest, window, tz, country, due)
    # Brute force: windows start on whole minutes and 2020-2035 offsets and transitions are
    # whole minutes, so an allowed stretch can only begin at ``earliest`` or on a minute.
    zone = ZoneInfo(tz)
    holidays_of = country if window.skip_holidays else None
    assert due == earliest or due.second == due.microsecond == 0
    minute = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    horizon = min(due, earliest + timedelta(hours=40))
    while minute < horizon:
        assert not inside(minute, window, zone, holidays_of), f"{minute} is allowed, before {due}"
        minute += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(window=windows())
def test_property_config_round_trip(window: BusinessWindow) -> None:
    assert BusinessWindow.from_config(window.to_config()) == window
