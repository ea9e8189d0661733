"""The typed shape of a flow template: parameters, KPIs and the builder of the flow document.

A template is code: its builder takes the resolved parameters and returns a flow document
(plain JSON data, validated like any draft). Parameters are typed so the API can describe them
(JSON Schema per parameter) and reject bad values naming the parameter; texts carry a Spanish
default from the seed and an English one, picked by the ``language`` parameter every template
has. KPIs are declared as data (a :data:`Measure`) that the services layer computes from runs,
step logs, messages, tickets and events — this package stays pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from cauce.flows.common import Duration


class Localized(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    es: str
    en: str


def L(es: str, en: str) -> Localized:
    return Localized(es=es, en=en)


ParamKind = Literal[
    "text",  # message copy (Liquid allowed); Spanish and English defaults
    "keywords",  # a list of words/phrases
    "duration",  # "7d", "2h", "1h30m"
    "time",  # a time of day, "HH:MM"
    "integer",
    "choice",  # one of ``choices``
    "channel",  # which channel an inbound trigger listens on
    "pipeline",
    "stage",
    "status",  # opportunity status
    "team",
    "email",  # an address (or comma-separated addresses) for team notifications
    "event",  # a business event name (cart.abandoned...)
    "template_name",  # an approved WhatsApp template name
    "url",
]

_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
MAX_TEXT = 4096
MAX_KEYWORDS = 50


class ParameterError(ValueError):
    """A parameter value was refused; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Param:
    id: str
    kind: ParamKind
    label: Localized
    description: Localized
    default: Any  # the Spanish default; None means the parameter is optional and empty
    default_en: Any = None  # English default of texts/keywords (else ``default``)
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def default_for(self, language: str) -> Any:
        if language == "en" and self.default_en is not None:
            return self.default_en
        return self.default

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any]
        if self.kind == "keywords":
            schema = {"type": "array", "items": {"type": "string", "minLength": 1},
                      "minItems": 1, "maxItems": MAX_KEYWORDS}
        elif self.kind == "integer":
            schema = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        elif self.kind in ("choice", "channel"):
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "duration":
            schema = {"type": "string", "pattern": r"^(\d+[dhms])+$"}
        elif self.kind == "time":
            schema = {"type": "string", "pattern": _TIME.pattern}
        else:
            schema = {"type": "string", "minLength": 1,
                      "maxLength": MAX_TEXT if self.kind == "text" else 200}
            if self.kind == "email":
                schema["format"] = "email"
        if self.default is None:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def check(self, value: Any) -> Any:
        """The value in canonical form, or :class:`ParameterError`."""
        if value is None:
            if self.default is None:
                return None
            raise ParameterError(self.id, f"{self.id} cannot be empty")
        k = self.kind
        if k == "keywords":
            if not isinstance(value, list) or not value or len(value) > MAX_KEYWORDS \
                    or not all(isinstance(v, str) and v.strip() for v in value):
                raise ParameterError(self.id, f"{self.id} must be a list of 1 to {MAX_KEYWORDS} "
                                              "non-empty strings")
            return [v.strip() for v in value]
        if k == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(self.id, f"{self.id} must be an integer")
            if (self.minimum is not None and value < self.minimum) or \
                    (self.maximum is not None and value > self.maximum):
                raise ParameterError(self.id, f"{self.id} must be between {self.minimum} and "
                                              f"{self.maximum}")
            return value
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(self.id, f"{self.id} must be a non-empty string")
        value = value.strip()
        if len(value) > (MAX_TEXT if k == "text" else 200):
            raise ParameterError(self.id, f"{self.id} is too long")
        if k in ("choice", "channel") and value not in self.choices:
            raise ParameterError(self.id, f"{self.id} must be one of: {', '.join(self.choices)}")
        if k == "duration":
            try:
                seconds = Duration.model_validate(value).total_seconds
            except ValidationError:
                raise ParameterError(self.id, f"{self.id}: '{value}' is not a duration; write "
                                              "e.g. '7d', '2h', '1h30m'") from None
            if seconds <= 0:
                raise ParameterError(self.id, f"{self.id} must be longer than zero")
        if k == "time" and not _TIME.match(value):
            raise ParameterError(self.id, f"{self.id} must be a time of day as HH:MM")
        if k == "event" and not _EVENT_NAME.match(value):
            raise ParameterError(self.id, f"{self.id}: '{value}' is not an event name")
        if k == "template_name" and not _TEMPLATE_NAME.match(value):
            raise ParameterError(self.id, f"{self.id}: WhatsApp template names are lowercase "
                                          "letters, digits and underscores")
        if k == "email" and not all(_EMAIL.match(a.strip()) for a in value.split(",")):
            raise ParameterError(self.id, f"{self.id}: '{value}' is not an email address")
        if k == "url" and not value.startswith(("https://", "http://", "{{")):
            raise ParameterError(self.id, f"{self.id} must be an http(s) URL")
        return value

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "label": self.label.model_dump(),
            "description": self.description.model_dump(), "required": False,
            "default": self.default, "default_en": self.default_for("en"),
            "schema": self.json_schema(),
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


LANGUAGE = Param("language", "choice", L("Idioma de los mensajes", "Message language"),
                 L("Elige los textos por defecto en español o en inglés.",
                   "Picks the Spanish or the English default texts."),
                 "es", choices=("es", "en"))


# ---------------------------------------------------------------------------- KPIs


class _Measure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeRatio(_Measure):
    """Runs that reached any of ``nodes`` / runs that reached any of ``of_nodes`` (runs
    started when empty)."""

    kind: Literal["node_ratio"] = "node_ratio"
    nodes: tuple[str, ...]
    of_nodes: tuple[str, ...] = ()


class NodeCount(_Measure):
    """Runs that reached any of ``nodes``."""

    kind: Literal["node_count"] = "node_count"
    nodes: tuple[str, ...]


class TimeToNode(_Measure):
    """Median seconds from the run's start to its first step at any of ``nodes``."""

    kind: Literal["time_to_node"] = "time_to_node"
    nodes: tuple[str, ...]


class TimeToFirstOutbound(_Measure):
    """Median seconds from the run's start to the first message the run sent."""

    kind: Literal["time_to_first_outbound"] = "time_to_first_outbound"


class EventRatio(_Measure):
    """Runs whose contact sent ``event`` (or the event ``event_node`` waits for, as
    published) after the run started (within ``within_seconds`` when set) / runs started (or
    runs that reached ``of_nodes``)."""

    kind: Literal["event_ratio"] = "event_ratio"
    event: str | None = None
    event_node: str | None = None  # a wait_for_event node whose event this counts
    within_seconds: int | None = None
    of_nodes: tuple[str, ...] = ()


class EventValue(_Measure):
    """Sum or average of ``field`` of the first ``event`` after each run's start."""

    kind: Literal["event_value"] = "event_value"
    event: str | None = None
    event_node: str | None = None
    field: str
    aggregate: Literal["sum", "avg"]
    within_seconds: int | None = None


class ResultScore(_Measure):
    """From a number saved in the run's results (``results.<result>.<path>``): ``nps``
    (% promoters 9–10 minus % detractors 0–6) or ``average``."""

    kind: Literal["result_score"] = "result_score"
    result: str
    path: str
    mode: Literal["nps", "average"]


class TicketCount(_Measure):
    """Tickets the flow's runs opened (``status``: only those now in one of these)."""

    kind: Literal["ticket_count"] = "ticket_count"
    status: tuple[str, ...] = ()


class OpportunityRatio(_Measure):
    """Runs whose contact has an opportunity now in ``status`` that changed after the run
    started (the trigger's opportunity when the run has one) / runs started (or runs that
    reached ``of_nodes``)."""

    kind: Literal["opportunity_ratio"] = "opportunity_ratio"
    status: str
    of_nodes: tuple[str, ...] = ()


class TimeToAgentMessage(_Measure):
    """Median seconds from the run's start to the first message a person (not a flow) sent
    the contact, over runs that reached ``of_nodes`` (all runs when empty)."""

    kind: Literal["time_to_agent_message"] = "time_to_agent_message"
    of_nodes: tuple[str, ...] = ()


Measure = (NodeRatio | NodeCount | TimeToNode | TimeToFirstOutbound | EventRatio | EventValue
           | ResultScore | TicketCount | OpportunityRatio | TimeToAgentMessage)

KpiUnit = Literal["percent", "seconds", "count", "score", "amount"]


@dataclass(frozen=True)
class Kpi:
    id: str
    label: Localized
    how: Localized  # how it is computed, in words
    unit: KpiUnit
    measure: Measure

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.model_dump(), "how": self.how.model_dump(),
                "unit": self.unit, "measure": self.measure.model_dump(mode="json")}


# ---------------------------------------------------------------------------- templates


Builder = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Template:
    id: str
    kind: Literal["playbook", "scene", "workflow"]
    name: Localized
    description: Localized
    source: str  # where in the seeds it comes from
    params: tuple[Param, ...]
    kpis: tuple[Kpi, ...]
    build_document: Builder
    not_computed: tuple[Localized, ...] = ()  # seed KPIs Cauce has no data for (documented)
    category: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def all_params(self) -> tuple[Param, ...]:
        return (LANGUAGE, *self.params)

    def resolve(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Every parameter's value: ``given`` checked, defaults (in the chosen language) for
        the rest. Unknown names and bad values raise :class:`ParameterError`."""
        given = dict(given or {})
        known = {p.id: p for p in self.all_params}
        for name in given:
            if name not in known:
                raise ParameterError(name, f"unknown parameter '{name}' (known: "
                                           f"{', '.join(known)})")
        language = LANGUAGE.check(given.get("language", "es"))
        values: dict[str, Any] = {"language": language}
        for p in self.params:
            values[p.id] = p.check(given[p.id]) if p.id in given else p.default_for(language)
        return values

    def build(self, given: dict[str, Any] | None = None, name: str | None = None
              ) -> dict[str, Any]:
        values = self.resolve(given)
        doc = self.build_document(values)
        metadata = doc.setdefault("metadata", {})
        lang = values["language"]
        metadata.setdefault("name", getattr(self.name, lang))
        metadata.setdefault("description", getattr(self.description, lang))
        metadata["language"] = lang
        tags = list(metadata.get("tags") or [])
        for tag in (f"template:{self.id}", *self.tags):
            if tag not in tags:
                tags.append(tag)
        metadata["tags"] = tags
        if name is not None:
            metadata["name"] = name
        doc.setdefault("layout", grid_layout(doc.get("nodes", [])))
        return doc

    def public(self, *, detail: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "name": self.name.model_dump(),
            "description": self.description.model_dump(), "source": self.source,
            "category": self.category,
            "parameters": [p.public() for p in self.all_params],
            "parameters_schema": {
                "type": "object", "additionalProperties": False,
                "properties": {p.id: p.json_schema() for p in self.all_params},
            },
            "kpis": [k.public() for k in self.kpis],
            "kpis_not_computed": [n.model_dump() for n in self.not_computed],
        }
        if detail:
            out["document"] = self.build()
        return out


# ---------------------------------------------------------------------------- helpers


def node(node_id: str, type_: str, config: dict[str, Any] | None = None,
         **exits: str | None) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config or {}, "exits": dict(exits)}


def grid_layout(nodes: list[dict[str, Any]], columns: int = 4) -> dict[str, dict[str, float]]:
    """Editor positions: nodes in document order, ``columns`` per row."""
    return {n["id"]: {"x": float((i % columns) * 280), "y": float((i // columns) * 160)}
            for i, n in enumerate(nodes)}


def seconds(duration: str) -> int:
    return Duration.model_validate(duration).total_seconds
