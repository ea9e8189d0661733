"""Playbook 2 — cart or quote recovery (seed 000).

A "cart without purchase" or "quote not accepted" event → the contact (identified by the events
API) gets a WhatsApp reminder template with the items and buttons for payment and
delivery/pickup, and an email with the summary and a payment button → automatic follow-up: a
free answer alerts the team; no answer → a last-call SMS → waits for the payment event, which
tags the contact as recovered."""

from __future__ import annotations

from typing import Any

from cauce.flows.playbooks.spec import (
    EventRatio,
    EventValue,
    Kpi,
    L,
    NodeRatio,
    Param,
    Template,
    node,
)


def _build(p: dict[str, Any]) -> dict[str, Any]:
    en = p["language"] == "en"
    pay_url = "{{ event.payment_url | default: workspace.shop_url }}"
    return {
        "format": 1,
        "metadata": {"tags": ["ecommerce", "seed-000"]},
        "triggers": [{"type": "business_event", "event": p["cart_event"]},
                     {"type": "business_event", "event": p["quote_event"]}],
        "settings": {"reentry": "after_end", "category": "marketing"},
        "nodes": [
            node("reminder", "whatsapp_template", {
                "name": p["reminder_template"], "language": p["language"],
                "body_params": ["{{ contact.first_name | default: \"" +
                                ("there" if en else "hola") + "\" }}",
                                "{{ event.summary | default: '' }}",
                                "{{ event.total | default: '' }}"],
                "buttons": [{"id": "pay", "title": p["button_pay"]},
                            {"id": "delivery", "title": p["button_delivery"]},
                            {"id": "pickup", "title": p["button_pickup"]}]},
                next="pay_mail", failed="pay_mail"),
            node("pay_mail", "email", {
                "subject": p["mail_subject"], "text": p["mail_text"],
                "html": "<p>{{ event.summary | default: '' }} — {{ event.total | default: '' }}"
                        f"</p><p><a href=\"{pay_url}\">{p['mail_button']}</a></p>"},
                next="await", failed="await"),
            node("await", "wait_for_reply", {"timeout": p["follow_up_after"],
                                             "message_node": "reminder"},
                 pay="send_link", delivery="delivery", pickup="pickup", replied="tell_team",
                 timeout="last_call"),
            node("delivery", "set_field", {"field": "fulfillment", "value": "delivery"},
                 next="send_link", failed="send_link"),
            node("pickup", "set_field", {"field": "fulfillment", "value": "pickup"},
                 next="send_link", failed="send_link"),
            node("send_link", "whatsapp_text", {
                "text": p["link_text"],
                "fallback_template": {"name": p["link_template"], "language": p["language"],
                                      "body_params": [pay_url]}},
                next="await_payment", failed="await_payment"),
            node("tell_team", "notify_team", {
                "target": "inbox", "text": p["team_note"]},
                next="await_payment", failed="await_payment"),
            node("last_call", "sms", {"text": p["last_call_sms"]},
                 next="await_payment", failed="await_payment"),
            node("await_payment", "wait_for_event", {"event": p["payment_event"],
                                                     "timeout": p["payment_timeout"]},
                 received="recovered", timeout="not_recovered"),
            node("recovered", "add_tag", {"tags": ["carrito-recuperado"]}, next="done"),
            node("not_recovered", "add_tag", {"tags": ["carrito-perdido"]}, next="done"),
            node("done", "end"),
        ],
    }


CART_RECOVERY = Template(
    id="cart_recovery", kind="playbook", build_document=_build, category="ecommerce",
    name=L("2) Recuperación de carrito o presupuesto", "2) Cart or quote recovery"),
    description=L(
        "Reduce el abandono y acelera el cierre: recordatorio por WhatsApp con los ítems, "
        "email con el resumen y el botón de pago, seguimiento automático y SMS de último aviso.",
        "Cuts abandonment and speeds up closing: a WhatsApp reminder with the items, an email "
        "with the summary and a payment button, automatic follow-up and a last-call SMS."),
    source="seed 000, playbook 2",
    params=(
        Param("cart_event", "event", L("Evento de carrito sin compra", "Cart-abandoned event"),
              L("Evento que tu tienda envía a /api/v1/events (data: summary, total, "
                "payment_url).", "Event your shop sends to /api/v1/events (data: summary, "
                "total, payment_url)."), "cart.abandoned"),
        Param("quote_event", "event", L("Evento de presupuesto sin aceptar", "Quote-pending event"),
              L("Evento de presupuesto sin aceptar.", "Event of a quote not accepted."),
              "quote.pending"),
        Param("payment_event", "event", L("Evento de pago", "Payment event"),
              L("Evento de pago (data.amount: importe, para los ingresos atribuidos).",
                "Payment event (data.amount: the amount, for attributed revenue)."),
              "order.paid"),
        Param("reminder_template", "template_name", L("Plantilla de recordatorio",
              "Reminder template"), L("Plantilla aprobada: {{1}} nombre, {{2}} ítems, {{3}} "
              "total, 3 botones.", "Approved template: {{1}} name, {{2}} items, {{3}} total, "
              "3 buttons."), "carrito_recordatorio"),
        Param("button_pay", "text", L("Botón de pago", "Pay button"), L("Botón 1.", "Button 1."),
              "Pagar ahora", "Pay now"),
        Param("button_delivery", "text", L("Botón de envío", "Delivery button"),
              L("Botón 2.", "Button 2."), "Envío a domicilio", "Home delivery"),
        Param("button_pickup", "text", L("Botón de retiro", "Pickup button"),
              L("Botón 3.", "Button 3."), "Retiro en local", "Store pickup"),
        Param("mail_subject", "text", L("Asunto del email", "Email subject"),
              L("Email con resumen y botón de pago.", "Email with summary and pay button."),
              "Tu carrito te espera", "Your cart is waiting"),
        Param("mail_text", "text", L("Texto del email", "Email text"),
              L("Versión de texto del email.", "Plain-text version of the email."),
              "¡Te quedó el carrito listo! {{ event.summary | default: '' }}. Podés pagar acá: "
              "{{ event.payment_url | default: workspace.shop_url }}",
              "Your cart is ready! {{ event.summary | default: '' }}. You can pay here: "
              "{{ event.payment_url | default: workspace.shop_url }}"),
        Param("mail_button", "text", L("Texto del botón de pago", "Pay button text"),
              L("El botón del email.", "The email's button."), "Pagar", "Pay"),
        Param("link_text", "text", L("Mensaje con el link", "Payment link message"),
              L("WhatsApp con el link de pago y la logística.",
                "WhatsApp message with the payment link."),
              "¡Genial! Este es tu link de pago: {{ event.payment_url | default: "
              "workspace.shop_url }}",
              "Great! Here is your payment link: {{ event.payment_url | default: "
              "workspace.shop_url }}"),
        Param("link_template", "template_name", L("Plantilla del link", "Link template"),
              L("Si la ventana se cerró: plantilla con {{1}} = link.",
                "When the window closed: a template with {{1}} = link."), "link_de_pago"),
        Param("team_note", "text", L("Nota al equipo", "Team note"),
              L("Nota en la bandeja cuando responden otra cosa.",
                "Inbox note when they answer something else."),
              "{{ contact.name | default: contact.phone }} respondió al recordatorio de "
              "carrito: {{ message.text }}",
              "{{ contact.name | default: contact.phone }} answered the cart reminder: "
              "{{ message.text }}"),
        Param("follow_up_after", "duration", L("Seguimiento si no responde", "Follow-up after"),
              L("Sin respuesta en este tiempo: SMS de último aviso. Más de 24 h: el tope de 2 "
                "mensajes de marketing por contacto en 24 h ya cuenta el recordatorio y el "
                "email, y un SMS antes sería suprimido.",
                "No answer within this time: the last-call SMS. Over 24 h: the cap of 2 "
                "marketing messages per contact in 24 h already counts the reminder and the "
                "email, and an earlier SMS would be suppressed."), "25h"),
        Param("last_call_sms", "text", L("SMS de último aviso", "Last-call SMS"),
              L("SMS breve de último aviso.", "Short last-call SMS."),
              "Último aviso: tu carrito vence hoy. Pagá en {{ event.payment_url | default: "
              "workspace.shop_url }}",
              "Last call: your cart expires today. Pay at {{ event.payment_url | default: "
              "workspace.shop_url }}"),
        Param("payment_timeout", "duration", L("Espera del pago", "Payment wait"),
              L("Cuánto esperar el pago tras el seguimiento.",
                "How long to wait for the payment after the follow-up."), "3d"),
    ),
    kpis=(
        Kpi("recovery_rate", L("Tasa de recuperación", "Recovery rate"),
            L("Carritos/presupuestos con evento de pago después del inicio / abandonados.",
              "Carts/quotes with a payment event after the start / abandoned."),
            "percent", EventRatio(event_node="await_payment")),
        Kpi("average_ticket", L("Ticket promedio", "Average ticket"),
            L("Promedio de data.amount del primer pago después del inicio.",
              "Average data.amount of the first payment after the start."),
            "amount", EventValue(event_node="await_payment", field="amount", aggregate="avg")),
        Kpi("attributed_revenue", L("Ingresos atribuidos al flujo", "Revenue attributed"),
            L("Suma de data.amount de los pagos posteriores al inicio de cada ejecución.",
              "Sum of data.amount of the payments after each run's start."),
            "amount", EventValue(event_node="await_payment", field="amount", aggregate="sum")),
        Kpi("last_call_rate", L("% que necesitó el SMS", "% that needed the SMS"),
            L("Ejecuciones que enviaron el último aviso / iniciadas.",
              "Runs that sent the last call / runs started."),
            "percent", NodeRatio(nodes=("last_call",))),
    ),
)
