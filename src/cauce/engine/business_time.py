"""Business time: the earliest instant a wait may resume inside a weekly window of local hours.

"Wait 7 days, then resume Monday to Friday 05:00-17:00 in the contact's timezone, skipping the
country's public holidays" is ``next_business_time(started + 7 days, window, tz, country)``.

The window is read on the local **wall clock** of ``tz``: an instant is inside it when the local
date is an allowed weekday (and not a holiday) and the local time of day is in
``[start, end)``. That one definition settles every daylight-saving case:

- a window start that does not exist (02:30 on a spring-forward day) resolves to the first instant
  whose wall clock is past it, which is the transition itself (03:00 new time);
- an ambiguous start (01:30 on a fall-back day) resolves to its first occurrence (``fold=0``);
- after a fall-back, the repeated wall-clock hour counts as inside the window again.

Pure and deterministic: no clock reads, every input is an argument. Holidays come from the
``holidays`` package (national holidays of an ISO 3166-1 alpha-2 country, cached per country and
year), timezones from the IANA database through ``zoneinfo`` and, for a contact without one, from
the phone number through ``phonenumbers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import timezone as phone_timezone

from cauce.limits import BUSINESS_TIME_MAX_SCAN_DAYS

__all__ = [
    "END_OF_DAY",
    "WEEKDAY_CODES",
    "BusinessTimeError",
    "BusinessWindow",
    "NoBusinessTimeError",
    "country_for_phone",
    "next_business_time",
    "timezone_for_phone",
]

END_OF_DAY = time.max
"""A window ``end`` meaning "until midnight" (written ``"24:00"`` in a config)."""

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday codes as written in flow documents; the index is ``date.weekday()``."""

_WEEKDAY_NAMES: dict[str, int] = {
    **{code: index for index, code in enumerate(WEEKDAY_CODES)},
    **{
        name: index
        for index, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_CONFIG_KEYS = ("weekdays", "start", "end", "skip_holidays")
_TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
# Offsets are probed this far apart when looking for a daylight-saving transition between two
# instants. The IANA database never changes a zone's offset and changes it back within a week,
# so a probe cannot step over a transition unseen.
_TRANSITION_PROBE = timedelta(days=7)
_PAST_CALENDAR = "the time falls outside the calendar (years 1 to 9999)"


class BusinessTimeError(ValueError):
    """A window, timezone, country or phone number that cannot be used.

    ``field`` names the config key at fault (``weekdays``, ``start``, ``end``, ``skip_holidays``,
    ``timezone``, ``country``, ``phone``) so the flow validator can point at it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NoBusinessTimeError(BusinessTimeError):
    """No instant inside the window within ``BUSINESS_TIME_MAX_SCAN_DAYS`` of the start."""


@dataclass(frozen=True)
class BusinessWindow:
    """Allowed local weekdays and hours for resuming a wait.

    ``weekdays`` uses ``date.weekday()`` numbers (0 = Monday ... 6 = Sunday); ``start`` is
    inclusive and ``end`` exclusive, both local wall-clock times on the same day
    (``END_OF_DAY`` for "until midnight"); ``skip_holidays`` also excludes the public holidays
    of the country passed alongside the window.

    >>> window = BusinessWindow.from_config(
    ...     {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "05:00", "end": "17:00"}
    ... )
    >>> sorted(window.weekdays), window.start, window.end
    ([0, 1, 2, 3, 4], datetime.time(5, 0), datetime.time(17, 0))
    """

    weekdays: frozenset[int]
    start: time
    end: time
    skip_holidays: bool = False

    def __post_init__(self) -> None:
        raw: object = self.weekdays
        if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
            raise BusinessTimeError("weekdays must be a collection of day numbers 0-6", "weekdays")
        days = frozenset(raw)
        for day in days:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise BusinessTimeError(
                    f"weekdays: {day!r} is not a day number (0 = Monday ... 6 = Sunday)",
                    "weekdays",
                )
        if not days:
            raise BusinessTimeError("weekdays must list at least one day", "weekdays")
        object.__setattr__(self, "weekdays", days)
        _check_time_of_day(self.start, "start")
        _check_time_of_day(self.end, "end")
        if self.end <= self.start:
            raise BusinessTimeError(
                f"end ({_format_time(self.end)}) must be after start ({_format_time(self.start)})"
                " on the same day; use '24:00' as end for a window that runs until midnight",
                "end",
            )
        if not isinstance(self.skip_holidays, bool):
            raise BusinessTimeError("skip_holidays must be true or false", "skip_holidays")

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> BusinessWindow:
        """Build a window from its flow-document form.

        ``{"weekdays": ["mon", ..., "fri"] or [0, ..., 4], "start": "05:00", "end": "17:00",
        "skip_holidays": true}``. Weekdays are codes (``mon``...``sun``), English names or
        numbers 0-6; times are ``HH:MM`` or ``HH:MM:SS`` (``end`` may be ``24:00``);
        ``skip_holidays`` is optional. Raises ``BusinessTimeError`` naming the bad key.
        """
        if not isinstance(config, Mapping):
            raise BusinessTimeError("a business window must be an object", None)
        unknown = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unknown:
            raise BusinessTimeError(
                f"unknown business window key {unknown[0]!r}; expected {', '.join(_CONFIG_KEYS)}",
                unknown[0],
            )
        for key in ("weekdays", "start", "end"):
            if key not in config:
                raise BusinessTimeError(f"business window needs {key!r}", key)
        skip = config.get("skip_holidays", False)
        if not isinstance(skip, bool):
            raise BusinessTimeError("skip_holidays must be true or false", "skip_holidays")
        return cls(
            weekdays=_parse_weekdays(config["weekdays"]),
            start=_parse_time(config["start"], "start", allow_end_of_day=False),
            end=_parse_time(config["end"], "end", allow_end_of_day=True),
            skip_holidays=skip,
        )

    def to_config(self) -> dict[str, object]:
        """The flow-document form that ``from_config`` reads back into an equal window."""
        return {
            "weekdays": [WEEKDAY_CODES[day] for day in sorted(self.weekdays)],
            "start": _format_time(self.start),
            "end": _format_time(self.end),
            "skip_holidays": self.skip_holidays,
        }

    def contains(self, moment: datetime, tz: str, country: str | None) -> bool:
        """Whether the aware ``moment`` is inside the window on the wall clock of ``tz``."""
        if moment.utcoffset() is None:
            raise BusinessTimeError("moment must be a timezone-aware datetime", None)
        zone, is_holiday = _zone(tz), self._holiday_test(country)
        try:
            local = moment.astimezone(zone)
        except OverflowError as exc:
            raise BusinessTimeError(_PAST_CALENDAR, None) from exc
        return self._allows_wall(local.replace(tzinfo=None), is_holiday)

    def validate_for(self, tz: str, country: str | None) -> None:
        """Raise ``BusinessTimeError`` if the window cannot be used with ``tz`` and ``country``."""
        _zone(tz)
        self._holiday_test(country)

    # -- internals ---------------------------------------------------------------------------

    def _holiday_test(self, country: str | None) -> Callable[[date], bool] | None:
        if not self.skip_holidays:
            return None
        if country is None or not country.strip():
            raise BusinessTimeError(
                "skip_holidays needs the contact's or the workspace's country code", "country"
            )
        code = _country_code(country)
        return lambda day: day in _holiday_dates(code, day.year)

    def _day_allowed(self, day: date, is_holiday: Callable[[date], bool] | None) -> bool:
        return day.weekday() in self.weekdays and not (is_holiday is not None and is_holiday(day))

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        """The window on ``day`` as naive local wall-clock datetimes ``[start, end)``."""
        opens = datetime.combine(day, self.start)
        if self.end == END_OF_DAY:
            return opens, datetime.combine(day + _ONE_DAY, time())
        return opens, datetime.combine(day, self.end)

    def _allows_wall(self, wall: datetime, is_holiday: Callable[[date], bool] | None) -> bool:
        if not self._day_allowed(wall.date(), is_holiday):
            return False
        moment = wall.time()
        return self.start <= moment and (self.end == END_OF_DAY or moment < self.end)

    def _first_wall_at_or_after(
        self, wall: datetime, is_holiday: Callable[[date], bool] | None, last_day: date
    ) -> datetime:
        """The first naive wall-clock time >= ``wall`` inside the window, ignoring offsets."""
        day = wall.date()
        while day <= last_day:
            if self._day_allowed(day, is_holiday):
                opens, closes = self._bounds(day)
                if wall < closes:
                    return max(wall, opens)
            if day == date.max:
                break
            day += _ONE_DAY
        raise NoBusinessTimeError(
            f"no time inside the window ({self._describe()}) within "
            f"{BUSINESS_TIME_MAX_SCAN_DAYS} days; allow more weekdays or hours",
            "weekdays",
        )

    def _describe(self) -> str:
        days = ", ".join(WEEKDAY_CODES[day] for day in sorted(self.weekdays))
        holidays_note = ", skipping holidays" if self.skip_holidays else ""
        return f"{days} {_format_time(self.start)}-{_format_time(self.end)}{holidays_note}"


def next_business_time(
    earliest: datetime, window: BusinessWindow | None, tz: str, country: str | None
) -> datetime:
    """Earliest aware UTC datetime >= earliest that is inside the window, on an allowed
    weekday, not a public holiday of `country` (when skip_holidays), in timezone `tz`.

    Without a window the answer is ``earliest`` itself (in UTC). Raises ``BusinessTimeError``
    for a naive ``earliest``, an unknown timezone or country, and ``NoBusinessTimeError`` when
    nothing qualifies within ``BUSINESS_TIME_MAX_SCAN_DAYS`` days.

    >>> window = BusinessWindow(frozenset(range(5)), time(5), time(17))
    >>> friday_evening = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 18:00 in Buenos Aires
    >>> next_business_time(friday_evening, window, "America/Argentina/Buenos_Aires", "AR")
    datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.timezone.utc)
    """
    if earliest.utcoffset() is None:
        raise BusinessTimeError("earliest must be a timezone-aware datetime", None)
    zone = _zone(tz)
    is_holiday = None if window is None else window._holiday_test(country)
    try:
        moment = earliest.astimezone(UTC)
        return moment if window is None else _search(moment, window, zone, is_holiday)
    except OverflowError as exc:
        raise NoBusinessTimeError(_PAST_CALENDAR, None) from exc


def _search(
    moment: datetime,
    window: BusinessWindow,
    zone: ZoneInfo,
    is_holiday: Callable[[date], bool] | None,
) -> datetime:
    local = moment.astimezone(zone)
    offset = _utcoffset(local)
    wall = local.replace(tzinfo=None)
    last_day = date.max
    if (date.max - wall.date()).days > BUSINESS_TIME_MAX_SCAN_DAYS:
        last_day = wall.date() + timedelta(days=BUSINESS_TIME_MAX_SCAN_DAYS)
    while True:
        target = window._first_wall_at_or_after(wall, is_holiday, last_day)
        if target == wall:
            return moment
        # ``target`` was found assuming the offset stays put; if the zone changes offset before
        # reaching it, restart the search from the change, where the wall clock jumps.
        candidate = (target - offset).replace(tzinfo=UTC)
        change = _first_offset_change(zone, moment, candidate, offset)
        if change is None:
            return candidate
        moment = change
        local = moment.astimezone(zone)
        offset = _utcoffset(local)
        wall = local.replace(tzinfo=None)


def timezone_for_phone(e164: str, default: str) -> str:
    """The IANA timezone of a phone number's owner, or ``default`` when it cannot be told.

    A number whose prefix maps to one zone gets that zone (US and Canadian numbers by area code,
    Spanish landlines of the Canaries, Tijuana...). A number that could be in several zones gets
    the country's most populous one when it has a clear one (Argentina, Mexico, Spain, Brazil,
    Chile, Russia, Australia...) and ``default`` otherwise (a US toll-free number). WhatsApp ids
    without ``+`` and the old Mexican mobile form ``+52 1 ...`` are accepted.
    """
    _zone(default)
    number = _parse_phone(e164)
    zones = [
        zone
        for zone in map(_canonical_zone, phone_timezone.time_zones_for_number(number))
        if zone != phone_timezone.UNKNOWN_TIMEZONE and _is_known_zone(zone)
    ]
    if len(zones) == 1:
        return zones[0]
    preferred = _PREFERRED_ZONE.get(_region_of(number) or "")
    if preferred is not None and (not zones or preferred in zones):
        return preferred
    return default


def country_for_phone(e164: str) -> str | None:
    """The ISO 3166-1 alpha-2 country of a phone number (for holidays), or None if unknown."""
    return _region_of(_parse_phone(e164))


# -- timezones ---------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise BusinessTimeError("timezone is empty; use an IANA name such as 'Europe/Madrid'",
                                "timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BusinessTimeError(
            f"unknown timezone {name!r}; use an IANA name such as "
            "'America/Argentina/Buenos_Aires' or 'Europe/Madrid'",
            "timezone",
        ) from exc


def _is_known_zone(name: str) -> bool:
    try:
        _zone(name)
    except BusinessTimeError:
        return False
    return True


def _utcoffset(local: datetime) -> timedelta:
    offset = local.utcoffset()
    if offset is None:  # pragma: no cover - ZoneInfo always answers for aware datetimes
        raise BusinessTimeError("timezone gave no UTC offset", "timezone")
    return offset


def _offset_at(zone: ZoneInfo, moment: datetime) -> timedelta:
    return _utcoffset(moment.astimezone(zone))


def _first_offset_change(
    zone: ZoneInfo, start: datetime, stop: datetime, offset: timedelta
) -> datetime | None:
    """The first instant in ``(start, stop]`` whose UTC offset differs from ``offset``
    (the offset at ``start``), or None if it stays the same."""
    low = start
    while low < stop:
        high = min(low + _TRANSITION_PROBE, stop)
        if _offset_at(zone, high) != offset:
            # Bisect to the microsecond: ``low`` still has the old offset, ``high`` the new one.
            while high - low > _ONE_MICROSECOND:
                middle = low + (high - low) // 2
                if _offset_at(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            return high
        low = high
    return None


# -- holidays ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=512)
def _country_code(country: str) -> str:
    code = country.strip().upper()
    if code not in _supported_countries():
        raise BusinessTimeError(
            f"unknown country code {country!r} for public holidays; "
            "use an ISO 3166-1 alpha-2 code such as 'AR', 'MX' or 'ES'",
            "country",
        )
    return code


@lru_cache(maxsize=4096)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    # A frozen set per (country, year): computing a year of holidays takes milliseconds, a
    # lookup in the set does not, and a broadcast asks for the same few years 100,000 times.
    return frozenset(holidays.country_holidays(country, years=year).keys())


# -- phone numbers -----------------------------------------------------------------------------

# One zone for a number that could be in several, where a country has a clear most-populous one.
# Countries split more evenly (United States, Canada) fall back to the caller's default.
_PREFERRED_ZONE: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MX": "America/Mexico_City",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
}

# phonenumbers still uses some retired spellings; give callers the current IANA names.
_RENAMED_ZONES: dict[str, str] = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Godthab": "America/Nuuk",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Mendoza": "America/Argentina/Mendoza",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Europe/Kiev": "Europe/Kyiv",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
}


def _canonical_zone(name: str) -> str:
    return _RENAMED_ZONES.get(name, name)


def _parse_phone(e164: str) -> phonenumbers.PhoneNumber:
    if not isinstance(e164, str) or not e164.strip():
        raise BusinessTimeError("phone number is empty", "phone")
    text = e164.strip()
    # WhatsApp ids are E.164 digits without the plus sign.
    if text[0].isdigit():
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise BusinessTimeError(
            f"{e164!r} is not an international phone number (+ country code, then the number)",
            "phone",
        ) from exc
    national = str(number.national_number)
    # WhatsApp still reports Mexican mobiles with the "1" Mexico dropped in 2019.
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        number = phonenumbers.PhoneNumber(country_code=52, national_number=int(national[1:]))
    return number


def _region_of(number: phonenumbers.PhoneNumber) -> str | None:
    region = phonenumbers.region_code_for_number(number)
    if region is None and number.country_code is not None:
        region = phonenumbers.region_code_for_country_code(number.country_code)
    if region in (None, phonenumbers.UNKNOWN_REGION, "001"):
        return None
    return str(region)


# -- config parsing ----------------------------------------------------------------------------


def _parse_weekdays(value: object) -> frozenset[int]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise BusinessTimeError(
            "weekdays must be a list such as ['mon', 'tue', 'wed', 'thu', 'fri']", "weekdays"
        )
    days: set[int] = set()
    for item in value:
        if isinstance(item, bool):
            raise BusinessTimeError(f"weekdays: {item!r} is not a day", "weekdays")
        if isinstance(item, int):
            if not 0 <= item <= 6:
                raise BusinessTimeError(
                    f"weekdays: {item} is not a day number (0 = Monday ... 6 = Sunday)",
                    "weekdays",
                )
            days.add(item)
        elif isinstance(item, str) and item.strip().lower() in _WEEKDAY_NAMES:
            days.add(_WEEKDAY_NAMES[item.strip().lower()])
        else:
            raise BusinessTimeError(
                f"weekdays: {item!r} is not a day; use {', '.join(WEEKDAY_CODES)} or 0-6",
                "weekdays",
            )
    if not days:
        raise BusinessTimeError("weekdays must list at least one day", "weekdays")
    return frozenset(days)


def _parse_time(value: object, field: str, *, allow_end_of_day: bool) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise BusinessTimeError(f"{field} must be a time such as '05:00'", field)
    text = value.strip()
    if allow_end_of_day and text in ("24:00", "24:00:00"):
        return END_OF_DAY
    match = _TIME_PATTERN.match(text)
    hour, minute, second = (
        (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        if match
        else (-1, -1, -1)
    )
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        end_hint = " (or '24:00' for midnight)" if allow_end_of_day else ""
        raise BusinessTimeError(
            f"{field}: {value!r} is not a time of day; use HH:MM between 00:00 and 23:59"
            + end_hint,
            field,
        )
    return time(hour, minute, second)


def _check_time_of_day(value: object, field: str) -> None:
    if not isinstance(value, time):
        raise BusinessTimeError(f"{field} must be a datetime.time", field)
    if value.tzinfo is not None:
        raise BusinessTimeError(
            f"{field} must be a local wall-clock time without a timezone; the timezone is the "
            "contact's",
            field,
        )
    if value.microsecond and value != END_OF_DAY:
        raise BusinessTimeError(f"{field} must be a whole number of seconds", field)


def _format_time(value: time) -> str:
    if value == END_OF_DAY:
        return "24:00"
    text = f"{value.hour:02d}:{value.minute:02d}"
    return f"{text}:{value.second:02d}" if value.second else text
