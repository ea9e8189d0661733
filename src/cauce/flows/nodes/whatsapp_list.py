"""WhatsApp list message: asks and waits. One exit per row id, plus ``replied``, ``timeout``
and ``failed``. At most 10 rows in total.

Example:

    {
      "id": "pick",
      "type": "whatsapp_list",
      "config": {
        "body": "Elegí un horario",
        "button": "Ver horarios",
        "sections": [
          {
            "title": "Mañana",
            "rows": [
              {
                "id": "am9",
                "title": "09:00",
                "description": "Lunes a viernes"
              }
            ]
          }
        ],
        "timeout": "2h"
      },
      "exits": {
        "am9": null,
        "replied": null,
        "timeout": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import WaitState
from cauce.flows.common import Duration, Problem, Strict
from cauce.flows.nodes._shared import (
    RESERVED_EXITS,
    TemplateRef,
    reply_on_input,
    send,
    start_reply_wait,
)
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import (
    WHATSAPP_INTERACTIVE_BODY_MAX,
    WHATSAPP_LIST_BUTTON_MAX,
    WHATSAPP_LIST_ROW_DESCRIPTION_MAX,
    WHATSAPP_LIST_ROW_TITLE_MAX,
    WHATSAPP_LIST_ROWS_MAX,
)

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class ListRow(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    title: str = Field(min_length=1)
    description: str = ""


class ListSection(Strict):
    title: str = ""
    rows: list[ListRow] = Field(min_length=1)


class WhatsAppListConfig(Strict):
    body: str = Field(min_length=1)
    button: str = Field(min_length=1)
    header: str | None = None
    footer: str | None = None
    sections: list[ListSection] = Field(min_length=1)
    timeout: Duration | None = None
    fallback_template: TemplateRef | None = None


class WhatsAppList(Node):
    type: Literal["whatsapp_list"]
    config: WhatsAppListConfig

    category = "message"
    waits = True
    communication = True
    free_form_whatsapp = True
    summary = "Ask with a list of up to 10 rows and wait for the choice."

    def _rows(self) -> list[ListRow]:
        return [row for section in self.config.sections for row in section.rows]

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [r.id for r in self._rows()] + ["replied", "timeout", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        fb = self.config.fallback_template
        return [("config.body", self.config.body),
                *(fb.templates("config.fallback_template") if fb else [])]

    def check(self, flow: FlowDocument) -> list[Problem]:
        problems: list[Problem] = []
        rows = self._rows()
        if len(rows) > WHATSAPP_LIST_ROWS_MAX:
            problems.append(self.problem(
                "too_many_rows", f"{len(rows)} rows; WhatsApp allows {WHATSAPP_LIST_ROWS_MAX} "
                "in total", "config.sections"))
        if len(self.config.button) > WHATSAPP_LIST_BUTTON_MAX:
            problems.append(self.problem("list_button_too_long",
                                         f"button text over {WHATSAPP_LIST_BUTTON_MAX} characters",
                                         "config.button"))
        if len(self.config.body) > WHATSAPP_INTERACTIVE_BODY_MAX:
            problems.append(self.problem("body_too_long", "body over "
                                         f"{WHATSAPP_INTERACTIVE_BODY_MAX} characters",
                                         "config.body"))
        seen: set[str] = set()
        for s, section in enumerate(self.config.sections):
            for r, row in enumerate(section.rows):
                where = f"config.sections.{s}.rows.{r}"
                if len(row.title) > WHATSAPP_LIST_ROW_TITLE_MAX:
                    problems.append(self.problem(
                        "row_title_too_long", f"row title '{row.title}' has {len(row.title)} "
                        f"characters; WhatsApp allows {WHATSAPP_LIST_ROW_TITLE_MAX}",
                        f"{where}.title"))
                if len(row.description) > WHATSAPP_LIST_ROW_DESCRIPTION_MAX:
                    problems.append(self.problem(
                        "row_description_too_long", f"row description has "
                        f"{len(row.description)} characters; WhatsApp allows "
                        f"{WHATSAPP_LIST_ROW_DESCRIPTION_MAX}", f"{where}.description"))
                if row.id in seen or row.id in RESERVED_EXITS:
                    problems.append(self.problem(
                        "bad_row_id", f"row id '{row.id}' is repeated or reserved",
                        f"{where}.id"))
                seen.add(row.id)
        return problems

    def execute(self, act: Activation) -> Outcome:
        body = act.render(self, "config.body", self.config.body)
        payload = None if body is None else {
            "body": body, "button": self.config.button, "header": self.config.header,
            "footer": self.config.footer,
            "sections": [section.model_dump(mode="json") for section in self.config.sections]}
        key = send(act, self, channel="whatsapp", kind="list", payload=payload,
                   fallback=self.config.fallback_template)
        if key is None:
            return Outcome.go("failed")
        return start_reply_wait(act, self, message_key=key, timeout=self.config.timeout,
                                routes={r.id: r.id for r in self._rows()})

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        return reply_on_input(act, self, wait, inp)
