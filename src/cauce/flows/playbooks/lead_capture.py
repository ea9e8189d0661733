"""Playbook 1 — lead capture and qualification with automatic nurturing (seed 000).

Click-to-WhatsApp or the "Escribinos" button → the seed's qualified welcome with three options
→ AI intent → name/email/phone extracted into the contact → Cauce's CRM (the contact's tags
say whether it is already a customer) → interest and priority tags → welcome email, courtesy
WhatsApp, and an alert to the adviser when the priority is high."""

from __future__ import annotations

from typing import Any

from cauce.flows.playbooks.spec import (
    Kpi,
    L,
    NodeRatio,
    Param,
    Template,
    TimeToFirstOutbound,
    node,
)


def _build(p: dict[str, Any]) -> dict[str, Any]:
    en = p["language"] == "en"
    return {
        "format": 1,
        "metadata": {"tags": ["leads", "seed-000"]},
        "triggers": [
            {"type": "ad_referral"},
            {"type": "inbound_message", "channel": p["channel"], "match": "keyword",
             "keywords": p["entry_keywords"]},
        ],
        "settings": {"reentry": "after_end", "category": "marketing"},
        "nodes": [
            node("welcome", "whatsapp_buttons", {
                "body": p["welcome_text"],
                "buttons": [{"id": "buy", "title": p["option_buy"]},
                            {"id": "advisor", "title": p["option_advisor"]},
                            {"id": "support", "title": p["option_support"]}],
                "timeout": p["answer_timeout"]},
                buy="tag_buy", advisor="tag_advisor", support="tag_support",
                replied="classify", timeout="extract", failed="extract"),
            node("classify", "ai_classify_intent", {
                "intents": [
                    {"name": "buy", "description": "quiere comprar" if not en else "wants to buy",
                     "examples": ["quiero comprar", "precio", "disponible hoy", "I want to buy"]},
                    {"name": "advisor", "description": "quiere hablar con un asesor",
                     "examples": ["asesor", "vendedor", "hablar con alguien",
                                  "talk to someone"]},
                    {"name": "support", "description": "problema con un producto",
                     "examples": ["no funciona", "soporte", "se rompió", "it does not work"]},
                ],
                "threshold": 0.6, "save_as": "intent"},
                buy="tag_buy", advisor="tag_advisor", support="tag_support",
                unsure="extract"),
            node("tag_buy", "add_tag", {"tags": ["interes-compra"]}, next="extract"),
            node("tag_advisor", "add_tag", {"tags": ["interes-asesor"]}, next="extract"),
            node("tag_support", "add_tag", {"tags": ["interes-soporte"]}, next="extract"),
            node("extract", "ai_extract", {
                "fields": [{"name": "first_name", "kind": "name"},
                           {"name": "email", "kind": "email"},
                           {"name": "phone", "kind": "phone"}],
                "save_to_contact": True, "save_as": "lead"},
                next="lead", failed="lead"),
            node("lead", "add_tag", {"tags": ["lead"]}, next="priority"),
            node("priority", "condition", {"branches": [{"name": "high", "when": {
                "match": "any", "rules": [
                    {"field": "contact.tags", "operator": "contains", "value": "interes-compra"},
                    {"field": "contact.tags", "operator": "contains", "value": "interes-asesor"},
                    {"field": "contact.tags", "operator": "contains",
                     "value": p["customer_tag"]},
                ]}}]},
                high="tag_high", **{"else": "qualify"}),
            node("tag_high", "add_tag", {"tags": ["prioridad-alta"]}, next="alert"),
            node("alert", "notify_team", {
                "target": p["alert_target"], "to": p["alert_to"] or "",
                "subject": p["alert_subject"], "text": p["alert_text"]},
                next="qualify", failed="qualify"),
            node("qualify", "condition", {"branches": [{"name": "qualified", "when": {
                "match": "any", "rules": [
                    {"field": "contact.email", "operator": "exists"},
                    {"field": "contact.tags", "operator": "contains", "value": "prioridad-alta"},
                ]}}]},
                qualified="qualified", **{"else": "courtesy"}),
            node("qualified", "add_tag", {"tags": ["lead-calificado"]}, next="welcome_mail"),
            node("welcome_mail", "email", {
                "subject": p["mail_subject"], "text": p["mail_text"],
                "html": f"<p>{p['mail_text']}</p>"},
                next="courtesy", failed="courtesy"),
            node("courtesy", "whatsapp_text", {"text": p["courtesy_text"]},
                 next="done", failed="done"),
            node("done", "end", {"reason": "lead_processed"}),
        ],
    }


LEAD_CAPTURE = Template(
    id="lead_capture", kind="playbook", build_document=_build, category="leads",
    name=L("1) Captura y calificación de leads (con nutrición automática)",
           "1) Lead capture and qualification (with automatic nurturing)"),
    description=L(
        "Convierte conversaciones en leads calificados: detecta la intención, extrae nombre, "
        "email y teléfono, consulta el CRM, etiqueta interés y prioridad, envía el email de "
        "bienvenida y el mensaje de cortesía y alerta al asesor si la prioridad es alta.",
        "Turns conversations into qualified leads: detects the intent, extracts name, email "
        "and phone, checks the CRM, tags interest and priority, sends the welcome email and "
        "the courtesy message, and alerts the adviser when the priority is high."),
    source="seed 000, playbook 1",
    params=(
        Param("channel", "channel", L("Canal", "Channel"),
              L("Canal en el que llega el 'Escribinos'.", "Channel the 'Write to us' comes on."),
              "whatsapp", choices=("whatsapp", "any", "sms")),
        Param("entry_keywords", "keywords", L("Palabras de entrada", "Entry keywords"),
              L("Texto del botón 'Escribinos' (además del click-to-WhatsApp).",
                "Text of the 'Write to us' button (besides click-to-WhatsApp)."),
              ["escribinos", "quiero info", "información"],
              ["write to us", "info", "information"]),
        Param("welcome_text", "text", L("Bienvenida calificada", "Qualified welcome"),
              L("Primer mensaje con las tres opciones.", "First message with three options."),
              "Hola {{ contact.first_name | default: \"\" }} 👋 Gracias por escribirnos. Para "
              "ayudarte mejor, ¿cuál de estas opciones te interesa?",
              "Hi {{ contact.first_name | default: \"\" }} 👋 Thanks for writing to us. To help "
              "you better, which of these options are you interested in?"),
        Param("option_buy", "text", L("Opción 1", "Option 1"), L("Botón 1.", "Button 1."),
              "Comprar ahora", "Buy now"),
        Param("option_advisor", "text", L("Opción 2", "Option 2"), L("Botón 2.", "Button 2."),
              "Asesor comercial", "Sales adviser"),
        Param("option_support", "text", L("Opción 3", "Option 3"), L("Botón 3.", "Button 3."),
              "Soporte de producto", "Product support"),
        Param("answer_timeout", "duration", L("Espera de la opción", "Option wait"),
              L("Cuánto esperar que elija una opción.", "How long to wait for an option."),
              "1h"),
        Param("customer_tag", "text", L("Etiqueta de cliente", "Customer tag"),
              L("Etiqueta del CRM que marca a los clientes (prioridad alta).",
                "CRM tag that marks customers (high priority)."), "cliente", "customer"),
        Param("alert_target", "choice", L("Alerta al asesor por", "Adviser alert via"),
              L("email, slack o inbox (nota en la bandeja).",
                "email, slack or inbox (a note in the inbox)."),
              "inbox", choices=("email", "slack", "inbox")),
        Param("alert_to", "text", L("Destino de la alerta", "Alert recipient"),
              L("Email del asesor (o canal de Slack).", "The adviser's email (or Slack channel)."),
              None),
        Param("alert_subject", "text", L("Asunto de la alerta", "Alert subject"),
              L("Asunto de la alerta por email.", "Subject of the email alert."),
              "Lead prioritario: {{ contact.name | default: contact.phone }}",
              "Priority lead: {{ contact.name | default: contact.phone }}"),
        Param("alert_text", "text", L("Texto de la alerta", "Alert text"),
              L("Lo que recibe el asesor.", "What the adviser gets."),
              "Lead prioritario: {{ contact.name | default: contact.phone }} "
              "({{ contact.email | default: 'sin email' }}). Escribió: {{ message.text }}",
              "Priority lead: {{ contact.name | default: contact.phone }} "
              "({{ contact.email | default: 'no email' }}). Wrote: {{ message.text }}"),
        Param("mail_subject", "text", L("Asunto del email de bienvenida", "Welcome subject"),
              L("Email de bienvenida.", "Welcome email."),
              "¡Bienvenido, {{ contact.first_name | default: \"hola\" }}!",
              "Welcome, {{ contact.first_name | default: \"there\" }}!"),
        Param("mail_text", "text", L("Texto del email de bienvenida", "Welcome email text"),
              L("Email de bienvenida.", "Welcome email."),
              "Gracias por escribirnos. Un asesor te contacta en minutos.",
              "Thanks for writing to us. An adviser will contact you in minutes."),
        Param("courtesy_text", "text", L("Mensaje de cortesía", "Courtesy message"),
              L("WhatsApp de cierre.", "Closing WhatsApp message."),
              "¡Gracias, {{ contact.first_name | default: \"\" }}! Ya registramos tu consulta.",
              "Thanks, {{ contact.first_name | default: \"\" }}! We have your request."),
    ),
    kpis=(
        Kpi("qualified_rate", L("% leads calificados", "% qualified leads"),
            L("Ejecuciones que llegaron a 'lead calificado' / ejecuciones iniciadas.",
              "Runs that reached 'qualified lead' / runs started."),
            "percent", NodeRatio(nodes=("qualified",))),
        Kpi("time_to_first_response", L("Tiempo a primera respuesta", "Time to first response"),
            L("Mediana de segundos entre el inicio y el primer mensaje enviado.",
              "Median seconds from the start to the first message sent."),
            "seconds", TimeToFirstOutbound()),
        Kpi("adviser_alert_rate", L("% leads derivados al asesor", "% leads sent to an adviser"),
            L("Ejecuciones que alertaron al asesor / ejecuciones iniciadas.",
              "Runs that alerted the adviser / runs started."),
            "percent", NodeRatio(nodes=("alert",))),
    ),
    not_computed=(
        L("Tasa de contacto por asesor: los contactos de cada asesor ocurren en la bandeja, "
          "fuera del flujo.",
          "Contact rate per adviser: each adviser's contacts happen in the inbox, outside the "
          "flow."),
        L("Costo por lead: Cauce no conoce la inversión en anuncios.",
          "Cost per lead: Cauce does not know the ad spend."),
    ),
)
