"""Seed 000's three scenes as their own short flows, built from the shipped example documents
(src/cauce/flows/examples/*.json, which keep their golden scenarios): with the default
parameters in Spanish a scene template builds exactly its example."""

from __future__ import annotations

import copy
from typing import Any

from cauce.flows.examples import load_example
from cauce.flows.playbooks.spec import (
    EventRatio,
    Kpi,
    L,
    NodeRatio,
    Param,
    Template,
    TimeToAgentMessage,
    TimeToFirstOutbound,
    TimeToNode,
)


def _nodes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in doc["nodes"]}


# ---------------------------------------------------------------------------- scene 1


def _scene_lead(p: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(load_example("lead_from_ad"))
    n = _nodes(doc)
    n["welcome_mail"]["config"].update(
        subject=p["welcome_subject"], text=p["welcome_text"],
        html=f"<p>{p['welcome_text']}</p>")
    n["courtesy"]["config"]["text"] = p["courtesy_text"]
    n["advisor"]["config"]["team"] = p["team"]
    n["crm"]["config"]["url"] = p["crm_lookup_url"]
    if p["language"] == "en":
        doc["metadata"]["name"] = "From the ad to a qualified lead"
        doc["metadata"]["description"] = SCENE_LEAD.description.en
        n["advisor"]["config"]["note"] = \
            "Priority lead ({{ results.intent.intent | default: 'no intent' }})"
    return doc


SCENE_LEAD = Template(
    id="scene_lead_from_ad", kind="scene", build_document=_scene_lead, category="leads",
    name=L("Escena 1 — Del anuncio al lead calificado",
           "Scene 1 — From the ad to a qualified lead"),
    description=L(
        "Click-to-WhatsApp: intención con IA, datos del contacto, consulta al CRM, etiqueta por "
        "interés; prioridad alta: asesor en vivo y email de bienvenida.",
        "Click-to-WhatsApp: AI intent, the contact's data, a CRM lookup, an interest tag; high "
        "priority: a live adviser and a welcome email."),
    source="seed 000, Escena 1",
    params=(
        Param("team", "team", L("Equipo de asesores", "Advisers' team"),
              L("Equipo que recibe los leads prioritarios.", "Team that gets priority leads."),
              "ventas"),
        Param("crm_lookup_url", "url", L("Consulta al CRM", "CRM lookup"),
              L("URL que responde si el teléfono ya es cliente (JSON con 'customer').",
                "URL answering whether the phone is a customer (JSON with 'customer')."),
              "{{ workspace.crm_url | default: 'https://crm.example.com' }}/api/contacts?phone="
              "{{ contact.phone | url_encode }}"),
        Param("welcome_subject", "text", L("Asunto del email de bienvenida", "Welcome subject"),
              L("Asunto del email de bienvenida.", "Subject of the welcome email."),
              "¡Bienvenido, {{ contact.first_name | default: \"hola\" }}!",
              "Welcome, {{ contact.first_name | default: \"there\" }}!"),
        Param("welcome_text", "text", L("Texto del email de bienvenida", "Welcome email text"),
              L("Cuerpo del email de bienvenida.", "Body of the welcome email."),
              "Gracias por escribirnos. Un asesor te contacta en minutos.",
              "Thanks for writing to us. An adviser will contact you in minutes."),
        Param("courtesy_text", "text", L("Mensaje de cortesía", "Courtesy message"),
              L("WhatsApp para los leads de prioridad normal.",
                "WhatsApp message for normal-priority leads."),
              "Hola {{ contact.first_name | default: \"hola\" }} 👋 Gracias por escribirnos. "
              "En breve te respondemos.",
              "Hi {{ contact.first_name | default: \"there\" }} 👋 Thanks for writing to us. "
              "We will answer shortly."),
    ),
    kpis=(
        Kpi("priority_leads", L("% leads prioritarios", "% priority leads"),
            L("Ejecuciones que llegaron al asesor / ejecuciones iniciadas.",
              "Runs that reached the adviser / runs started."),
            "percent", NodeRatio(nodes=("advisor",))),
        Kpi("time_to_first_response", L("Tiempo a primera respuesta", "Time to first response"),
            L("Mediana de segundos entre el inicio y el primer mensaje enviado por el flujo.",
              "Median seconds from the start to the first message the flow sent."),
            "seconds", TimeToFirstOutbound()),
        Kpi("time_to_adviser", L("Tiempo hasta el asesor", "Time to the adviser"),
            L("Mediana de segundos entre el inicio y el primer mensaje de una persona (desde "
              "el inbox) a los leads prioritarios.",
              "Median seconds from the start to the first message a person sent (from the "
              "inbox) to priority leads."),
            "seconds", TimeToAgentMessage(of_nodes=("advisor",))),
    ),
)


# ---------------------------------------------------------------------------- scene 2


def _scene_cart(p: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(load_example("abandoned_cart"))
    doc["triggers"][0]["event"] = p["event"]
    n = _nodes(doc)
    n["reminder"]["config"]["name"] = p["reminder_template"]
    n["pay_mail"]["config"].update(subject=p["mail_subject"], text=p["mail_text"])
    n["send_link"]["config"]["text"] = p["link_text"]
    n["last_call"]["config"]["text"] = p["last_call_sms"]
    n["await"]["config"]["timeout"] = p["reply_timeout"]
    n["await_payment"]["config"]["event"] = p["payment_event"]
    n["await_payment"]["config"]["timeout"] = p["payment_timeout"]
    n["agent"]["config"]["team"] = p["team"]
    if p["language"] == "en":
        doc["metadata"]["name"] = "An abandoned cart that does come back"
        doc["metadata"]["description"] = SCENE_CART.description.en
        n["reminder"]["config"]["language"] = "en"
        n["reminder"]["config"]["buttons"] = [
            {"id": "pay", "title": "Pay now"}, {"id": "delivery", "title": "Home delivery"},
            {"id": "pickup", "title": "Store pickup"}]
        n["send_link"]["config"]["fallback_template"]["language"] = "en"
        n["agent"]["config"]["note"] = "Question about an abandoned cart"
    return doc


SCENE_CART = Template(
    id="scene_abandoned_cart", kind="scene", build_document=_scene_cart, category="ecommerce",
    name=L("Escena 2 — Carrito abandonado que sí vuelve",
           "Scene 2 — An abandoned cart that does come back"),
    description=L(
        "Recordatorio por WhatsApp con el resumen, métodos de pago y entrega/retiro; email con "
        "el link de pago; sin respuesta, SMS de último aviso.",
        "A WhatsApp reminder with the summary, payment and delivery/pickup options; an email "
        "with the payment link; no answer: a last-call SMS."),
    source="seed 000, Escena 2",
    params=(
        Param("event", "event", L("Evento de carrito abandonado", "Abandoned-cart event"),
              L("Evento que tu e-commerce envía a /api/v1/events.",
                "Event your shop sends to /api/v1/events."), "cart.abandoned"),
        Param("payment_event", "event", L("Evento de pago", "Payment event"),
              L("Evento que confirma el pago.", "Event that confirms the payment."),
              "order.paid"),
        Param("reminder_template", "template_name",
              L("Plantilla de recordatorio", "Reminder template"),
              L("Plantilla aprobada con {{1}} nombre, {{2}} resumen, {{3}} total y 3 botones.",
                "Approved template with {{1}} name, {{2}} summary, {{3}} total and 3 buttons."),
              "carrito_recordatorio"),
        Param("mail_subject", "text", L("Asunto del email", "Email subject"),
              L("Asunto del email con el link de pago.", "Subject of the payment email."),
              "Tu carrito te espera", "Your cart is waiting"),
        Param("mail_text", "text", L("Texto del email", "Email text"),
              L("Texto del email con el link de pago.", "Text of the payment email."),
              "Podés pagar acá: {{ event.payment_url | default: workspace.shop_url }}",
              "You can pay here: {{ event.payment_url | default: workspace.shop_url }}"),
        Param("link_text", "text", L("Mensaje con el link", "Payment link message"),
              L("WhatsApp con el link de pago.", "WhatsApp message with the payment link."),
              "¡Genial! Este es tu link de pago: {{ event.payment_url | default: "
              "workspace.shop_url }}",
              "Great! Here is your payment link: {{ event.payment_url | default: "
              "workspace.shop_url }}"),
        Param("last_call_sms", "text", L("SMS de último aviso", "Last-call SMS"),
              L("SMS si no hay respuesta.", "SMS when there is no answer."),
              "Último aviso: tu carrito vence hoy. Pagá en {{ event.payment_url | default: "
              "workspace.shop_url }}",
              "Last call: your cart expires today. Pay at {{ event.payment_url | default: "
              "workspace.shop_url }}"),
        Param("reply_timeout", "duration", L("Espera de respuesta", "Reply wait"),
              L("Cuánto esperar la respuesta antes del SMS.", "How long to wait before the SMS."),
              "1d"),
        Param("payment_timeout", "duration", L("Espera del pago", "Payment wait"),
              L("Cuánto esperar el evento de pago.", "How long to wait for the payment."), "2d"),
        Param("team", "team", L("Equipo", "Team"),
              L("Equipo que atiende las consultas.", "Team that answers questions."), "ventas"),
    ),
    kpis=(
        Kpi("recovery_rate", L("Tasa de recuperación", "Recovery rate"),
            L("Carritos con evento de pago después del inicio / carritos abandonados.",
              "Carts with a payment event after the start / abandoned carts."),
            "percent", EventRatio(event_node="await_payment")),
        Kpi("recovered_in_flow", L("Recuperados en el flujo", "Recovered within the flow"),
            L("Ejecuciones que llegaron a 'recuperado' / iniciadas.",
              "Runs that reached 'recovered' / runs started."),
            "percent", NodeRatio(nodes=("recovered",))),
    ),
)


# ---------------------------------------------------------------------------- scene 3


def _scene_support(p: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(load_example("support_self_service"))
    doc["triggers"][0]["regex"] = p["trigger_regex"]
    n = _nodes(doc)
    n["steps"]["config"]["body"] = p["steps_text"]
    n["steps"]["config"]["timeout"] = p["solve_timeout"]
    n["glad"]["config"]["text"] = p["solved_text"]
    n["ticket"]["config"]["team"] = p["team"]
    n["human"]["config"]["team"] = p["team"]
    if p["language"] == "en":
        doc["metadata"]["name"] = "Support with self-diagnosis"
        doc["metadata"]["description"] = SCENE_SUPPORT.description.en
        n["steps"]["config"]["buttons"] = [{"id": "solved", "title": "Yes, thanks"},
                                           {"id": "not_solved", "title": "No, still broken"}]
        n["ticket"]["config"]["subject"] = \
            "Support: {{ results.intent.intent | default: 'question' }} — " \
            "{{ contact.name | default: contact.phone }}"
        n["human"]["config"]["note"] = \
            "Self-diagnosis did not help. {{ results.summary.summary | default: '' }}"
    return doc


SCENE_SUPPORT = Template(
    id="scene_support_self_service", kind="scene",
    build_document=_scene_support, category="support",
    name=L("Escena 3 — Soporte con autodiagnóstico", "Scene 3 — Support with self-diagnosis"),
    description=L(
        "Reconoce la intención, propone pasos de solución y pregunta si se resolvió; si no, "
        "crea un ticket con el contexto y deriva a un agente.",
        "Recognises the intent, suggests steps and asks whether it worked; if not, opens a "
        "ticket with the context and hands over to an agent."),
    source="seed 000, Escena 3",
    params=(
        Param("trigger_regex", "text", L("Expresión que dispara", "Trigger expression"),
              L("Expresión regular sobre el mensaje entrante.",
                "Regular expression over the inbound message."),
              "no (puedo|funciona)|acceder|factura|cambiar turno",
              "no (puedo|funciona)|acceder|factura|cambiar turno|can'?t (log ?in|access)|"
              "not working|invoice"),
        Param("steps_text", "text", L("Pasos sugeridos", "Suggested steps"),
              L("Mensaje con los pasos y la pregunta '¿Se resolvió?'.",
                "Message with the steps and the question 'Did it work?'."),
              "Probá esto: 1) Entrá a {{ workspace.login_url | default: 'la web' }} 2) Tocá "
              "«Olvidé mi contraseña» 3) Seguí el email. ¿Se resolvió?",
              "Try this: 1) Go to {{ workspace.login_url | default: 'the website' }} 2) Tap "
              "'Forgot my password' 3) Follow the email. Did it work?"),
        Param("solved_text", "text", L("Mensaje si se resolvió", "Solved message"),
              L("Respuesta cuando el cliente confirma.", "Answer when the customer confirms."),
              "¡Genial! Cualquier cosa, escribinos.", "Great! Write to us any time."),
        Param("solve_timeout", "duration", L("Espera de la respuesta", "Answer wait"),
              L("Cuánto esperar el '¿se resolvió?'.", "How long to wait for the answer."),
              "2h"),
        Param("team", "team", L("Equipo de soporte", "Support team"),
              L("Equipo que recibe el ticket y la conversación.",
                "Team that gets the ticket and the conversation."), "soporte"),
    ),
    kpis=(
        Kpi("fcr", L("Resolución en primer contacto", "First-contact resolution"),
            L("Ejecuciones resueltas por autodiagnóstico / ejecuciones que recibieron los pasos.",
              "Runs solved by self-diagnosis / runs that got the steps."),
            "percent", NodeRatio(nodes=("solved",), of_nodes=("steps",))),
        Kpi("time_to_handoff", L("Tiempo hasta el agente", "Time to the agent"),
            L("Mediana de segundos entre el inicio y la derivación.",
              "Median seconds from the start to the handoff."),
            "seconds", TimeToNode(nodes=("human",))),
    ),
)

