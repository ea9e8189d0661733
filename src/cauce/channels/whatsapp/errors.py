"""Meta's error codes → what Cauce does about them (the reference table, as data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cauce.channels.base import ChannelError, ErrorAction


@dataclass(frozen=True)
class _Rule:
    action: ErrorAction
    reason: str
    default_retry_after: float | None = None


# Reasons are what the editor shows next to the step; they say what happened and what to do.
ERROR_TABLE: dict[int, _Rule] = {
    131047: _Rule(ErrorAction.FALLBACK_TEMPLATE,
                  "window closed: more than 24 hours since the contact's last message; only an "
                  "approved template can be sent now"),
    131026: _Rule(ErrorAction.FAIL,
                  "undeliverable: the number is not on WhatsApp or its app is too old; try "
                  "another channel"),
    130429: _Rule(ErrorAction.RETRY,
                  "WhatsApp throughput limit reached for this number; retrying with backoff", 1.0),
    131056: _Rule(ErrorAction.RETRY,
                  "too many messages to this contact in a short time; retrying later", 60.0),
    131049: _Rule(ErrorAction.SUPPRESS_MARKETING,
                  "WhatsApp limited marketing messages to this contact; no marketing for 24 "
                  "hours", 86_400.0),
    131050: _Rule(ErrorAction.SUPPRESS_MARKETING,
                  "the contact stopped marketing messages from this business in WhatsApp"),
    132000: _Rule(ErrorAction.FAIL,
                  "template '{template}': the number of parameters does not match the approved "
                  "template"),
    132001: _Rule(ErrorAction.FAIL,
                  "template '{template}' does not exist in this language or is not approved yet"),
    132015: _Rule(ErrorAction.FAIL, "template '{template}' is paused by Meta for low quality"),
    132016: _Rule(ErrorAction.FAIL, "template '{template}' is disabled by Meta"),
    131000: _Rule(ErrorAction.RETRY, "WhatsApp had an internal problem; retrying"),
    2: _Rule(ErrorAction.RETRY, "WhatsApp's service is temporarily unavailable; retrying"),
    190: _Rule(ErrorAction.CHANNEL_BROKEN,
               "the access token expired or was revoked; paste a new permanent token in the "
               "channel settings"),
    10: _Rule(ErrorAction.CHANNEL_BROKEN,
              "the token lacks the whatsapp_business_messaging permission"),
    200: _Rule(ErrorAction.CHANNEL_BROKEN,
               "the token lacks the whatsapp_business_messaging permission"),
    133010: _Rule(ErrorAction.CHANNEL_BROKEN,
                  "the phone number is not registered with the Cloud API"),
    131042: _Rule(ErrorAction.CHANNEL_BROKEN,
                  "WhatsApp refused payment: fix the business account's payment method"),
}


def map_error(
    code: int | None, *, http_status: int | None = None, details: str = "",
    template: str | None = None, retry_after: float | None = None,
) -> ChannelError:
    """One Graph API error (from a send answer or a ``failed`` status) in our terms."""
    rule = ERROR_TABLE.get(code) if code is not None else None
    if rule is None:
        if http_status == 401:
            rule = ERROR_TABLE[190]
        elif http_status == 429:
            rule = ERROR_TABLE[130429]
        elif http_status is not None and http_status >= 500:
            rule = _Rule(ErrorAction.RETRY, f"WhatsApp had a temporary problem (HTTP "
                         f"{http_status}); retrying")
        else:
            text = details or "WhatsApp refused the message"
            shown = f"{text} (code {code})" if code is not None else text
            return ChannelError(str(code if code is not None else f"http_{http_status}"),
                                shown, ErrorAction.FAIL, retry_after)
    reason = rule.reason.format(template=template or "?")
    if details and rule.action is ErrorAction.FAIL and code and 132000 <= code < 133000:
        reason = f"{reason}: {details}"
    shown_code = str(code) if code is not None else f"http_{http_status}"
    return ChannelError(shown_code, reason, rule.action,
                        retry_after if retry_after is not None else rule.default_retry_after)


def error_from_body(body: dict[str, Any], http_status: int, *, template: str | None = None,
                    retry_after: float | None = None) -> ChannelError:
    """Map a Graph API error answer ``{"error": {code, message, error_data{details}}}``."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    raw_code = error.get("code")
    code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    details = str((data or {}).get("details") or error.get("message") or "")
    return map_error(code, http_status=http_status, details=details, template=template,
                     retry_after=retry_after)
