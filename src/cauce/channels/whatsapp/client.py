"""The WhatsApp Cloud API adapter: send messages, fetch media, list templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cauce import limits
from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)
from cauce.channels.http import (
    AsyncPooledClient,
    HttpResponse,
    PooledClient,
    TransportError,
    json_or_empty,
    retry_after_seconds,
    timeout_from,
    transport_error,
)
from cauce.channels.whatsapp.errors import error_from_body
from cauce.channels.whatsapp.payloads import WHATSAPP_KINDS, LimitError, build_body

DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v23.0"
PROVIDER = "WhatsApp"

CAPABILITIES = Capabilities(
    kinds=WHATSAPP_KINDS,
    max_body=limits.WHATSAPP_TEXT_MAX,
    rate_per_second=limits.WHATSAPP_DEFAULT_RATE_PER_SECOND,
    window_hours=limits.WHATSAPP_WINDOW_HOURS,
    buttons_max=limits.WHATSAPP_BUTTONS_MAX,
    button_title_max=limits.WHATSAPP_BUTTON_TITLE_MAX,
    list_rows_max=limits.WHATSAPP_LIST_ROWS_MAX,
    supports_templates=True,
)


class GraphError(Exception):
    """A Graph API call other than a send failed (media, templates); carries the mapped error."""

    def __init__(self, error: ChannelError) -> None:
        super().__init__(error.reason)
        self.error = error


def graph_url(config: dict[str, Any], path: str) -> str:
    base = str(config.get("graph_base_url") or DEFAULT_GRAPH_BASE_URL).rstrip("/")
    version = str(config.get("graph_version") or DEFAULT_GRAPH_VERSION).strip("/")
    return f"{base}/{version}/{path.lstrip('/')}"


def _auth(config: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.get('access_token', '')}"}


def limit_failure(exc: LimitError) -> SendResult:
    return SendResult.failed(ChannelError(f"limit:{exc.field}", str(exc), ErrorAction.FAIL))


def template_refusal(message: OutboundMessage, config: dict[str, Any]) -> ChannelError | None:
    """Refuse a template the registry knows is not approved (``config["templates"]`` maps
    ``"name:language"`` to its status; absent means "let Meta decide")."""
    registry = config.get("templates")
    if message.kind != "template" or not isinstance(registry, dict):
        return None
    name = str(message.payload.get("name", ""))
    language = str(message.payload.get("language", ""))
    status = registry.get(f"{name}:{language}")
    if status is None:
        return ChannelError("template_unknown", f"template '{name}' ({language}) is not in this "
                            "number's template registry; sync templates or check the name",
                            ErrorAction.FAIL)
    if str(status).lower() != "approved":
        return ChannelError(f"template_{str(status).lower()}", f"template '{name}' ({language}) "
                            f"is {str(status).lower()}, not approved; it cannot be sent",
                            ErrorAction.FAIL)
    return None


def _send_result(message: OutboundMessage, response: HttpResponse) -> SendResult:
    """Map the Graph API's answer to a send."""
    data = json_or_empty(response)
    if response.is_success:
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return SendResult.sent(str(messages[0].get("id", "")), raw=data)
        return SendResult.failed(ChannelError(
            "bad_answer", "WhatsApp accepted the request but returned no message id",
            ErrorAction.RETRY), raw=data)
    template = str(message.payload.get("name")) if message.kind == "template" else None
    error = error_from_body(data, response.status_code, template=template,
                            retry_after=retry_after_seconds(response))
    return SendResult.failed(error, raw=data)


class WhatsAppAdapter:
    """Meta's Cloud API. ``config``: phone_number_id, access_token, optional graph_base_url,
    graph_version, timeout_seconds and templates (status registry, filled by the service)."""

    kind = "whatsapp"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def __init__(self) -> None:
        self._pool = PooledClient()
        self._async_pool = AsyncPooledClient()

    def close(self) -> None:
        """Close pooled connections (the process-wide adapters live until exit)."""
        self._pool.close()
        self._async_pool.close()

    def build(self, message: OutboundMessage) -> dict[str, Any]:
        """The request body, or :class:`LimitError`."""
        return build_body(message)

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        request = self._send_request(message, config)
        if isinstance(request, SendResult):
            return request
        url, body, headers = request
        try:
            response = self._pool.client.post(url, json=body, headers=headers,
                                              timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, PROVIDER))
        return _send_result(message, response)

    async def send_async(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        """:meth:`send` on the running event loop (delivery's send loop): the same request
        and the same mapping of the answer, through the pooled aiohttp client."""
        request = self._send_request(message, config)
        if isinstance(request, SendResult):
            return request
        url, body, headers = request
        try:
            response = await self._async_pool.client().post(url, json=body, headers=headers,
                                                            timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, PROVIDER))
        return _send_result(message, response)

    def _send_request(
        self, message: OutboundMessage, config: dict[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, str]] | SendResult:
        """URL, body and headers of a send, or the failure that stops it before any call."""
        try:
            body = build_body(message)
        except LimitError as exc:
            return limit_failure(exc)
        refusal = template_refusal(message, config)
        if refusal is not None:
            return SendResult.failed(refusal)
        phone_number_id = str(config.get("phone_number_id") or "")
        if not phone_number_id:
            return SendResult.failed(ChannelError(
                "config", "the WhatsApp channel has no phone_number_id",
                ErrorAction.CHANNEL_BROKEN))
        return graph_url(config, f"{phone_number_id}/messages"), body, _auth(config)

    # ---- other Graph API calls ------------------------------------------------------------

    def _get_json(self, url: str, config: dict[str, Any],
                  params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._pool.client.get(url, headers=_auth(config), params=params,
                                             timeout=timeout_from(config))
        except TransportError as exc:
            raise GraphError(transport_error(exc, PROVIDER)) from exc
        data = json_or_empty(response)
        if not response.is_success:
            raise GraphError(error_from_body(data, response.status_code,
                                             retry_after=retry_after_seconds(response)))
        return data

    def fetch_media(self, media_id: str, config: dict[str, Any]) -> MediaContent:
        """Download an inbound media object: look up its short-lived URL, then fetch it with
        the token (Meta's URLs need it and expire after minutes, so we never store them)."""
        info = self._get_json(graph_url(config, media_id), config)
        url = str(info.get("url") or "")
        if not url:
            raise GraphError(ChannelError("bad_answer", "WhatsApp returned no media URL",
                                          ErrorAction.FAIL))
        try:
            response = self._pool.client.get(url, headers=_auth(config),
                                             timeout=timeout_from(config))
        except TransportError as exc:
            raise GraphError(transport_error(exc, PROVIDER)) from exc
        if not response.is_success:
            raise GraphError(error_from_body(json_or_empty(response), response.status_code))
        mime = str(info.get("mime_type") or response.headers.get("content-type")
                   or "application/octet-stream")
        return MediaContent(content=response.content, mime_type=mime,
                            sha256=str(info.get("sha256") or ""))

    def list_templates(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        """Every message template of the WhatsApp Business Account, following paging."""
        waba_id = str(config.get("waba_id") or "")
        if not waba_id:
            raise GraphError(ChannelError("config", "the channel has no waba_id (WhatsApp "
                                          "Business Account id)", ErrorAction.FAIL))
        url: str | None = graph_url(config, f"{waba_id}/message_templates")
        params: dict[str, Any] | None = {
            "limit": 100, "fields": "name,language,status,category,components,id"}
        out: list[dict[str, Any]] = []
        pages = 0
        while url and pages < 100:  # 10,000 templates is far beyond Meta's per-WABA cap
            data = self._get_json(url, config, params)
            out.extend(t for t in data.get("data", []) if isinstance(t, dict))
            paging = data.get("paging") if isinstance(data.get("paging"), dict) else {}
            url = str(paging.get("next")) if paging and paging.get("next") else None
            params = None  # the "next" URL carries its own query
            pages += 1
        return out


@dataclass(frozen=True)
class MediaContent:
    content: bytes
    mime_type: str
    sha256: str = ""
