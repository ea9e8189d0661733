"""SMS through any HTTP provider, configured as data (e.g. a local provider like EnviosSMS.com).

``config``:
- ``method`` (POST|GET|PUT), ``url``;
- ``auth``: ``{"type": "none"}``, ``{"type": "basic", "username", "password"}``,
  ``{"type": "bearer", "token"}`` or ``{"type": "header", "name", "value"}`` / ``"query"``;
- ``headers``: extra headers;
- ``body_format``: ``json`` | ``form`` | ``query``; ``body``: an object whose string values may
  contain ``{{to}}``, ``{{to_digits}}``, ``{{text}}``, ``{{from}}``, ``{{key}}``,
  ``{{status_url}}`` (replaced before sending; values stay correctly escaped because we
  substitute inside the parsed structure, never in raw JSON text);
- ``id_path``: where the provider's message id is in its JSON answer (``data.id``,
  ``messages.0.id``); ``success_path``/``success_value`` optionally check an "ok" flag;
- for callbacks (``/webhooks/sms/{channel_id}``): ``status_id_field``, ``status_field``,
  ``status_map`` ({provider status: sent|delivered|failed}), ``inbound_from_field``,
  ``inbound_text_field``, ``inbound_id_field``.
"""

from __future__ import annotations

import re
from typing import Any

from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)
from cauce.channels.http import (
    PooledClient,
    TransportError,
    json_or_empty,
    status_error,
    timeout_from,
    transport_error,
)
from cauce.channels.sms_twilio import SMS_BODY_MAX, check_text, text_of

CAPABILITIES = Capabilities(kinds=frozenset({"sms", "text"}), max_body=SMS_BODY_MAX,
                            rate_per_second=5.0)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
PLACEHOLDERS = ("to", "to_digits", "text", "from", "key", "status_url")
METHODS = ("POST", "GET", "PUT")
BODY_FORMATS = ("json", "form", "query")


def render(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``{{name}}`` inside every string of a JSON-like structure."""
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                raise ValueError(f"body: unknown placeholder {{{{{name}}}}}; use one of "
                                 f"{', '.join(PLACEHOLDERS)}")
            return variables[name]
        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, dict):
        return {str(k): render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def dig(data: Any, path: str) -> Any:
    """``a.b.0.c`` into nested dicts and lists; ``None`` when a step is missing."""
    current = data
    for part in [p for p in path.split(".") if p]:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def check_config(config: dict[str, Any]) -> list[str]:
    """Every problem with a generic provider configuration, each naming the field."""
    problems = []
    if str(config.get("method", "POST")).upper() not in METHODS:
        problems.append(f"method: use one of {', '.join(METHODS)}")
    if not str(config.get("url") or "").startswith(("https://", "http://")):
        problems.append("url: the provider's http(s) endpoint is required")
    if config.get("body_format", "json") not in BODY_FORMATS:
        problems.append(f"body_format: use one of {', '.join(BODY_FORMATS)}")
    if not isinstance(config.get("body", {}), dict):
        problems.append("body: must be an object of fields")
    auth = config.get("auth") or {"type": "none"}
    if not isinstance(auth, dict) or auth.get("type") not in (
            "none", "basic", "bearer", "header", "query"):
        problems.append("auth.type: use none, basic, bearer, header or query")
    if not config.get("id_path"):
        problems.append("id_path: where the message id is in the provider's answer "
                        "(e.g. data.id)")
    try:
        render(config.get("body", {}), dict.fromkeys(PLACEHOLDERS, ""))
    except ValueError as exc:
        problems.append(str(exc))
    return problems


class HttpSmsAdapter:
    kind = "sms_http"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def __init__(self) -> None:
        self._pool = PooledClient()

    def close(self) -> None:
        """Close pooled connections (the process-wide adapters live until exit)."""
        self._pool.close()

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        text = text_of(message)
        problem = check_text(text)
        if problem:
            return SendResult.failed(problem)
        problems = check_config(config)
        if problems:
            return SendResult.failed(ChannelError("config", "; ".join(problems),
                                                  ErrorAction.CHANNEL_BROKEN))
        to = message.to if message.to.startswith("+") else f"+{message.to}"
        variables = {"to": to, "to_digits": to.lstrip("+"), "text": text,
                     "from": str(config.get("from_number") or ""), "key": message.key,
                     "status_url": str(config.get("status_callback_url") or "")}
        body = render(config.get("body") or {}, variables)
        headers = {str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}
        params: dict[str, Any] = {}
        auth_cfg = dict(config.get("auth") or {"type": "none"})
        auth: tuple[str, str] | None = None
        if auth_cfg["type"] == "basic":
            auth = (str(auth_cfg.get("username", "")), str(auth_cfg.get("password", "")))
        elif auth_cfg["type"] == "bearer":
            headers["Authorization"] = f"Bearer {auth_cfg.get('token', '')}"
        elif auth_cfg["type"] == "header":
            headers[str(auth_cfg.get("name", "X-Api-Key"))] = str(auth_cfg.get("value", ""))
        elif auth_cfg["type"] == "query":
            params[str(auth_cfg.get("name", "api_key"))] = str(auth_cfg.get("value", ""))
        method = str(config.get("method", "POST")).upper()
        fmt = config.get("body_format", "json")
        kwargs: dict[str, Any] = {"headers": headers}
        if fmt == "json":
            kwargs["json"] = body
        elif fmt == "form":
            kwargs["data"] = {k: str(v) for k, v in body.items()}
        else:
            params.update({k: str(v) for k, v in body.items()})
        if params:
            kwargs["params"] = params
        try:
            response = self._pool.client.request(
                method, str(config["url"]), auth=auth, **kwargs, timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, "the SMS provider"))
        data = json_or_empty(response)
        if not response.is_success:
            return SendResult.failed(status_error(response, "the SMS provider"), raw=data)
        success_path = config.get("success_path")
        if success_path:
            flag = dig(data, str(success_path))
            expected = config.get("success_value", True)
            if str(flag).lower() != str(expected).lower():
                detail = dig(data, str(config.get("error_path") or "message")) or data
                return SendResult.failed(ChannelError(
                    "provider_refused", f"the SMS provider refused the message: {detail}",
                    ErrorAction.FAIL), raw=data)
        provider_id = dig(data, str(config["id_path"]))
        if provider_id in (None, ""):
            return SendResult.failed(ChannelError(
                "bad_answer", f"the SMS provider answered without an id at "
                f"'{config['id_path']}'; check id_path", ErrorAction.FAIL), raw=data)
        return SendResult.sent(str(provider_id), raw=data)
