"""``cauce channels``: connect and inspect channels from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer
from sqlalchemy import select

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce
from cauce.services import channels as service
from cauce.services.auth import Principal
from cauce.services.errors import ServiceError
from cauce.store.models import Workspace

channels_app = typer.Typer(help="Channels: WhatsApp numbers, email, SMS, Slack.",
                           no_args_is_help=True)
add_app = typer.Typer(help="Connect a channel.", no_args_is_help=True)
channels_app.add_typer(add_app, name="add")
app.add_typer(channels_app, name="channels")

WORKSPACE = typer.Option("demo", "--workspace", help="Workspace slug.")


def _run(workspace: str, work: Callable[[Any, Any, Principal], Any]) -> Any:
    _, cauce = open_cauce()
    try:
        with cauce.transaction() as session:
            ws_id = session.scalar(select(Workspace.id).where(Workspace.slug == workspace))
            if ws_id is None:
                raise fail(f"workspace '{workspace}' does not exist")
            return work(session, cauce, Principal(ws_id, "cli", "owner"))
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        cauce.close()


def _create(workspace: str, kind: str, name: str, config: dict[str, Any],
            secrets: dict[str, Any], rate: float | None = None) -> None:
    data = service.ChannelCreate(
        kind=kind, name=name, config={k: v for k, v in config.items() if v not in (None, "")},
        secrets={k: v for k, v in secrets.items() if v not in (None, "")}, rate_per_second=rate)

    def work(session: Any, cauce: Any, principal: Principal) -> tuple[int, str | None]:
        row = service.create_channel(session, cauce.secrets, principal, data, cauce.clock.now())
        return row.id, row.identifier

    channel_id, identifier = _run(workspace, work)
    typer.echo(f"channel {channel_id} ({kind}) '{name}' connected"
               + (f" for {identifier}" if identifier else ""))


@add_app.command("whatsapp")
@operator_errors
def add_whatsapp(
    phone_number_id: str = typer.Option(..., help="Meta's Phone number ID (not the number)."),
    waba_id: str = typer.Option(..., help="WhatsApp Business Account ID."),
    token: str = typer.Option(..., help="Permanent (system user) access token."),
    app_secret: str = typer.Option(..., help="The Meta app's App Secret (signs webhooks)."),
    verify_token: str = typer.Option(..., help="Any string; paste the same in Meta's webhook "
                                     "settings."),
    name: str = typer.Option("WhatsApp", help="A name for this number in Cauce."),
    graph_version: str = typer.Option("", help="Graph API version (default v23.0)."),
    graph_base_url: str = typer.Option("", help="Graph API base URL (tests only)."),
    rate: float = typer.Option(0, help="Messages per second (default 80)."),
    workspace: str = WORKSPACE,
) -> None:
    """Connect a WhatsApp Cloud API number."""
    _create(workspace, "whatsapp", name,
            {"phone_number_id": phone_number_id, "waba_id": waba_id,
             "graph_version": graph_version, "graph_base_url": graph_base_url},
            {"access_token": token, "app_secret": app_secret, "verify_token": verify_token},
            rate or None)


@add_app.command("email")
@operator_errors
def add_email(
    host: str = typer.Option(..., help="SMTP server."),
    from_address: str = typer.Option(..., "--from", help="Sender address."),
    port: int = typer.Option(0, help="Port (default 587, or 465 with --security tls)."),
    security: str = typer.Option("starttls", help="starttls | tls | none"),
    username: str = typer.Option("", help="SMTP user."),
    password: str = typer.Option("", help="SMTP password."),
    from_name: str = typer.Option("", help="Sender name."),
    unsubscribe_url: str = typer.Option("", help="Unsubscribe link ({to} and {key} are "
                                        "replaced)."),
    bounce_token: str = typer.Option("", help="Token your provider sends to "
                                     "/webhooks/email/bounces."),
    name: str = typer.Option("Email", help="A name for this channel."),
    workspace: str = WORKSPACE,
) -> None:
    """Connect an SMTP account."""
    _create(workspace, "email", name,
            {"host": host, "from_address": from_address, "port": port or None,
             "security": security, "username": username, "from_name": from_name,
             "unsubscribe_url": unsubscribe_url},
            {"password": password, "bounce_token": bounce_token})


@add_app.command("sms")
@operator_errors
def add_sms(
    account_sid: str = typer.Option("", help="Twilio Account SID."),
    auth_token: str = typer.Option("", help="Twilio Auth Token."),
    from_number: str = typer.Option("", "--from", help="Sending number, E.164."),
    messaging_service_sid: str = typer.Option("", help="Twilio Messaging Service SID."),
    provider_config: str = typer.Option(
        "", help="Generic HTTP provider instead of Twilio: a JSON file with url, method, "
        "body_format, body, id_path... (see docs/channels.md)."),
    provider_secrets: str = typer.Option(
        "", help="Generic provider: JSON file with auth and webhook_token."),
    name: str = typer.Option("SMS", help="A name for this channel."),
    workspace: str = WORKSPACE,
) -> None:
    """Connect SMS: Twilio (--account-sid ...) or a generic HTTP provider (--provider-config)."""
    if provider_config:
        try:
            with open(provider_config) as handle:
                config = json.load(handle)
            secrets = {}
            if provider_secrets:
                with open(provider_secrets) as handle:
                    secrets = json.load(handle)
        except (OSError, ValueError) as exc:
            raise fail(f"cannot read the provider JSON: {exc}") from None
        if from_number:
            config["from_number"] = from_number
        _create(workspace, "sms_http", name, config, secrets)
        return
    if not account_sid or not auth_token:
        raise fail("Twilio needs --account-sid and --auth-token (or use --provider-config)")
    _create(workspace, "sms_twilio", name,
            {"account_sid": account_sid, "from_number": from_number,
             "messaging_service_sid": messaging_service_sid}, {"auth_token": auth_token})


@add_app.command("slack")
@operator_errors
def add_slack(
    webhook_url: str = typer.Option(..., help="Incoming webhook URL from Slack."),
    name: str = typer.Option("Slack", help="A name for this channel."),
    workspace: str = WORKSPACE,
) -> None:
    """Connect a Slack incoming webhook for team notifications."""
    _create(workspace, "slack", name, {}, {"webhook_url": webhook_url})


@channels_app.command("list")
@operator_errors
def list_channels(workspace: str = WORKSPACE) -> None:
    """List the workspace's channels (secrets are never shown)."""

    def work(session: Any, cauce: Any, principal: Principal) -> list[str]:
        return [f"{c.id}\t{c.kind}\t{c.name}\t{c.identifier or '-'}\t{c.status}"
                + (f" ({c.status_reason})" if c.status_reason else "")
                for c in service.list_channels(session, principal.workspace_id)]

    lines = _run(workspace, work)
    typer.echo("id\tkind\tname\tidentifier\tstatus")
    for line in lines:
        typer.echo(line)


@channels_app.command("test")
@operator_errors
def test_channel(
    channel_id: int = typer.Argument(..., help="Channel id (see `cauce channels list`)."),
    to: str = typer.Option(..., help="Recipient: phone (E.164) or e-mail address."),
    text: str = typer.Option("Cauce test message", help="Text to send."),
    workspace: str = WORKSPACE,
) -> None:
    """Send one test message now."""

    def work(session: Any, cauce: Any, principal: Principal) -> Any:
        return service.test_send(session, cauce.secrets, principal, channel_id, to, text,
                                 cauce.clock.now())

    result = _run(workspace, work)
    if result.status == "sent":
        typer.echo(f"sent: {result.provider_id}")
        return
    raise fail(f"{result.error.reason} ({result.error.code}, {result.error.action.value})",
               code=1)


@channels_app.command("sync-templates")
@operator_errors
def sync_templates(channel_id: int = typer.Argument(...), workspace: str = WORKSPACE) -> None:
    """Fetch a WhatsApp number's message templates from Meta."""

    def work(session: Any, cauce: Any, principal: Principal) -> list[str]:
        rows = service.sync_templates(session, cauce.secrets, principal, channel_id,
                                      cauce.clock.now())
        return [f"{t.name}\t{t.language}\t{t.category}\t{t.status}" for t in rows]

    for line in _run(workspace, work):
        typer.echo(line)
