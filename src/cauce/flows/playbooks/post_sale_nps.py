"""Playbook 4 — smart post-sale with NPS/CSAT (seed 000).

X hours/days after the delivery event → the seed's NPS question (a template when the window is
closed) → the score → the reason → detractor (0–6): a recovery task (ticket) and marketing
paused; promoter (9–10): a review request and the referral list (tag); passive (7–8): thanks."""

from __future__ import annotations

from typing import Any

from cauce.flows.playbooks.spec import (
    EventRatio,
    Kpi,
    L,
    NodeRatio,
    Param,
    ResultScore,
    Template,
    TicketCount,
    node,
)

SCORE = "results.score_wait.text"


def _in(values: list[str]) -> dict[str, Any]:
    return {"rules": [{"field": SCORE, "operator": "in", "value": values}]}


def _build(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": 1,
        "metadata": {"tags": ["postventa", "nps", "seed-000"]},
        "triggers": [{"type": "business_event", "event": p["delivered_event"]}],
        "settings": {"reentry": "always", "category": "utility"},
        "nodes": [
            node("wait", "delay", {"duration": p["ask_after"]}, next="ask"),
            node("ask", "whatsapp_text", {
                "text": p["nps_text"],
                "fallback_template": {"name": p["nps_template"], "language": p["language"],
                                      "body_params": [
                                          "{{ contact.first_name | default: '' }}"]}},
                next="score_wait", failed="done"),
            node("score_wait", "wait_for_reply", {"timeout": p["answer_timeout"],
                                                  "message_node": "ask"},
                 replied="classify", timeout="done"),
            node("classify", "condition", {"branches": [
                {"name": "promoter", "when": _in(["9", "10"])},
                {"name": "passive", "when": _in(["7", "8"])},
                {"name": "detractor", "when": _in([str(i) for i in range(7)])}]},
                promoter="is_promoter", passive="is_passive", detractor="is_detractor",
                **{"else": "invalid"}),
            node("invalid", "whatsapp_text", {"text": p["invalid_text"]},
                 next="done", failed="done"),
            node("is_promoter", "set_field", {"field": "nps_category", "value": "promoter"},
                 next="ask_reason", failed="ask_reason"),
            node("is_passive", "set_field", {"field": "nps_category", "value": "passive"},
                 next="ask_reason", failed="ask_reason"),
            node("is_detractor", "set_field", {"field": "nps_category", "value": "detractor"},
                 next="ask_reason", failed="ask_reason"),
            node("ask_reason", "whatsapp_text", {"text": p["reason_text"]},
                 next="reason_wait", failed="branch"),
            node("reason_wait", "wait_for_reply", {"timeout": p["reason_timeout"],
                                                   "message_node": "ask_reason"},
                 replied="branch", timeout="branch"),
            node("branch", "condition", {"branches": [
                {"name": "detractor", "when": {"rules": [
                    {"field": "contact.fields.nps_category", "operator": "eq",
                     "value": "detractor"}]}},
                {"name": "promoter", "when": {"rules": [
                    {"field": "contact.fields.nps_category", "operator": "eq",
                     "value": "promoter"}]}}]},
                detractor="recovery_task", promoter="review", **{"else": "thanks"}),
            node("recovery_task", "create_ticket", {
                "subject": p["recovery_subject"],
                "description": "NPS {{ results.score_wait.text }}: "
                               "{{ results.reason_wait.text | default: '—' }}",
                "priority": "high", "team": p["team"]},
                next="pause_marketing", failed="pause_marketing"),
            node("pause_marketing", "opt_out", {"mode": "pause", "pause_for": p["pause_for"]},
                 next="detractor_tag"),
            node("detractor_tag", "add_tag", {"tags": ["detractor"]}, next="sorry"),
            node("sorry", "whatsapp_text", {"text": p["detractor_text"]},
                 next="done", failed="done"),
            node("review", "whatsapp_text", {"text": p["review_text"], "preview_url": True},
                 next="referrals", failed="referrals"),
            node("referrals", "add_tag", {"tags": [p["referral_tag"]]}, next="done"),
            node("thanks", "whatsapp_text", {"text": p["thanks_text"]},
                 next="done", failed="done"),
            node("done", "end"),
        ],
    }


POST_SALE_NPS = Template(
    id="post_sale_nps", kind="playbook", build_document=_build, category="customer",
    name=L("4) Post-venta inteligente con NPS/CSAT", "4) Smart post-sale with NPS/CSAT"),
    description=L(
        "Mide la satisfacción y genera reseñas reales: pide una puntuación, capta el motivo y "
        "bifurca: detractor con tarea de recuperación y promociones en pausa; promotor con "
        "pedido de reseña y lista de referidos.",
        "Measures satisfaction and earns real reviews: asks for a score, captures the reason "
        "and branches: detractors get a recovery task and marketing paused; promoters a "
        "review request and the referral list."),
    source="seed 000, playbook 4",
    params=(
        Param("delivered_event", "event", L("Evento de entrega", "Delivery event"),
              L("Evento de entrega/servicio enviado a /api/v1/events.",
                "Delivery/service event sent to /api/v1/events."), "order.delivered"),
        Param("ask_after", "duration", L("Preguntar después de", "Ask after"),
              L("Horas/días después de la entrega.", "Hours/days after the delivery."), "1d"),
        Param("nps_text", "text", L("Pregunta NPS", "NPS question"),
              L("Copy de post-venta del seed.", "The seed's post-sale copy."),
              "¿Cómo fue tu experiencia de 0 a 10? Tu respuesta nos ayuda a mejorar y te lleva "
              "5 segundos 🙌",
              "How was your experience from 0 to 10? Your answer helps us improve and takes 5 "
              "seconds 🙌"),
        Param("nps_template", "template_name", L("Plantilla NPS", "NPS template"),
              L("Plantilla aprobada con la misma pregunta, para la ventana cerrada.",
                "Approved template with the same question, for a closed window."),
              "encuesta_nps"),
        Param("answer_timeout", "duration", L("Espera de respuesta", "Answer wait"),
              L("Cuánto esperar cada respuesta.", "How long to wait for each answer."), "2d"),
        Param("reason_timeout", "duration", L("Espera del motivo", "Reason wait"),
              L("Cuánto esperar el motivo (menos de 24 h: las respuestas finales van dentro "
                "de la ventana de WhatsApp).", "How long to wait for the reason (under 24 h: "
                "the final answers go inside the WhatsApp window)."), "12h"),
        Param("invalid_text", "text", L("Respuesta no válida", "Invalid answer"),
              L("Si no responde un número de 0 a 10.", "When the answer is not 0–10."),
              "¡Gracias! Para medirlo necesitamos un número del 0 al 10.",
              "Thanks! To measure it we need a number from 0 to 10."),
        Param("reason_text", "text", L("Pregunta del motivo", "Reason question"),
              L("Capta el motivo de la puntuación.", "Captures the reason for the score."),
              "¡Gracias! ¿Qué fue lo que más influyó en tu puntuación?",
              "Thanks! What influenced your score the most?"),
        Param("team", "team", L("Equipo de recuperación", "Recovery team"),
              L("Equipo que recibe la tarea del detractor.", "Team that gets the task."),
              "postventa"),
        Param("recovery_subject", "text", L("Tarea de recuperación", "Recovery task"),
              L("Asunto del ticket del detractor.", "Subject of the detractor's ticket."),
              "Recuperar cliente: {{ contact.name | default: contact.phone }} (NPS "
              "{{ results.score_wait.text }})",
              "Win back customer: {{ contact.name | default: contact.phone }} (NPS "
              "{{ results.score_wait.text }})"),
        Param("pause_for", "duration", L("Pausa de promociones", "Marketing pause"),
              L("Cuánto pausar el marketing al detractor.", "How long to pause marketing."),
              "30d"),
        Param("detractor_text", "text", L("Mensaje al detractor", "Message to detractors"),
              L("Respuesta al detractor.", "Answer to detractors."),
              "Lamentamos que no haya sido una buena experiencia. Alguien del equipo te "
              "contacta hoy para resolverlo.",
              "We are sorry it was not a good experience. Someone from the team will contact "
              "you today to fix it."),
        Param("review_text", "text", L("Pedido de reseña", "Review request"),
              L("Pedido de reseña al promotor (con el link).",
                "Review request to promoters (with the link)."),
              "¡Nos alegra mucho! ¿Nos dejarías una reseña? Te lleva un minuto: "
              "{{ workspace.review_url | default: 'https://g.page/r/review' }}",
              "We are so glad! Would you leave us a review? It takes a minute: "
              "{{ workspace.review_url | default: 'https://g.page/r/review' }}"),
        Param("referral_tag", "text", L("Lista de referidos", "Referral list"),
              L("Etiqueta de la lista de referidos.", "Tag of the referral list."),
              "referidos", "referrals"),
        Param("thanks_text", "text", L("Agradecimiento", "Thanks"),
              L("Respuesta a los neutros.", "Answer to passives."),
              "¡Gracias por tu respuesta! Vamos a seguir mejorando.",
              "Thanks for your answer! We will keep improving."),
    ),
    kpis=(
        Kpi("response_rate", L("Tasa de respuesta", "Response rate"),
            L("Ejecuciones con respuesta a la pregunta / ejecuciones que preguntaron.",
              "Runs with an answer to the question / runs that asked."),
            "percent", NodeRatio(nodes=("classify",), of_nodes=("score_wait",))),
        Kpi("nps", L("NPS", "NPS"),
            L("% promotores (9–10) − % detractores (0–6) de las puntuaciones respondidas.",
              "% promoters (9–10) − % detractors (0–6) of the scores given."),
            "score", ResultScore(result="score_wait", path="text", mode="nps")),
        Kpi("tickets_open", L("Tickets abiertos", "Open tickets"),
            L("Tareas de recuperación del flujo todavía abiertas.",
              "The flow's recovery tasks still open."),
            "count", TicketCount(status=("open", "pending"))),
        Kpi("review_requests", L("% promotores con pedido de reseña",
                                 "% promoters asked for a review"),
            L("Ejecuciones que pidieron la reseña / ejecuciones con respuesta.",
              "Runs that asked for the review / runs with an answer."),
            "percent", NodeRatio(nodes=("review",), of_nodes=("classify",))),
        Kpi("reviews", L("Reseñas generadas", "Reviews generated"),
            L("Promotores con evento review.created después del pedido / pedidos.",
              "Promoters with a review.created event after the request / requests."),
            "percent", EventRatio(event="review.created", of_nodes=("review",))),
    ),
)
