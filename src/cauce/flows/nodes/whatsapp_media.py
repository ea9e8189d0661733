"""WhatsApp media message (image, video, document, audio) with an optional caption.

Example:

    {
      "id": "catalog",
      "type": "whatsapp_media",
      "config": {
        "media_type": "document",
        "link": "https://example.com/catalogo.pdf",
        "caption": "Nuestro catálogo"
      },
      "exits": {
        "next": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.flows.common import Strict
from cauce.flows.nodes._shared import TemplateRef, send
from cauce.flows.nodes.base import MESSAGE_EXITS, Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class WhatsAppMediaConfig(Strict):
    media_type: Literal["image", "video", "document", "audio"]
    link: str = Field(min_length=1)
    caption: str = ""
    fallback_template: TemplateRef | None = None


class WhatsAppMedia(Node):
    type: Literal["whatsapp_media"]
    config: WhatsAppMediaConfig

    category = "message"
    communication = True
    free_form_whatsapp = True
    summary = "Send an image, video, document or audio on WhatsApp."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return list(MESSAGE_EXITS)

    def templates(self) -> list[tuple[str, str]]:
        fb = self.config.fallback_template
        return [("config.link", self.config.link), ("config.caption", self.config.caption),
                *(fb.templates("config.fallback_template") if fb else [])]

    def execute(self, act: Activation) -> Outcome:
        link = act.render(self, "config.link", self.config.link)
        caption = act.render(self, "config.caption", self.config.caption)
        payload = None if link is None or caption is None else {
            "media_type": self.config.media_type, "link": link, "caption": caption}
        key = send(act, self, channel="whatsapp", kind="media", payload=payload,
                   fallback=self.config.fallback_template)
        return Outcome.go("next" if key else "failed")
