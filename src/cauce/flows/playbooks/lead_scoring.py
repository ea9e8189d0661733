"""Playbook 6 — lead scoring with real-time alerts for sales (seed 000).

Messages with buying signals ("precio", "disponible hoy"...) → AI extracts the signals (intent
and sentiment) → a score from the signals, the intent and the history (existing customer, the
contact's accumulated score) → hot / warm / cold. Hot: immediate alert to the adviser, the
opportunity moved to the SQL stage and the conversation handed to the sales team (the adviser
answers from the inbox, which is what "time to human contact" measures); warm: 3 days of
nurturing by email and WhatsApp; cold: tag.
"""

from __future__ import annotations

import re
from typing import Any

from cauce.flows.playbooks.spec import (
    Kpi,
    L,
    NodeCount,
    NodeRatio,
    OpportunityRatio,
    Param,
    Template,
    TimeToAgentMessage,
    node,
)


def _has(word: str) -> dict[str, Any]:
    return {"rules": [{"field": "message.text", "operator": "contains", "value": word}]}


def _build(p: dict[str, Any]) -> dict[str, Any]:
    signals = [{"when": _has(w), "points": p["signal_points"]} for w in p["signals"]]
    signals += [
        {"when": {"rules": [{"field": "results.intent.intent", "operator": "eq",
                             "value": "buy"}]}, "points": 20},
        {"when": {"rules": [{"field": "contact.tags", "operator": "contains",
                             "value": p["customer_tag"]}]}, "points": 15},
    ]
    score = "contact.lead_score"
    return {
        "format": 1,
        "metadata": {"tags": ["ventas", "lead-scoring", "seed-000"]},
        "triggers": [{"type": "inbound_message", "channel": p["channel"], "match": "regex",
                      "regex": "|".join(re.escape(s) for s in p["signals"])}],
        "settings": {"reentry": "after_end", "category": "marketing"},
        "nodes": [
            node("intent", "ai_classify_intent", {
                "intents": [
                    {"name": "buy", "examples": ["quiero comprar", "lo quiero hoy",
                                                 "cómo pago", "I want to buy it"]},
                    {"name": "ask_price", "examples": ["precio", "cuánto sale", "cuánto cuesta",
                                                       "how much is it"]},
                    {"name": "browse", "examples": ["solo miraba", "info general",
                                                    "just looking"]},
                ], "threshold": 0.5, "save_as": "intent"},
                buy="score", ask_price="score", browse="score", unsure="score"),
            node("score", "lead_score", {"signals": signals}, next="category"),
            node("category", "condition", {"branches": [
                {"name": "hot", "when": {"rules": [
                    {"field": score, "operator": "gte", "value": p["hot_threshold"]}]}},
                {"name": "warm", "when": {"rules": [
                    {"field": score, "operator": "gte", "value": p["warm_threshold"]}]}}]},
                hot="hot", warm="warm", **{"else": "cold"}),
            node("hot", "add_tag", {"tags": ["lead-caliente"]}, next="alert"),
            node("alert", "notify_team", {
                "target": p["alert_target"], "to": p["alert_to"] or "",
                "subject": p["alert_subject"], "text": p["alert_text"]},
                next="sql", failed="sql"),
            node("sql", "update_opportunity", {"pipeline": p["pipeline"],
                                               "stage": p["sql_stage"]},
                 next="hot_reply"),
            node("hot_reply", "whatsapp_text", {"text": p["hot_text"]},
                 next="adviser", failed="adviser"),
            node("adviser", "handoff", {
                "team": p["team"], "priority": "high", "include_transcript": True,
                "note": p["handoff_note"]},
                returned="done", failed="done"),
            node("warm", "add_tag", {"tags": ["lead-templado"]}, next="nurture_1"),
            node("nurture_1", "whatsapp_text", {"text": p["nurture_whatsapp_1"]},
                 next="day_1", failed="day_1"),
            node("day_1", "delay", {"duration": "1d"}, next="nurture_2"),
            node("nurture_2", "email", {
                "subject": p["nurture_mail_subject"], "text": p["nurture_mail_text"],
                "html": f"<p>{p['nurture_mail_text']}</p>"},
                next="day_2", failed="day_2"),
            node("day_2", "delay", {"duration": "1d"}, next="nurture_3"),
            node("nurture_3", "whatsapp_text", {
                "text": p["nurture_whatsapp_3"],
                "fallback_template": {"name": p["nurture_template"],
                                      "language": p["language"],
                                      "body_params": ["{{ contact.first_name | default: '' }}"]}},
                next="day_3", failed="day_3"),
            node("day_3", "delay", {"duration": "1d"}, next="nurtured"),
            node("nurtured", "add_tag", {"tags": ["nutricion-completa"]}, next="done"),
            node("cold", "add_tag", {"tags": ["lead-frio"]}, next="done"),
            node("done", "end"),
        ],
    }


LEAD_SCORING = Template(
    id="lead_scoring", kind="playbook", build_document=_build, category="sales",
    name=L("6) Lead Scoring + alerta en tiempo real para ventas",
           "6) Lead scoring + real-time alerts for sales"),
    description=L(
        "Prioriza las oportunidades calientes: detecta señales de compra, puntúa con el "
        "histórico y decide caliente/templado/frío; caliente: alerta inmediata al asesor y la "
        "conversación derivada a ventas; "
        "templado: nutrición de 3 días por email y WhatsApp.",
        "Prioritises hot opportunities: detects buying signals, scores them with the history "
        "and decides hot/warm/cold; hot: an immediate alert to the adviser and the "
        "conversation handed to sales; warm: 3 days of "
        "nurturing by email and WhatsApp."),
    source="seed 000, playbook 6",
    params=(
        Param("channel", "channel", L("Canal", "Channel"),
              L("Canal que escucha el disparador.", "Channel the trigger listens on."),
              "whatsapp", choices=("whatsapp", "any", "sms")),
        Param("signals", "keywords", L("Señales de compra", "Buying signals"),
              L("Palabras que disparan el flujo y suman puntos.",
                "Words that start the flow and add points."),
              ["precio", "disponible hoy", "cuánto sale", "comprar", "stock"],
              ["price", "available today", "how much", "buy", "in stock"]),
        Param("signal_points", "integer", L("Puntos por señal", "Points per signal"),
              L("Puntos por cada señal presente.", "Points for each signal present."),
              15, minimum=1, maximum=100),
        Param("customer_tag", "text", L("Etiqueta de cliente", "Customer tag"),
              L("El histórico: los clientes suman 15 puntos.",
                "The history: customers add 15 points."), "cliente", "customer"),
        Param("hot_threshold", "integer", L("Umbral caliente", "Hot threshold"),
              L("Puntaje acumulado desde el que es caliente.", "Accumulated score for hot."),
              40, minimum=1, maximum=10000),
        Param("warm_threshold", "integer", L("Umbral templado", "Warm threshold"),
              L("Puntaje acumulado desde el que es templado.", "Accumulated score for warm."),
              15, minimum=1, maximum=10000),
        Param("pipeline", "pipeline", L("Pipeline", "Pipeline"),
              L("Pipeline de la oportunidad del lead caliente.",
                "Pipeline of the hot lead's opportunity."), "Ventas"),
        Param("sql_stage", "stage", L("Etapa SQL", "SQL stage"),
              L("Etapa a la que pasa el lead caliente (SQL).", "Stage hot leads move to (SQL)."),
              "Calificado", "Qualified"),
        Param("team", "team", L("Equipo de ventas", "Sales team"),
              L("Equipo al que se deriva la conversación del lead caliente (el asesor "
                "responde desde el inbox).", "Team the hot lead's conversation is handed to "
                "(the adviser answers from the inbox)."), "ventas"),
        Param("handoff_note", "text", L("Nota para el asesor", "Note for the adviser"),
              L("Nota de la derivación en el inbox.", "The handoff's note in the inbox."),
              "Lead caliente ({{ contact.lead_score }} puntos)",
              "Hot lead ({{ contact.lead_score }} points)"),
        Param("alert_target", "choice", L("Alerta por", "Alert via"),
              L("email, slack o inbox.", "email, slack or inbox."), "inbox",
              choices=("email", "slack", "inbox")),
        Param("alert_to", "text", L("Destino de la alerta", "Alert recipient"),
              L("Email del asesor o canal de Slack.", "The adviser's email or Slack channel."),
              None),
        Param("alert_subject", "text", L("Asunto de la alerta", "Alert subject"),
              L("Asunto de la alerta por email.", "Subject of the email alert."),
              "🔥 Lead caliente: {{ contact.name | default: contact.phone }}",
              "🔥 Hot lead: {{ contact.name | default: contact.phone }}"),
        Param("alert_text", "text", L("Texto de la alerta", "Alert text"),
              L("Lo que recibe el asesor.", "What the adviser gets."),
              "Lead caliente ({{ contact.lead_score }} puntos): {{ contact.name | default: "
              "contact.phone }} escribió «{{ message.text }}». Contactalo ahora.",
              "Hot lead ({{ contact.lead_score }} points): {{ contact.name | default: "
              "contact.phone }} wrote '{{ message.text }}'. Contact them now."),
        Param("hot_text", "text", L("Respuesta al caliente", "Answer to hot leads"),
              L("WhatsApp al lead caliente.", "WhatsApp message to hot leads."),
              "¡Gracias! Un asesor te escribe en unos minutos con el precio y la "
              "disponibilidad.",
              "Thanks! An adviser will write to you in a few minutes with the price and "
              "availability."),
        Param("nurture_whatsapp_1", "text", L("Nutrición día 0", "Nurturing day 0"),
              L("WhatsApp inmediato al templado.", "Immediate WhatsApp to warm leads."),
              "¡Gracias por tu interés! Te paso el catálogo con precios: "
              "{{ workspace.catalog_url | default: 'https://tienda.example.com' }}",
              "Thanks for your interest! Here is the catalogue with prices: "
              "{{ workspace.catalog_url | default: 'https://tienda.example.com' }}"),
        Param("nurture_mail_subject", "text", L("Nutrición día 1: asunto",
              "Nurturing day 1: subject"), L("Email del día 1.", "Day-1 email."),
              "Lo que más eligen nuestros clientes", "What our customers choose most"),
        Param("nurture_mail_text", "text", L("Nutrición día 1: texto", "Nurturing day 1: text"),
              L("Email del día 1.", "Day-1 email."),
              "Hola {{ contact.first_name | default: '' }}, te contamos qué eligen más "
              "nuestros clientes y por qué.",
              "Hi {{ contact.first_name | default: '' }}, here is what our customers choose "
              "most and why."),
        Param("nurture_whatsapp_3", "text", L("Nutrición día 2", "Nurturing day 2"),
              L("WhatsApp del día 2.", "Day-2 WhatsApp."),
              "¿Te ayudo a elegir? Respondé este mensaje y te asesoramos.",
              "Can I help you choose? Reply to this message and we will advise you."),
        Param("nurture_template", "template_name", L("Plantilla de nutrición",
              "Nurturing template"), L("Si la ventana se cerró.", "When the window closed."),
              "nutricion_seguimiento"),
    ),
    kpis=(
        Kpi("time_to_human_contact", L("Tiempo a contacto humano", "Time to human contact"),
            L("Mediana de segundos entre el inicio y el primer mensaje de un agente "
              "(no del flujo) a los leads calientes.",
              "Median seconds from the start to the first message an agent (not the flow) "
              "sent to hot leads."),
            "seconds", TimeToAgentMessage(of_nodes=("hot",))),
        Kpi("close_rate_hot", L("Cierre: calientes", "Close rate: hot"),
            L("Calientes con una oportunidad ganada después del inicio / calientes.",
              "Hot leads with an opportunity won after the start / hot leads."),
            "percent", OpportunityRatio(status="won", of_nodes=("hot",))),
        Kpi("close_rate_warm", L("Cierre: templados", "Close rate: warm"),
            L("Lo mismo para los templados.", "The same for warm leads."),
            "percent", OpportunityRatio(status="won", of_nodes=("warm",))),
        Kpi("close_rate_cold", L("Cierre: fríos", "Close rate: cold"),
            L("Lo mismo para los fríos.", "The same for cold leads."),
            "percent", OpportunityRatio(status="won", of_nodes=("cold",))),
        Kpi("mql_to_sql", L("MQL→SQL", "MQL→SQL"),
            L("Leads pasados a la etapa SQL / leads calificados (calientes + templados).",
              "Leads moved to the SQL stage / qualified leads (hot + warm)."),
            "percent", NodeRatio(nodes=("sql",), of_nodes=("hot", "warm"))),
        Kpi("hot_leads", L("Leads calientes", "Hot leads"),
            L("Ejecuciones que llegaron a 'caliente'.", "Runs that reached 'hot'."),
            "count", NodeCount(nodes=("hot",))),
    ),
)
