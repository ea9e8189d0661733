"""Email over SMTP (stdlib ``smtplib``: synchronous like the adapter contract, no extra
dependency). Multipart text + HTML, ``List-Unsubscribe`` (RFC 2369) with one-click
``List-Unsubscribe-Post`` (RFC 8058) and the same link in the body.

``config``: host, port, security (``starttls`` | ``tls`` | ``none``), username, password,
from_address, from_name, timeout_seconds, unsubscribe_url (may contain ``{to}`` and ``{key}``),
unsubscribe_mailto.
"""

from __future__ import annotations

import html
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import quote

from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)

SUBJECT_MAX = 998  # RFC 5322 line limit
BODY_MAX = 10_000_000
CAPABILITIES = Capabilities(kinds=frozenset({"email", "text"}), max_body=BODY_MAX,
                            rate_per_second=10.0)
SECURITY = ("starttls", "tls", "none")


def _fail(code: str, reason: str, action: ErrorAction = ErrorAction.FAIL) -> SendResult:
    return SendResult.failed(ChannelError(code, reason, action))


def unsubscribe_link(message: OutboundMessage, config: dict[str, Any]) -> str | None:
    explicit = message.payload.get("unsubscribe_url")
    if explicit:
        return str(explicit)
    template = config.get("unsubscribe_url")
    if not template:
        return None
    return str(template).replace("{to}", quote(message.to)).replace("{key}", quote(message.key))


def build_email(message: OutboundMessage, config: dict[str, Any]) -> EmailMessage:
    """The MIME message; raises ``ValueError`` naming the field when something is missing."""
    subject = str(message.payload.get("subject") or "")
    text = str(message.payload.get("text") or "")
    html_body = message.payload.get("html")
    if not subject:
        raise ValueError("subject: is required")
    if len(subject) > SUBJECT_MAX or "\n" in subject or "\r" in subject:
        raise ValueError("subject: one line of at most 998 characters")
    if not text and not html_body:
        raise ValueError("text: an email needs text or html")
    if "@" not in message.to:
        raise ValueError(f"to: '{message.to}' is not an e-mail address")
    sender = str(config.get("from_address") or "")
    if "@" not in sender:
        raise ValueError("from_address: the email channel needs a sender address")
    link = unsubscribe_link(message, config)
    mailto = config.get("unsubscribe_mailto")
    if message.category == "marketing" and not link and not mailto:
        raise ValueError("unsubscribe_url: marketing email needs an unsubscribe link; set the "
                         "channel's unsubscribe_url")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((str(config.get("from_name") or ""), sender))
    msg["To"] = message.to
    domain = sender.rsplit("@", 1)[1]
    # Our key goes into the Message-ID (bounces quote it); only dot-atom characters are legal.
    safe_key = re.sub(r"[^A-Za-z0-9.-]", "-", message.key)[:64]
    message_id = make_msgid(idstring=safe_key, domain=domain)
    msg["Message-ID"] = message_id
    msg["X-Cauce-Key"] = message.key
    targets = []
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    if link:
        targets.append(f"<{link}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if targets:
        msg["List-Unsubscribe"] = ", ".join(targets)
    if link:
        text = f"{text}\n\n--\nUnsubscribe: {link}\n" if text else text
        if html_body:
            html_body = (f"{html_body}\n<p style=\"font-size:12px;color:#666\">"
                         f"<a href=\"{html.escape(link)}\">Unsubscribe</a></p>")
    if not text and html_body:
        text = "This message is best viewed in an HTML-capable mail reader."
    msg.set_content(text)
    if html_body:
        msg.add_alternative(str(html_body), subtype="html")
    return msg


class EmailAdapter:
    kind = "email"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        try:
            mime = build_email(message, config)
        except ValueError as exc:
            field = str(exc).split(":", 1)[0]
            return _fail(f"limit:{field}", str(exc))
        host = str(config.get("host") or "")
        security = str(config.get("security") or "starttls")
        if not host or security not in SECURITY:
            return _fail("config", "the email channel needs host and security "
                         f"({'|'.join(SECURITY)})", ErrorAction.CHANNEL_BROKEN)
        port = int(config.get("port") or (465 if security == "tls" else 587))
        timeout = float(config.get("timeout_seconds") or 20)
        context = ssl.create_default_context()
        if config.get("insecure_skip_verify"):  # self-signed relays on a private network
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            smtp: smtplib.SMTP
            if security == "tls":
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=context)
                if config.get("username"):
                    smtp.login(str(config["username"]), str(config.get("password") or ""))
                refused = smtp.send_message(mime)
        except smtplib.SMTPAuthenticationError as exc:
            return _fail(f"smtp_{exc.smtp_code}", "the SMTP server rejected the username or "
                         "password; update the email channel", ErrorAction.CHANNEL_BROKEN)
        except smtplib.SMTPNotSupportedError:
            return _fail("smtp_starttls", "the SMTP server does not support STARTTLS; set "
                         "security to 'tls' (port 465) or 'none'", ErrorAction.CHANNEL_BROKEN)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _smtp_code_result(code, text, message.to)
        except smtplib.SMTPSenderRefused as exc:
            return _fail(f"smtp_{exc.smtp_code}", f"the SMTP server refused the sender "
                         f"{exc.sender}: {_decode(exc.smtp_error)}", ErrorAction.CHANNEL_BROKEN)
        except smtplib.SMTPResponseException as exc:
            return _smtp_code_result(exc.smtp_code, exc.smtp_error, message.to)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            if isinstance(exc, socket.timeout | TimeoutError):
                return _fail("timeout", "the SMTP server did not answer in time",
                             ErrorAction.RETRY)
            return _fail("network", f"could not talk to the SMTP server {host}:{port}: "
                         f"{type(exc).__name__}: {exc}", ErrorAction.RETRY)
        if refused:
            code, text = next(iter(refused.values()))
            return _smtp_code_result(code, text, message.to)
        return SendResult.sent(str(mime["Message-ID"]).strip())


def _decode(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _smtp_code_result(code: int, text: bytes | str, to: str) -> SendResult:
    detail = _decode(text)
    if 400 <= code < 500:
        return _fail(f"smtp_{code}", f"the mail server deferred the message ({code} {detail}); "
                     "retrying", ErrorAction.RETRY)
    return _fail(f"smtp_{code}", f"the mail server refused {to} ({code} {detail})")
