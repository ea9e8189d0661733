"""Playbook 7 — operations and risk (seed 000).

Alert keywords (devolución, fraude, cancelación...) or an unusual-spike event → the
conversation is flagged (tag + the kind of risk) → evidence: an AI summary of the conversation
→ escalation to operations (a ticket with the evidence) → campaigns paused for the contact →
a note in the ERP/sheet (optional webhook) → an alert by Slack or email → when the risk came in
a conversation: the contact is told operations will answer and the conversation is handed to
the operations team (a person answers from the inbox: the "reaction time")."""

from __future__ import annotations

import re
from typing import Any

from cauce.flows.playbooks.spec import (
    Kpi,
    L,
    NodeCount,
    NodeRatio,
    Param,
    Template,
    TicketCount,
    TimeToAgentMessage,
    node,
)


def _build(p: dict[str, Any]) -> dict[str, Any]:
    after_pause = "erp_note" if p["erp_webhook_url"] else "alert"
    nodes = [
        node("kind", "ai_classify_intent", {
            "intents": [
                {"name": "return", "examples": ["quiero devolver", "devolución", "cambio de "
                                                "producto", "I want to return it"]},
                {"name": "fraud", "examples": ["fraude", "no reconozco este cargo", "estafa",
                                               "fraud"]},
                {"name": "cancellation", "examples": ["quiero cancelar", "dar de baja el "
                                                      "servicio", "cancelación",
                                                      "cancel my order"]},
            ], "threshold": 0.5, "save_as": "risk"},
            **{"return": "flag", "fraud": "flag", "cancellation": "flag", "unsure": "flag"}),
        node("flag", "add_tag", {"tags": [p["flag_tag"]]}, next="risk_kind"),
        node("risk_kind", "set_field", {
            "field": "risk_kind",
            "value": "{{ results.risk.intent | default: event.kind | default: 'spike' }}"},
            next="evidence", failed="evidence"),
        node("evidence", "ai_summarize", {"scope": "conversation", "save_as": "evidence"},
             next="escalate", failed="escalate"),
        node("escalate", "create_ticket", {
            "subject": p["ticket_subject"],
            "description": "{{ results.evidence.summary | default: message.text | default: "
                           "event.detail }}",
            "priority": p["priority"], "team": p["team"]},
            next="pause", failed="pause"),
        node("pause", "opt_out", {"mode": "pause", "pause_for": p["pause_for"]},
             next=after_pause),
    ]
    if p["erp_webhook_url"]:
        nodes.append(node("erp_note", "http_request", {
            "method": "POST", "url": p["erp_webhook_url"],
            "headers": {"Content-Type": "application/json"},
            "body": "{" + ", ".join(
                f'"{k}": "{{{{ {v} | strip_newlines | replace: \'"\', \"\'\" }}}}"'
                for k, v in (("contact", "contact.phone"), ("name", "contact.name"),
                             ("kind", "contact.fields.risk_kind"),
                             ("evidence", "results.evidence.summary | default: message.text"
                                          " | default: event.detail"))) + "}",
            "save_as": "erp"},
            success="alert", failed="alert"))
    nodes += [
        node("alert", "notify_team", {
            "target": p["alert_target"], "to": p["alert_to"] or "",
            "subject": p["alert_subject"], "text": p["alert_text"]},
            next="is_chat", failed="is_chat"),
        node("is_chat", "condition", {"branches": [{"name": "chat", "when": {"rules": [
            {"field": "message.text", "operator": "exists"}]}}]},
            chat="tell_contact", **{"else": "done"}),
        node("tell_contact", "whatsapp_text", {
            "text": p["contact_text"],
            "fallback_template": {"name": p["contact_template"], "language": p["language"]}},
            next="human", failed="human"),
        node("human", "handoff", {
            "team": p["team"], "priority": p["priority"], "include_transcript": True,
            "note": "{{ contact.fields.risk_kind }}: {{ results.evidence.summary | default: "
                    "message.text }}"},
            returned="done", failed="done"),
        node("done", "end", {"reason": "escalated"}),
    ]
    regex = "|".join(re.escape(k) for k in p["keywords"])
    return {
        "format": 1,
        "metadata": {"tags": ["operaciones", "riesgo", "seed-000"]},
        "triggers": [{"type": "inbound_message", "channel": "any", "match": "regex",
                      "regex": regex},
                     {"type": "business_event", "event": p["spike_event"]}],
        "settings": {"reentry": "always", "category": "service"},
        "nodes": nodes,
    }


OPERATIONS_RISK = Template(
    id="operations_risk", kind="playbook", build_document=_build, category="operations",
    name=L("7) Operaciones y riesgo", "7) Operations and risk"),
    description=L(
        "Anticipa problemas que afectan márgenes: ante palabras de alerta o picos inusuales "
        "marca la conversación, suma evidencia, escala a operaciones, pausa las campañas al "
        "contacto, anota en el ERP/planilla, avisa por Slack/email y deriva la conversación a "
        "operaciones.",
        "Anticipates problems that hurt margins: on alert keywords or unusual spikes it flags "
        "the conversation, gathers evidence, escalates to operations, pauses campaigns for the "
        "contact, notes it in the ERP/sheet, alerts by Slack/email and hands the conversation "
        "to operations."),
    source="seed 000, playbook 7",
    params=(
        Param("keywords", "keywords", L("Palabras de alerta", "Alert keywords"),
              L("Palabras que marcan la conversación.", "Words that flag the conversation."),
              ["devolución", "devolver", "fraude", "estafa", "cancelación", "cancelar",
               "reembolso"],
              ["return", "refund", "fraud", "scam", "cancel", "chargeback"]),
        Param("spike_event", "event", L("Evento de pico inusual", "Unusual-spike event"),
              L("Evento que tu monitoreo envía a /api/v1/events (data: kind, detail).",
                "Event your monitoring sends to /api/v1/events (data: kind, detail)."),
              "risk.spike"),
        Param("flag_tag", "text", L("Etiqueta de riesgo", "Risk tag"),
              L("Marca la conversación.", "Flags the conversation."), "riesgo", "risk"),
        Param("team", "team", L("Equipo de operaciones", "Operations team"),
              L("Equipo que recibe la escalada (el ticket y la conversación).",
                "Team that gets the escalation (the ticket and the conversation)."),
              "operaciones"),
        Param("priority", "choice", L("Prioridad", "Priority"),
              L("Prioridad del ticket y de la conversación.",
                "Priority of the ticket and the conversation."), "urgent",
              choices=("normal", "high", "urgent")),
        Param("ticket_subject", "text", L("Asunto de la escalada", "Escalation subject"),
              L("Asunto del ticket.", "Ticket subject."),
              "Riesgo ({{ contact.fields.risk_kind }}): {{ contact.name | default: "
              "contact.phone }}",
              "Risk ({{ contact.fields.risk_kind }}): {{ contact.name | default: "
              "contact.phone }}"),
        Param("pause_for", "duration", L("Pausa de campañas", "Campaign pause"),
              L("Cuánto pausar el marketing al contacto.", "How long to pause marketing."),
              "30d"),
        Param("erp_webhook_url", "url", L("ERP/planilla", "ERP/sheet"),
              L("Webhook (POST JSON) de tu ERP o planilla; vacío: sin nota.",
                "Your ERP's or sheet's webhook (JSON POST); empty: no note."), None),
        Param("alert_target", "choice", L("Aviso por", "Alert via"),
              L("slack, email o inbox.", "slack, email or inbox."), "inbox",
              choices=("slack", "email", "inbox")),
        Param("alert_to", "text", L("Destino del aviso", "Alert recipient"),
              L("Email(s) de operaciones o canal de Slack.",
                "Operations' email(s) or Slack channel."), None),
        Param("alert_subject", "text", L("Asunto del aviso", "Alert subject"),
              L("Asunto del aviso por email.", "Subject of the email alert."),
              "⚠️ Riesgo: {{ contact.fields.risk_kind }}", "⚠️ Risk: "
              "{{ contact.fields.risk_kind }}"),
        Param("alert_text", "text", L("Texto del aviso", "Alert text"),
              L("Lo que recibe operaciones.", "What operations gets."),
              "⚠️ {{ contact.fields.risk_kind }} — {{ contact.name | default: contact.phone }}: "
              "{{ results.evidence.summary | default: message.text | default: event.detail }}",
              "⚠️ {{ contact.fields.risk_kind }} — {{ contact.name | default: contact.phone }}: "
              "{{ results.evidence.summary | default: message.text | default: event.detail }}"),
        Param("contact_text", "text", L("Respuesta al contacto", "Answer to the contact"),
              L("Lo que recibe quien escribió.", "What the person who wrote gets."),
              "Recibimos tu mensaje. Una persona de operaciones te responde hoy mismo.",
              "We got your message. Someone from operations will answer today."),
        Param("contact_template", "template_name", L("Plantilla de respuesta",
              "Answer template"), L("Si la ventana se cerró.", "When the window closed."),
              "operaciones_recibido"),
    ),
    kpis=(
        Kpi("incidents_flagged", L("Incidencias detectadas", "Incidents flagged"),
            L("Conversaciones o picos marcados y escalados.",
              "Conversations or spikes flagged and escalated."),
            "count", NodeCount(nodes=("flag",))),
        Kpi("incidents_resolved", L("Incidencias resueltas", "Incidents resolved"),
            L("Tickets de escalada resueltos o cerrados.", "Escalation tickets solved or "
              "closed."), "count", TicketCount(status=("solved", "closed"))),
        Kpi("reaction_time", L("Tiempo de reacción", "Reaction time"),
            L("Mediana de segundos entre la detección y el primer mensaje de una persona de "
              "operaciones (desde el inbox) en las conversaciones derivadas.",
              "Median seconds from the detection to the first message a person of operations "
              "sent (from the inbox) in the conversations handed over."),
            "seconds", TimeToAgentMessage(of_nodes=("human",))),
        Kpi("escalation_rate", L("% escaladas", "% escalated"),
            L("Ejecuciones que abrieron la escalada / iniciadas.",
              "Runs that opened the escalation / runs started."),
            "percent", NodeRatio(nodes=("escalate",))),
    ),
    not_computed=(
        L("Pérdidas evitadas: requiere el monto en riesgo de cada incidencia, que Cauce no "
          "conoce.", "Losses avoided: needs the amount at risk of each incident, which Cauce "
          "does not know."),
    ),
)
