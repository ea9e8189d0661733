"""Offline extraction: name, email, phone, date, amount, order number and custom fields.

Phones are normalised to the form WhatsApp uses (E.164). Argentine mobiles are the trap: people
write "11 5555-1234" or "+54 11 5555 1234", which ``phonenumbers`` parses as *landlines*; the
WhatsApp id of that mobile is +54 9 11 5555 1234. Since the contact is on WhatsApp, an Argentine
number without the 9 is moved to its mobile form when that form is a valid mobile. Mexico's old
mobile prefixes (+52 1 ..., 044/045) are dropped the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cauce.ai.text import fold
from cauce.ai.types import Entity, ExtractResult

BUILTIN_FIELDS: tuple[str, ...] = ("name", "email", "phone", "date", "amount", "order_number")


class FieldSpec(BaseModel):
    """A field to extract: a built-in kind, or a custom field found by pattern or example.

    ``name`` is the key of the result; ``kind`` defaults to the name when that is a built-in
    field (``{"name": "first_name", "kind": "name"}`` keeps only the first name). A custom field
    uses ``pattern`` (a regular expression; its first group if any) or ``example`` (``AB-12345``
    becomes two letters, a dash and five digits); with only a ``description`` it is left to the
    LLM, when one is configured.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    kind: Literal["name", "email", "phone", "date", "amount", "order_number", "custom"] | None = (
        None
    )
    pattern: str | None = Field(default=None, max_length=500)
    example: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=500)

    @property
    def effective_kind(self) -> str:
        """The extractor to use."""
        if self.kind is not None:
            return self.kind
        return self.name if self.name in BUILTIN_FIELDS else "custom"

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if self.effective_kind != "custom":
            return self
        if not self.pattern and not self.example and not self.description:
            raise ValueError(
                f"field '{self.name}' needs a pattern, an example value or a description"
            )
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"field '{self.name}': invalid pattern: {exc}") from None
        return self

    def regex(self) -> re.Pattern[str] | None:
        """The compiled pattern of a custom field (None when only described)."""
        if self.pattern:
            return re.compile(self.pattern, re.IGNORECASE)
        if self.example:
            return pattern_from_example(self.example)
        return None


def pattern_from_example(example: str) -> re.Pattern[str]:
    """A pattern with the shape of ``example``: letters, digits and literal separators."""
    parts: list[str] = []
    for run in re.finditer(r"[A-Za-z]+|\d+|.", example.strip()):
        token = run.group()
        if token.isdigit():
            parts.append(rf"\d{{{len(token)}}}")
        elif token.isalpha():
            parts.append(rf"[A-Za-z]{{{len(token)}}}")
        else:
            parts.append(re.escape(token))
    return re.compile(r"(?<![\w-])" + "".join(parts) + r"(?![\w-])")


# ------------------------------------------------------------------------------------------
# email
# ------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def find_emails(text: str) -> list[Entity]:
    """Syntactically valid emails, lower-cased domain (no DNS lookups)."""
    found: list[Entity] = []
    for match in _EMAIL.finditer(text):
        raw = match.group().rstrip(".")
        try:
            valid = validate_email(raw, check_deliverability=False)
        except EmailNotValidError:
            continue
        found.append(
            Entity(field="email", value=valid.normalized, raw=raw, start=match.start(),
                   end=match.start() + len(raw))
        )
    return found


# ------------------------------------------------------------------------------------------
# phone
# ------------------------------------------------------------------------------------------

_PHONE_CANDIDATE = re.compile(r"(?<![\w#/])\+?\(?\d[\d\s().-]{6,}\d(?![\w/])")


def normalize_phone(raw: str, default_region: str = "AR") -> str | None:
    """The WhatsApp (E.164) form of a phone number written any usual way, or None."""
    region = default_region.upper()
    cleaned = raw.strip()
    digits = re.sub(r"\D", "", cleaned)
    if region == "MX" and not cleaned.startswith("+") and digits[:3] in {"044", "045"}:
        cleaned = digits[3:]  # old domestic mobile prefixes, no longer dialled
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    number = _mobile_form(number)
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile_form(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    national = str(number.national_number)
    if number.country_code == 54 and not national.startswith("9") and len(national) == 10:
        mobile = phonenumbers.PhoneNumber(country_code=54, national_number=int("9" + national))
        if phonenumbers.number_type(mobile) == phonenumbers.PhoneNumberType.MOBILE:
            return mobile
    if number.country_code == 52 and national.startswith("1") and len(national) == 11:
        return phonenumbers.PhoneNumber(country_code=52, national_number=int(national[1:]))
    return number


def find_phones(text: str, default_region: str = "AR") -> list[Entity]:
    """Every phone number in ``text``, normalised for WhatsApp."""
    found: list[Entity] = []
    for match in _PHONE_CANDIDATE.finditer(text):
        raw = match.group().strip(" .-")
        if len(re.sub(r"\D", "", raw)) < 8:
            continue
        value = normalize_phone(raw, default_region)
        if value is not None:
            start = match.start() + match.group().find(raw)
            found.append(Entity(field="phone", value=value, raw=raw, start=start,
                                end=start + len(raw)))
    return found


# ------------------------------------------------------------------------------------------
# name
# ------------------------------------------------------------------------------------------

_UPPER = "A-ZÁÉÍÓÚÑÜ"
_LOWER = "a-záéíóúñü"
_NAME_WORD = rf"[{_UPPER}{_LOWER}][{_LOWER}{_UPPER}'-]+"
# Introductions that are always followed by a name, whatever its case.
_NAME_INTRO = re.compile(
    rf"(?:me llamo|mi nombre es|mi nombre:|nombre:|my name is|name:|me dicen)\s+"
    rf"({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})",
    re.IGNORECASE,
)
# Introductions that are often followed by something else ("soy cliente", "I'm having trouble"):
# only a capitalised word counts as a name.
_NAME_SOFT_INTRO = re.compile(
    rf"(?:\b[Ss]oy|\b[Hh]abla|[Ll]es escribe|[Tt]e escribe|\b[Ii]'m|\b[Ii] am|[Tt]his is)\s+"
    rf"([{_UPPER}][{_LOWER}'-]+(?:\s+[{_UPPER}][{_LOWER}'-]+){{0,3}})"
)
_NOT_NAME_WORDS = {
    "y", "e", "de", "del", "la", "el", "en", "con", "para", "por", "que", "from", "and", "with",
    "quiero", "queria", "necesito", "tengo", "estoy", "soy", "les", "te", "me", "mi", "mis",
    "cliente", "clienta", "socio", "socia", "want", "need", "have", "am", "looking", "having",
    "interested", "interesado", "interesada", "escribo", "consulta", "consultar", "gracias",
    "hola", "buenas", "buen", "dia", "tarde", "noche", "los", "las", "un", "una", "a",
    "the", "your", "you", "here", "calling", "writing", "mail", "email", "telefono", "whatsapp",
}


def find_names(text: str) -> list[Entity]:
    """Person names introduced as "me llamo …", "soy …", "my name is …" and similar."""
    found: list[Entity] = []
    for pattern in (_NAME_INTRO, _NAME_SOFT_INTRO):
        for match in pattern.finditer(text):
            kept: list[str] = []
            for word in match.group(1).split():
                if fold(word) in _NOT_NAME_WORDS:
                    break
                kept.append(word)
            if not kept:
                continue
            raw = " ".join(kept)
            value = " ".join(w[:1].upper() + w[1:].lower() for w in kept)
            start = match.start(1)
            found.append(Entity(field="name", value=value, raw=raw, start=start,
                                end=start + len(raw), confidence=0.9))
    found.sort(key=lambda e: e.start)
    return found


# ------------------------------------------------------------------------------------------
# dates
# ------------------------------------------------------------------------------------------

_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "ene": 1, "feb": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8, "aug": 8, "sep": 9,
    "set": 9, "oct": 10, "nov": 11, "dic": 12, "dec": 12, "jan": 1, "apr": 4,
}
_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
_RELATIVE = {"hoy": 0, "today": 0, "manana": 1, "tomorrow": 1, "pasado manana": 2}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUMERIC_DATE = re.compile(r"(?<![\d/])(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?(?![\d/])")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})\s*(?:de\s+)?({_MONTH_NAMES})\.?(?:\s+(?:de(?:l)?\s+)?(\d{{4}}))?\b"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b"
)
_RELATIVE_WORD = re.compile(r"\b(pasado manana|hoy|manana|today|tomorrow)\b")
_WEEKDAY = re.compile(r"\b(?:(?:el|este|el proximo|next|this|on)\s+)?(" + "|".join(_WEEKDAYS)
                      + r")\b")


def find_dates(text: str, today: date, month_first: bool = False) -> list[Entity]:
    """Dates as ISO strings: numeric, "15 de marzo", "March 15", hoy/mañana, weekdays.

    Relative words resolve against ``today``; a date without a year is the next one from today.
    """
    # Folding keeps offsets: it only lowers case and strips accents for these patterns, but
    # squeezing repeats could shift them, so compare on a simple lower/accent-free copy.
    folded = _fold_same_length(text)
    found: list[tuple[int, int, date]] = []

    def add(start: int, end: int, day: int, month: int, year: str | None) -> None:
        full_year = _full_year(year, today)
        try:
            value = date(full_year or today.year, month, day)
        except ValueError:
            return
        if full_year is None and value < today:
            value = value.replace(year=today.year + 1)
        found.append((start, end, value))

    for m in _NUMERIC_DATE.finditer(folded):
        first, second = int(m.group(1)), int(m.group(2))
        day, month = (second, first) if month_first else (first, second)
        add(m.start(), m.end(), day, month, m.group(3))
    for m in _DAY_MONTH.finditer(folded):
        add(m.start(), m.end(), int(m.group(1)), _MONTHS[m.group(2)], m.group(3))
    for m in _MONTH_DAY.finditer(folded):
        add(m.start(), m.end(), int(m.group(2)), _MONTHS[m.group(1)], m.group(3))
    for m in _RELATIVE_WORD.finditer(folded):
        # "mañana" is also "morning" ("a la mañana", "por la mañana").
        before = folded[max(0, m.start() - 7) : m.start()]
        if m.group(1) == "manana" and re.search(r"\b(la|esta)\s$", before):
            continue
        found.append((m.start(), m.end(), today + timedelta(days=_RELATIVE[m.group(1)])))
    for m in _WEEKDAY.finditer(folded):
        ahead = (_WEEKDAYS[m.group(1)] - today.weekday()) % 7 or 7
        found.append((m.start(), m.end(), today + timedelta(days=ahead)))
    found.sort()
    entities: list[Entity] = []
    last_end = -1
    for start, end, value in found:
        if start < last_end:
            continue  # "15 de marzo" also contains a weekday-free number; keep the longest first
        entities.append(Entity(field="date", value=value.isoformat(), raw=text[start:end],
                               start=start, end=end))
        last_end = end
    return entities


def _fold_same_length(text: str) -> str:
    out = []
    for char in text.lower():
        folded = fold(char).replace("ñ", "n")
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _full_year(year: str | None, today: date) -> int | None:
    if not year:
        return None
    value = int(year)
    return value + (today.year // 100) * 100 if value < 100 else value


# ------------------------------------------------------------------------------------------
# amounts
# ------------------------------------------------------------------------------------------

_LOCAL_CURRENCY = {"AR": "ARS", "MX": "MXN", "CO": "COP", "CL": "CLP", "UY": "UYU",
                   "US": "USD", "ES": "EUR", "PE": "PEN"}
_CURRENCY_WORDS = {
    "usd": "USD", "us$": "USD", "u$s": "USD", "u$d": "USD", "dolares": "USD", "dolar": "USD",
    "dollars": "USD", "eur": "EUR", "€": "EUR", "euros": "EUR", "euro": "EUR", "ars": "ARS",
    "mxn": "MXN", "cop": "COP", "clp": "CLP",
}
_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?P<pre>us\$|u\$s|u\$d|usd|ars|mxn|cop|eur|€|\$)\s?(?P<n1>{_NUMBER})(?P<k1>\s?(?:k|mil|lucas)\b)?"
    rf"|(?P<n2>{_NUMBER})(?P<k2>\s?(?:k|mil|lucas)\b)?\s?"
    rf"(?P<post>pesos|dolares|dolar|dollars|usd|euros|euro|eur|€|ars|mxn|cop|lucas)(?!\w)",
)


def parse_number(raw: str) -> Decimal | None:
    """Parse "1.500", "1,500.50", "1.234,56", "12,5" into a Decimal (None when unclear)."""
    text = raw.replace(" ", "")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
        thousands = "," if decimal_sep == "." else "."
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        groups = text.split(sep)
        if len(groups) > 2 or len(groups[-1]) == 3:
            text = text.replace(sep, "")  # thousands separators: 1.500 / 1,500 / 1.000.000
        else:
            text = text.replace(sep, ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def find_amounts(text: str, default_region: str = "AR") -> list[Entity]:
    """Money amounts with a currency sign or word: ``{"amount": "1500", "currency": "ARS"}``."""
    folded = _fold_same_length(text)
    local = _LOCAL_CURRENCY.get(default_region.upper(), "USD")
    found: list[Entity] = []
    for m in _AMOUNT.finditer(folded):
        number = parse_number(m.group("n1") or m.group("n2"))
        if number is None:
            continue
        marker = (m.group("pre") or m.group("post") or "").strip()
        if (m.group("k1") or m.group("k2") or marker == "lucas") and number < 1000:
            number *= 1000  # "20 lucas", "15k", "2 mil"
        currency = _CURRENCY_WORDS.get(marker, local)
        found.append(Entity(field="amount", value={"amount": str(number), "currency": currency},
                            raw=text[m.start():m.end()].strip(), start=m.start(), end=m.end()))
    return found


# ------------------------------------------------------------------------------------------
# order numbers and custom fields
# ------------------------------------------------------------------------------------------

_ORDER = re.compile(
    r"(?:\b(?:pedido|orden|order|compra|ticket|reserva|booking|factura|invoice)\b\s*"
    r"(?:n(?:ro|um|umero|o|°|º)?\.?\s*|number\s*|#\s*)?:?\s*|#\s*)"
    r"(?P<id>[A-Z]{0,4}-?\d{3,12})\b",
    re.IGNORECASE,
)


def find_order_numbers(text: str) -> list[Entity]:
    """Order/ticket/booking references like "pedido 4521", "orden #A-99812", "#123456"."""
    return [
        Entity(field="order_number", value=m.group("id").upper(), raw=m.group().strip(),
               start=m.start("id"), end=m.end("id"))
        for m in _ORDER.finditer(text)
    ]


def find_custom(text: str, spec: FieldSpec) -> list[Entity]:
    """Matches of a custom field (its first group when the pattern has one)."""
    regex = spec.regex()
    if regex is None:
        return []
    found: list[Entity] = []
    for m in regex.finditer(text):
        group = 1 if m.re.groups else 0
        value = m.group(group)
        if value:
            found.append(Entity(field=spec.name, value=value.strip(), raw=m.group().strip(),
                                start=m.start(group), end=m.end(group)))
    return found


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def _name_part(entity: Entity, field: str) -> Entity | None:
    """``first_name`` keeps the first word of a full name, ``last_name`` the rest."""
    parts = str(entity.value).split()
    if field == "first_name":
        return entity.model_copy(update={"value": parts[0]})
    if field == "last_name":
        if len(parts) < 2:
            return None
        return entity.model_copy(update={"value": " ".join(parts[1:])})
    return entity


def extract(
    text: str,
    fields: Sequence[str | FieldSpec] = BUILTIN_FIELDS,
    default_region: str = "AR",
    today: date | None = None,
) -> ExtractResult:
    """Extract ``fields`` from ``text``.

    ``default_region`` is the contact's country (ISO 3166 alpha-2): it decides how local phone
    numbers, "$" amounts and numeric dates (month first only for ``US``) are read. ``today``
    resolves "mañana" and weekdays; the runtime passes its clock's date.
    """
    specs: list[FieldSpec] = []
    for item in fields:
        if isinstance(item, str):
            if item not in BUILTIN_FIELDS:
                raise ValueError(
                    f"unknown field '{item}'; built-in fields are {', '.join(BUILTIN_FIELDS)}; "
                    "a custom field needs a pattern, an example or a description"
                )
            item = FieldSpec(name=item)
        specs.append(item)
    reference = today or datetime.now(UTC).date()
    entities: list[Entity] = []
    for spec in specs:
        kind = spec.effective_kind
        if kind == "name":
            parts = (_name_part(e, spec.name) for e in find_names(text))
            found = [e for e in parts if e is not None]
        elif kind == "email":
            found = find_emails(text)
        elif kind == "phone":
            found = find_phones(text, default_region)
        elif kind == "date":
            found = find_dates(text, reference, month_first=default_region.upper() == "US")
        elif kind == "amount":
            found = find_amounts(text, default_region)
        elif kind == "order_number":
            found = find_order_numbers(text)
        else:
            found = find_custom(text, spec)
        entities += [e.model_copy(update={"field": spec.name}) for e in found]
    values: dict[str, object] = {}
    for entity in entities:
        values.setdefault(entity.field, entity.value)
    return ExtractResult(
        fields=values,
        entities=entities,
        missing=[spec.name for spec in specs if spec.name not in values],
    )
