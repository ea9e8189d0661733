"""Channel-neutral messages → WhatsApp Cloud API request bodies, with the limits checked first.

The shapes follow Meta's reference (see ``shared/reference/whatsapp/send_*.json``). A message
that breaks a limit raises :class:`LimitError` naming the field, so the editor can point at it
before anything reaches Meta.
"""

from __future__ import annotations

from typing import Any

from cauce import limits
from cauce.channels.base import OutboundMessage

MEDIA_TYPES = ("image", "video", "document", "audio", "sticker")
_CAPTIONLESS = ("audio", "sticker")
BIZ_OPAQUE_MAX = 512  # Meta's limit on biz_opaque_callback_data
WHATSAPP_KINDS = frozenset({"text", "template", "buttons", "list", "media"})


class LimitError(ValueError):
    """The message cannot be sent as it is; ``field`` names what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _text(payload: dict[str, Any], key: str, where: str, maximum: int, *,
          required: bool = True) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise LimitError(where, "is required")
        return None
    if not isinstance(value, str):
        raise LimitError(where, "must be text")
    if len(value) > maximum:
        raise LimitError(where, f"is {len(value)} characters; WhatsApp allows at most {maximum}")
    return value


def check_limits(kind: str, payload: dict[str, Any]) -> None:
    """Raise :class:`LimitError` when ``payload`` breaks a WhatsApp limit (used by the simulator
    too, so a flow that works there works on a real number)."""
    build_content(kind, payload)


def build_content(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The type-specific part of the request body (``{"type": ..., <type>: {...}}``)."""
    if kind == "text":
        body = _text(payload, "text", "text", limits.WHATSAPP_TEXT_MAX)
        return {"type": "text",
                "text": {"preview_url": bool(payload.get("preview_url", False)), "body": body}}
    if kind == "template":
        return {"type": "template", "template": _template(payload)}
    if kind == "buttons":
        return {"type": "interactive", "interactive": _buttons(payload)}
    if kind == "list":
        return {"type": "interactive", "interactive": _list(payload)}
    if kind == "media":
        return _media(payload)
    raise LimitError("kind", f"WhatsApp cannot send '{kind}' messages; use one of "
                     f"{', '.join(sorted(WHATSAPP_KINDS))}")


def build_body(message: OutboundMessage) -> dict[str, Any]:
    """The full ``POST /{phone_number_id}/messages`` body for ``message``."""
    to = message.to.lstrip("+").replace(" ", "")
    if not to.isdigit():
        raise LimitError("to", f"'{message.to}' is not a phone number in international format")
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        **build_content(message.kind, message.payload),
    }
    reply_to = message.payload.get("reply_to")
    if reply_to:
        body["context"] = {"message_id": str(reply_to)}
    if message.key:
        # Meta echoes it in every status webhook, so a status finds our message even when the
        # send answer (and its wamid) was lost.
        body["biz_opaque_callback_data"] = message.key[:BIZ_OPAQUE_MAX]
    return body


def _header(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        if len(value) > 60:
            raise LimitError(where, f"is {len(value)} characters; WhatsApp allows at most 60")
        return {"type": "text", "text": value}
    if isinstance(value, dict) and value.get("type") in ("image", "video", "document"):
        media_type = value["type"]
        return {"type": media_type, media_type: _media_ref(value, where)}
    raise LimitError(where, "must be text or {type: image|video|document, link|id}")


def _media_ref(value: dict[str, Any], where: str) -> dict[str, Any]:
    if value.get("link"):
        return {"link": str(value["link"])}
    if value.get("id"):
        return {"id": str(value["id"])}
    raise LimitError(where, "needs a 'link' (public https URL) or an uploaded media 'id'")


def _footer(payload: dict[str, Any], where: str) -> dict[str, Any] | None:
    footer = _text(payload, "footer", where, limits.WHATSAPP_FOOTER_MAX, required=False)
    return {"text": footer} if footer else None


def _buttons(payload: dict[str, Any]) -> dict[str, Any]:
    body = _text(payload, "body", "body", limits.WHATSAPP_INTERACTIVE_BODY_MAX)
    buttons = payload.get("buttons") or []
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= limits.WHATSAPP_BUTTONS_MAX:
        raise LimitError("buttons", f"WhatsApp needs 1 to {limits.WHATSAPP_BUTTONS_MAX} reply "
                         f"buttons; got {len(buttons) if isinstance(buttons, list) else 0}")
    seen: set[str] = set()
    out = []
    for i, button in enumerate(buttons):
        where = f"buttons[{i}]"
        if not isinstance(button, dict):
            raise LimitError(where, "must be {id, title}")
        title = _text(button, "title", f"{where}.title", limits.WHATSAPP_BUTTON_TITLE_MAX)
        button_id = str(button.get("id") or "")
        if not button_id or len(button_id) > 256:
            raise LimitError(f"{where}.id", "is required (at most 256 characters)")
        if button_id in seen:
            raise LimitError(f"{where}.id", f"'{button_id}' is used by two buttons")
        seen.add(button_id)
        out.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    interactive: dict[str, Any] = {"type": "button"}
    if payload.get("header"):
        interactive["header"] = _header(payload["header"], "header")
    interactive["body"] = {"text": body}
    footer = _footer(payload, "footer")
    if footer:
        interactive["footer"] = footer
    interactive["action"] = {"buttons": out}
    return interactive


def _list(payload: dict[str, Any]) -> dict[str, Any]:
    body = _text(payload, "body", "body", limits.WHATSAPP_INTERACTIVE_BODY_MAX)
    button = _text(payload, "button", "button", limits.WHATSAPP_LIST_BUTTON_MAX)
    sections = payload.get("sections") or []
    if not isinstance(sections, list) or not sections:
        raise LimitError("sections", "a list needs at least one section with rows")
    total = 0
    seen: set[str] = set()
    out_sections = []
    for s, section in enumerate(sections):
        where = f"sections[{s}]"
        if not isinstance(section, dict):
            raise LimitError(where, "must be {title, rows}")
        rows = section.get("rows") or []
        if not isinstance(rows, list) or not rows:
            raise LimitError(f"{where}.rows", "each section needs at least one row")
        out_rows = []
        for r, row in enumerate(rows):
            rwhere = f"{where}.rows[{r}]"
            if not isinstance(row, dict):
                raise LimitError(rwhere, "must be {id, title, description}")
            row_id = str(row.get("id") or "")
            if not row_id or len(row_id) > 200:
                raise LimitError(f"{rwhere}.id", "is required (at most 200 characters)")
            if row_id in seen:
                raise LimitError(f"{rwhere}.id", f"'{row_id}' is used by two rows")
            seen.add(row_id)
            item: dict[str, Any] = {
                "id": row_id,
                "title": _text(row, "title", f"{rwhere}.title", limits.WHATSAPP_LIST_ROW_TITLE_MAX),
            }
            description = _text(row, "description", f"{rwhere}.description",
                                limits.WHATSAPP_LIST_ROW_DESCRIPTION_MAX, required=False)
            if description:
                item["description"] = description
            out_rows.append(item)
        total += len(out_rows)
        out_section: dict[str, Any] = {}
        title = _text(section, "title", f"{where}.title", 24, required=len(sections) > 1)
        if title:
            out_section["title"] = title
        out_section["rows"] = out_rows
        out_sections.append(out_section)
    if total > limits.WHATSAPP_LIST_ROWS_MAX:
        raise LimitError("sections", f"{total} rows in total; WhatsApp allows at most "
                         f"{limits.WHATSAPP_LIST_ROWS_MAX}")
    interactive: dict[str, Any] = {"type": "list"}
    if payload.get("header"):
        if not isinstance(payload["header"], str):
            raise LimitError("header", "a list header must be text")
        interactive["header"] = _header(payload["header"], "header")
    interactive["body"] = {"text": body}
    footer = _footer(payload, "footer")
    if footer:
        interactive["footer"] = footer
    interactive["action"] = {"button": button, "sections": out_sections}
    return interactive


def _media(payload: dict[str, Any]) -> dict[str, Any]:
    media_type = payload.get("media_type")
    if media_type not in MEDIA_TYPES:
        raise LimitError("media_type", f"must be one of {', '.join(MEDIA_TYPES)}")
    content = _media_ref(payload, "link")
    caption = payload.get("caption")
    if caption:
        if media_type in _CAPTIONLESS:
            raise LimitError("caption", f"WhatsApp does not show captions on {media_type}")
        content["caption"] = _text(payload, "caption", "caption", limits.WHATSAPP_MEDIA_CAPTION_MAX)
    if media_type == "document" and payload.get("filename"):
        content["filename"] = str(payload["filename"])
    return {"type": media_type, media_type: content}


def _template(payload: dict[str, Any]) -> dict[str, Any]:
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        raise LimitError("name", "the template name is required")
    language = payload.get("language") or ""
    if not isinstance(language, str) or not language:
        raise LimitError("language", "the template language code is required (e.g. es_AR)")
    components: list[dict[str, Any]] = []
    header = payload.get("header") or []
    if header:
        components.append({"type": "header",
                           "parameters": [_param(p, f"header[{i}]") for i, p in enumerate(header)]})
    body = payload.get("body") or []
    if body:
        components.append({"type": "body",
                           "parameters": [_param(p, f"body[{i}]") for i, p in enumerate(body)]})
    for i, button in enumerate(payload.get("buttons") or []):
        where = f"buttons[{i}]"
        if not isinstance(button, dict) or "payload" not in button:
            raise LimitError(where, "a quick-reply button needs {index, payload}")
        components.append({
            "type": "button",
            "sub_type": str(button.get("sub_type", "quick_reply")),
            "index": str(button.get("index", i)),
            "parameters": [{"type": "payload", "payload": str(button["payload"])}],
        })
    template: dict[str, Any] = {"name": name,
                                "language": {"policy": "deterministic", "code": language}}
    if components:
        template["components"] = components
    return template


def _param(value: Any, where: str) -> dict[str, Any]:
    """A template parameter: plain text, a named text parameter, media, or Meta's own shape."""
    if isinstance(value, str | int | float):
        return {"type": "text", "text": str(value)}
    if not isinstance(value, dict):
        raise LimitError(where, "must be text or an object")
    kind = value.get("type", "text")
    if kind == "text":
        param: dict[str, Any] = {"type": "text"}
        name = value.get("name") or value.get("parameter_name")
        if name:
            param["parameter_name"] = str(name)
        if "text" not in value:
            raise LimitError(f"{where}.text", "is required")
        param["text"] = str(value["text"])
        return param
    if kind in ("image", "video", "document"):
        inner = value.get(kind)
        return {"type": kind,
                kind: _media_ref(inner if isinstance(inner, dict) else value, where)}
    if kind in ("currency", "date_time") and isinstance(value.get(kind), dict):
        return {"type": kind, kind: value[kind]}
    raise LimitError(where, f"unsupported parameter type '{kind}'")
