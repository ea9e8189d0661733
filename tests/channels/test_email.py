"""Email over SMTP against a real aiosmtpd server: multipart, List-Unsubscribe, auth, errors."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from cauce.channels.base import ErrorAction, OutboundMessage
from cauce.channels.email import EmailAdapter


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[Envelope, Message]] = []
        self.reject: tuple[int, str] | None = None

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.reject:
            return f"{self.reject[0]} {self.reject[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session,
                          envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.received.append((envelope, email.message_from_bytes(content)))
        return "250 Message accepted"


def _authenticator(server: Any, session: Session, envelope: Envelope, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and \
        (auth_data.login, auth_data.password) == (b"cauce", b"s3cret")
    return AuthResult(success=ok, handled=False)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


def config(port: int, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "security": "none", "username": "cauce",
            "password": "s3cret", "from_address": "hola@tienda.example", "from_name": "Tienda",
            "timeout_seconds": 5, **extra}


def message(category: str = "service", **payload: Any) -> OutboundMessage:
    body = {"subject": "Tu pedido", "text": "Hola Ana", "html": "<p>Hola <b>Ana</b></p>",
            **payload}
    return OutboundMessage(key="run-7:mail:1", channel="email", kind="email",
                           to="ana@example.com", payload=body, category=category)


def test_multipart_with_list_unsubscribe(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = config(port, unsubscribe_url="https://cauce.example/u?to={to}&k={key}",
                 unsubscribe_mailto="bajas@tienda.example")
    result = EmailAdapter().send(message("marketing"), cfg)
    assert result.status == "sent", result.error
    assert result.provider_id and result.provider_id.endswith("@tienda.example>")
    ((envelope, mime),) = inbox.received
    assert envelope.mail_from == "hola@tienda.example"
    assert envelope.rcpt_tos == ["ana@example.com"]
    assert mime["Subject"] == "Tu pedido" and mime["From"] == "Tienda <hola@tienda.example>"
    assert str(mime["Message-ID"]).strip() == result.provider_id
    link = "https://cauce.example/u?to=ana%40example.com&k=run-7%3Amail%3A1"
    assert " ".join(str(mime["List-Unsubscribe"]).split()) == \
        f"<mailto:bajas@tienda.example?subject=unsubscribe>, <{link}>"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mime.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode()  # type: ignore[union-attr]
             for p in mime.walk() if not p.is_multipart()}
    assert parts["text/plain"].startswith("Hola Ana") and link in parts["text/plain"]
    assert "<b>Ana</b>" in parts["text/html"] and 'href="https://cauce.example/u?to=ana%40' \
        in parts["text/html"]


def test_marketing_without_an_unsubscribe_link_is_refused(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    result = EmailAdapter().send(message("marketing"), config(port))
    assert result.error is not None and result.error.code == "limit:unsubscribe_url"
    assert inbox.received == []


def test_wrong_password_breaks_the_channel(smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    result = EmailAdapter().send(message(), config(port, password="nope"))
    assert result.error is not None
    assert result.error.action is ErrorAction.CHANNEL_BROKEN and "password" in result.error.reason


@pytest.mark.parametrize(("code", "action"), [(550, ErrorAction.FAIL),
                                              (451, ErrorAction.RETRY)])
def test_refused_recipients(smtp: tuple[Inbox, int], code: int, action: ErrorAction) -> None:
    inbox, port = smtp
    inbox.reject = (code, "mailbox unavailable")
    result = EmailAdapter().send(message(), config(port))
    assert result.error is not None
    assert (result.error.code, result.error.action) == (f"smtp_{code}", action)
    assert "mailbox unavailable" in result.error.reason


def test_starttls_against_a_server_without_it(smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    result = EmailAdapter().send(message(), config(port, security="starttls"))
    assert result.error is not None and result.error.code == "smtp_starttls"
    assert "set security to 'tls'" in result.error.reason


def test_unreachable_server_is_retried() -> None:
    result = EmailAdapter().send(message(), config(_port()))
    assert result.error is not None and result.error.action is ErrorAction.RETRY


@pytest.mark.parametrize(("payload", "field"), [({"subject": ""}, "subject"),
                                                ({"text": "", "html": None}, "text")])
def test_missing_parts_name_the_field(payload: dict[str, Any], field: str) -> None:
    result = EmailAdapter().send(message(**payload), config(1))
    assert result.error is not None and result.error.code == f"limit:{field}"
