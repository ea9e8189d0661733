"""Playbook 3 — support with self-diagnosis and handoff to a human (seed 000).

Keywords ("no funciona", "cambiar turno", "factura") → AI intent → suggested steps for that
intent → "¿Se resolvió?" → yes: a CSAT question; no (or no answer): an AI summary, a ticket with
owner team, priority and the conversation, and a handoff to an agent with the history; when
the agent hands the conversation back, the CSAT question."""

from __future__ import annotations

import re
from typing import Any

from cauce.flows.playbooks.spec import (
    Kpi,
    L,
    NodeRatio,
    Param,
    ResultScore,
    Template,
    TicketCount,
    TimeToNode,
    node,
)


def _ask(node_id: str, body: str, p: dict[str, Any]) -> dict[str, Any]:
    return node(node_id, "whatsapp_buttons", {
        "body": body, "buttons": [{"id": "solved", "title": p["button_solved"]},
                                  {"id": "not_solved", "title": p["button_not_solved"]}],
        "timeout": p["solve_timeout"]},
        solved="glad", not_solved="summary", replied="summary", timeout="summary",
        failed="summary")


def _build(p: dict[str, Any]) -> dict[str, Any]:
    regex = "|".join(re.escape(k).replace("\\ ", " ") for k in p["keywords"])
    return {
        "format": 1,
        "metadata": {"tags": ["soporte", "seed-000"]},
        "triggers": [{"type": "inbound_message", "channel": p["channel"], "match": "regex",
                      "regex": regex}],
        "settings": {"reentry": "after_end", "category": "service"},
        "nodes": [
            node("classify", "ai_classify_intent", {
                "intents": [
                    {"name": "not_working", "examples": [
                        "no funciona", "no puedo acceder", "no anda", "it does not work",
                        "I can't log in"]},
                    {"name": "appointment", "examples": [
                        "cambiar turno", "quiero reprogramar", "cambiar la cita",
                        "change my appointment"]},
                    {"name": "billing", "examples": [
                        "factura", "me cobraron dos veces", "necesito la factura", "invoice"]},
                ],
                "threshold": 0.5, "save_as": "intent"},
                not_working="steps_not_working", appointment="steps_appointment",
                billing="steps_billing", unsure="summary"),
            _ask("steps_not_working", p["steps_not_working"], p),
            _ask("steps_appointment", p["steps_appointment"], p),
            _ask("steps_billing", p["steps_billing"], p),
            node("glad", "whatsapp_text", {"text": p["solved_text"]},
                 next="solved", failed="solved"),
            node("solved", "add_tag", {"tags": ["resuelto-autodiagnostico"]}, next="csat"),
            node("summary", "ai_summarize", {"scope": "conversation", "save_as": "summary"},
                 next="ticket", failed="ticket"),
            node("ticket", "create_ticket", {
                "subject": p["ticket_subject"],
                "description": "{{ results.summary.summary | default: message.text }}",
                "priority": p["priority"], "team": p["team"]},
                next="human", failed="human"),
            node("human", "handoff", {
                "team": p["team"], "priority": p["priority"], "include_transcript": True,
                "note": p["handoff_note"]},
                returned="csat", failed="csat"),
            node("csat", "whatsapp_text", {
                "text": p["csat_text"],
                "fallback_template": {"name": p["csat_template"], "language": p["language"]}},
                next="csat_wait", failed="done"),
            node("csat_wait", "wait_for_reply", {"timeout": p["csat_timeout"],
                                                 "message_node": "csat"},
                 replied="thanks", timeout="done"),
            node("thanks", "whatsapp_text", {"text": p["thanks_text"]},
                 next="done", failed="done"),
            node("done", "end"),
        ],
    }


SUPPORT_HANDOFF = Template(
    id="support_handoff", kind="playbook", build_document=_build, category="support",
    name=L("3) Soporte con autodiagnóstico y handoff a humano",
           "3) Support with self-diagnosis and handoff to a human"),
    description=L(
        "Resuelve las consultas frecuentes y escala solo lo complejo: clasifica la intención, "
        "sugiere pasos, pregunta si se resolvió y, si no, abre un ticket y deriva a un agente "
        "con el histórico.",
        "Solves frequent questions and escalates only the complex ones: classifies the intent, "
        "suggests steps, asks whether it worked and, if not, opens a ticket and hands over to "
        "an agent with the history."),
    source="seed 000, playbook 3",
    params=(
        Param("channel", "channel", L("Canal", "Channel"),
              L("Canal que escucha el disparador.", "Channel the trigger listens on."),
              "any", choices=("any", "whatsapp", "sms", "email")),
        Param("keywords", "keywords", L("Palabras clave", "Keywords"),
              L("Frases que inician el flujo.", "Phrases that start the flow."),
              ["no funciona", "no puedo acceder", "cambiar turno", "factura"],
              ["not working", "can't log in", "change appointment", "invoice"]),
        Param("steps_not_working", "text", L("Pasos: no funciona", "Steps: not working"),
              L("Pasos sugeridos y la pregunta '¿Se resolvió?'.",
                "Suggested steps and the question 'Did it work?'."),
              "Probá esto: 1) Cerrá sesión y volvé a entrar 2) Tocá «Olvidé mi contraseña» "
              "3) Seguí el email. ¿Se resolvió?",
              "Try this: 1) Log out and back in 2) Tap 'Forgot my password' 3) Follow the "
              "email. Did it work?"),
        Param("steps_appointment", "text", L("Pasos: turnos", "Steps: appointments"),
              L("Cómo cambiar un turno.", "How to change an appointment."),
              "Podés cambiar tu turno en {{ workspace.booking_url | default: 'nuestra web' }} "
              "→ Mis turnos → Reprogramar. ¿Se resolvió?",
              "You can change your appointment at {{ workspace.booking_url | default: 'our "
              "website' }} → My appointments → Reschedule. Did it work?"),
        Param("steps_billing", "text", L("Pasos: facturas", "Steps: invoices"),
              L("Dónde encontrar la factura.", "Where to find the invoice."),
              "Tus facturas están en {{ workspace.billing_url | default: 'tu cuenta' }} → "
              "Facturación. ¿Se resolvió?",
              "Your invoices are at {{ workspace.billing_url | default: 'your account' }} → "
              "Billing. Did it work?"),
        Param("button_solved", "text", L("Botón 'sí'", "'Yes' button"),
              L("Botón de resuelto.", "Solved button."), "Sí, gracias", "Yes, thanks"),
        Param("button_not_solved", "text", L("Botón 'no'", "'No' button"),
              L("Botón de no resuelto.", "Not-solved button."), "No, sigue igual",
              "No, still broken"),
        Param("solve_timeout", "duration", L("Espera de la respuesta", "Answer wait"),
              L("Sin respuesta en este tiempo: se deriva.", "No answer: hand over."), "2h"),
        Param("solved_text", "text", L("Mensaje si se resolvió", "Solved message"),
              L("Respuesta al 'sí'.", "Answer to 'yes'."),
              "¡Genial! Cualquier cosa, escribinos.", "Great! Write to us any time."),
        Param("team", "team", L("Equipo", "Team"),
              L("Equipo responsable del ticket y de la conversación.",
                "Team that owns the ticket and the conversation."), "soporte"),
        Param("priority", "choice", L("Prioridad", "Priority"),
              L("Prioridad del ticket y del handoff.", "Priority of the ticket and handoff."),
              "high", choices=("low", "normal", "high", "urgent")),
        Param("ticket_subject", "text", L("Asunto del ticket", "Ticket subject"),
              L("Asunto del ticket.", "Ticket subject."),
              "Soporte: {{ results.intent.intent | default: 'consulta' }} — "
              "{{ contact.name | default: contact.phone }}",
              "Support: {{ results.intent.intent | default: 'question' }} — "
              "{{ contact.name | default: contact.phone }}"),
        Param("handoff_note", "text", L("Nota para el agente", "Note for the agent"),
              L("Lo que ve el agente junto a la transcripción.",
                "What the agent sees next to the transcript."),
              "Autodiagnóstico sin éxito. {{ results.summary.summary | default: '' }}",
              "Self-diagnosis did not help. {{ results.summary.summary | default: '' }}"),
        Param("csat_text", "text", L("Pregunta CSAT", "CSAT question"),
              L("Pide una puntuación de 1 a 5.", "Asks for a score from 1 to 5."),
              "¿Cómo te atendimos? Respondé con un número del 1 al 5 🙌",
              "How did we do? Answer with a number from 1 to 5 🙌"),
        Param("csat_template", "template_name", L("Plantilla CSAT", "CSAT template"),
              L("Plantilla si la ventana se cerró.", "Template when the window closed."),
              "encuesta_csat"),
        Param("csat_timeout", "duration", L("Espera CSAT", "CSAT wait"),
              L("Cuánto esperar la puntuación.", "How long to wait for the score."), "1d"),
        Param("thanks_text", "text", L("Agradecimiento", "Thanks"),
              L("Respuesta a la puntuación.", "Answer to the score."),
              "¡Gracias por tu respuesta!", "Thanks for your answer!"),
    ),
    kpis=(
        Kpi("fcr", L("Resolución en primer contacto (FCR)", "First-contact resolution (FCR)"),
            L("Ejecuciones resueltas sin agente / ejecuciones iniciadas.",
              "Runs solved without an agent / runs started."),
            "percent", NodeRatio(nodes=("solved",))),
        Kpi("handling_time", L("Tiempo medio de atención", "Average handling time"),
            L("Mediana de segundos entre el inicio y la pregunta CSAT (resuelto o devuelto "
              "por el agente).", "Median seconds from the start to the CSAT question (solved "
              "or handed back by the agent)."),
            "seconds", TimeToNode(nodes=("csat",))),
        Kpi("csat", L("CSAT", "CSAT"),
            L("Promedio de la puntuación 1–5 respondida.", "Average of the 1–5 scores given."),
            "score", ResultScore(result="csat_wait", path="text", mode="average")),
        Kpi("handoffs", L("% derivados a un agente", "% handed to an agent"),
            L("Ejecuciones que llegaron al handoff / iniciadas.",
              "Runs that reached the handoff / runs started."),
            "percent", NodeRatio(nodes=("human",))),
        Kpi("tickets_opened", L("Tickets abiertos", "Tickets opened"),
            L("Tickets creados por el flujo.", "Tickets the flow created."),
            "count", TicketCount()),
    ),
)
