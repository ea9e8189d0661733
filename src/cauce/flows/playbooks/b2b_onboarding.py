"""Playbook 5 — guided onboarding for B2B/services (seed 000).

A deal won (opportunity moved to won) or an account created → welcome kit by email → a WhatsApp
template that asks for the goals → owners → required integrations → a checklist task in the CRM
(a ticket for the customer-success team with the answers) → tutorials by WhatsApp → waits for
the activation event (30 days)."""

from __future__ import annotations

from typing import Any

from cauce.flows.playbooks.spec import (
    EventRatio,
    Kpi,
    L,
    NodeRatio,
    Param,
    Template,
    node,
)

DAY = 86400


def _build(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": 1,
        "metadata": {"tags": ["onboarding", "b2b", "seed-000"]},
        "triggers": [
            {"type": "opportunity_changed", "pipeline": p["pipeline"], "moved_to": "won"},
            {"type": "business_event", "event": p["account_event"]},
        ],
        "settings": {"reentry": "never", "category": "utility"},
        "nodes": [
            node("kit", "email", {
                "subject": p["kit_subject"], "text": p["kit_text"],
                "html": f"<p>{p['kit_text']}</p>"},
                next="hello", failed="hello"),
            node("hello", "whatsapp_template", {
                "name": p["welcome_template"], "language": p["language"],
                "body_params": ["{{ contact.first_name | default: '' }}"]},
                next="goals_wait", failed="checklist"),
            node("goals_wait", "wait_for_reply", {"timeout": p["answer_timeout"],
                                                  "message_node": "hello"},
                 replied="save_goals", timeout="checklist"),
            node("save_goals", "set_field", {"field": "onboarding_goals",
                                             "value": "{{ message.text }}"},
                 next="ask_owner", failed="ask_owner"),
            node("ask_owner", "whatsapp_text", {"text": p["owner_question"]},
                 next="owner_wait", failed="checklist"),
            node("owner_wait", "wait_for_reply", {"timeout": p["answer_timeout"],
                                                  "message_node": "ask_owner"},
                 replied="save_owner", timeout="checklist"),
            node("save_owner", "set_field", {"field": "onboarding_owner",
                                             "value": "{{ message.text }}"},
                 next="ask_integrations", failed="ask_integrations"),
            node("ask_integrations", "whatsapp_buttons", {
                "body": p["integrations_question"],
                "buttons": [{"id": "crm", "title": "CRM"},
                            {"id": "ecommerce", "title": "E-commerce"},
                            {"id": "none", "title": p["no_integrations"]}],
                "timeout": p["answer_timeout"]},
                crm="save_integrations", ecommerce="save_integrations",
                none="save_integrations", replied="save_integrations", timeout="checklist",
                failed="checklist"),
            node("save_integrations", "set_field", {
                "field": "onboarding_integrations",
                "value": "{{ message.button_title | default: message.text }}"},
                next="checklist", failed="checklist"),
            node("checklist", "create_ticket", {
                "subject": p["checklist_subject"],
                "description": p["checklist_text"], "priority": "normal", "team": p["team"]},
                next="tutorial_1", failed="tutorial_1"),
            node("tutorial_1", "whatsapp_text", {
                "text": p["tutorial_1"], "preview_url": True,
                "fallback_template": {"name": p["tutorial_template"],
                                      "language": p["language"],
                                      "body_params": [p["tutorial_1_url"]]}},
                next="gap", failed="gap"),
            node("gap", "delay", {"duration": p["tutorial_gap"]}, next="tutorial_2"),
            node("tutorial_2", "whatsapp_text", {
                "text": p["tutorial_2"], "preview_url": True,
                "fallback_template": {"name": p["tutorial_template"],
                                      "language": p["language"],
                                      "body_params": [p["tutorial_2_url"]]}},
                next="await_activation", failed="await_activation"),
            node("await_activation", "wait_for_event", {"event": p["activation_event"],
                                                        "timeout": "30d"},
                 received="activated", timeout="not_activated"),
            node("activated", "add_tag", {"tags": ["activado"]}, next="done"),
            node("not_activated", "notify_team", {
                "target": "inbox", "text": p["not_activated_note"]},
                next="done", failed="done"),
            node("done", "end"),
        ],
    }


B2B_ONBOARDING = Template(
    id="b2b_onboarding", kind="playbook", build_document=_build, category="customer",
    name=L("5) Onboarding guiado para B2B/servicios", "5) Guided onboarding for B2B/services"),
    description=L(
        "Acelera el tiempo a primer valor: al cerrar la venta o dar de alta la cuenta capta "
        "objetivos, responsables e integraciones, genera el checklist como tarea en el CRM, "
        "envía el kit de bienvenida por email y tutoriales por WhatsApp.",
        "Speeds up time to first value: when the deal is won or the account created it "
        "captures goals, owners and integrations, creates the checklist as a CRM task, sends "
        "the welcome kit by email and tutorials by WhatsApp."),
    source="seed 000, playbook 5",
    params=(
        Param("pipeline", "pipeline", L("Pipeline", "Pipeline"),
              L("Oportunidades ganadas de este pipeline.", "Won opportunities of this pipeline."),
              "Ventas"),
        Param("account_event", "event", L("Evento de alta de cuenta", "Account-created event"),
              L("Evento enviado a /api/v1/events al crear la cuenta.",
                "Event sent to /api/v1/events when the account is created."),
              "account.created"),
        Param("activation_event", "event", L("Evento de activación", "Activation event"),
              L("Evento que indica que la cuenta se activó.", "Event meaning the account is "
                "active."), "account.activated"),
        Param("kit_subject", "text", L("Asunto del kit", "Kit subject"),
              L("Email de bienvenida.", "Welcome email."),
              "Bienvenido a bordo, {{ contact.first_name | default: '' }}: tu kit de inicio",
              "Welcome aboard, {{ contact.first_name | default: '' }}: your starter kit"),
        Param("kit_text", "text", L("Texto del kit", "Kit text"),
              L("Cuerpo del email con el kit.", "Body of the kit email."),
              "Acá tenés la guía de inicio, el checklist y los videos: "
              "{{ workspace.kit_url | default: 'https://ayuda.example.com/inicio' }}",
              "Here are the getting-started guide, the checklist and the videos: "
              "{{ workspace.kit_url | default: 'https://ayuda.example.com/inicio' }}"),
        Param("welcome_template", "template_name", L("Plantilla de bienvenida",
              "Welcome template"), L("Plantilla aprobada que pregunta el objetivo ({{1}} = "
              "nombre).", "Approved template asking for the goal ({{1}} = name)."),
              "onboarding_bienvenida"),
        Param("answer_timeout", "duration", L("Espera de respuestas", "Answer wait"),
              L("Cuánto esperar cada respuesta.", "How long to wait for each answer."), "3d"),
        Param("owner_question", "text", L("Pregunta de responsables", "Owners question"),
              L("Quién lleva la implementación.", "Who leads the implementation."),
              "¡Gracias! ¿Quién va a ser el responsable de la implementación en tu equipo "
              "(nombre y email)?",
              "Thanks! Who will lead the implementation in your team (name and email)?"),
        Param("integrations_question", "text", L("Pregunta de integraciones",
              "Integrations question"), L("Qué integraciones necesita.",
                                          "Which integrations they need."),
              "¿Qué necesitás integrar primero?", "What do you need to integrate first?"),
        Param("no_integrations", "text", L("Botón 'ninguna'", "'None' button"),
              L("Tercer botón.", "Third button."), "Ninguna por ahora", "None for now"),
        Param("team", "team", L("Equipo", "Team"),
              L("Equipo que recibe el checklist.", "Team that gets the checklist."),
              "customer-success"),
        Param("checklist_subject", "text", L("Checklist", "Checklist"),
              L("Asunto de la tarea de onboarding.", "Subject of the onboarding task."),
              "Onboarding: {{ contact.name | default: contact.phone }}",
              "Onboarding: {{ contact.name | default: contact.phone }}"),
        Param("checklist_text", "text", L("Detalle del checklist", "Checklist detail"),
              L("Checklist con las respuestas.", "Checklist with the answers."),
              "Objetivos: {{ contact.fields.onboarding_goals | default: 'sin respuesta' }}\n"
              "Responsable: {{ contact.fields.onboarding_owner | default: 'sin respuesta' }}\n"
              "Integraciones: {{ contact.fields.onboarding_integrations | default: 'sin "
              "respuesta' }}\n[ ] Kickoff [ ] Integraciones [ ] Capacitación [ ] Primer uso",
              "Goals: {{ contact.fields.onboarding_goals | default: 'no answer' }}\n"
              "Owner: {{ contact.fields.onboarding_owner | default: 'no answer' }}\n"
              "Integrations: {{ contact.fields.onboarding_integrations | default: 'no "
              "answer' }}\n[ ] Kickoff [ ] Integrations [ ] Training [ ] First use"),
        Param("tutorial_template", "template_name", L("Plantilla de tutorial",
              "Tutorial template"), L("Si la ventana se cerró ({{1}} = link).",
                                      "When the window closed ({{1}} = link)."),
              "onboarding_tutorial"),
        Param("tutorial_1", "text", L("Tutorial 1", "Tutorial 1"),
              L("Primer tutorial por WhatsApp.", "First tutorial by WhatsApp."),
              "Tutorial 1 (3 min): cómo hacer tu primera configuración 👉 "
              "https://ayuda.example.com/t1",
              "Tutorial 1 (3 min): your first set-up 👉 https://ayuda.example.com/t1"),
        Param("tutorial_1_url", "url", L("Link del tutorial 1", "Tutorial 1 link"),
              L("Link para la plantilla.", "Link for the template."),
              "https://ayuda.example.com/t1"),
        Param("tutorial_gap", "duration", L("Entre tutoriales", "Between tutorials"),
              L("Espera entre tutoriales.", "Wait between tutorials."), "2d"),
        Param("tutorial_2", "text", L("Tutorial 2", "Tutorial 2"),
              L("Segundo tutorial por WhatsApp.", "Second tutorial by WhatsApp."),
              "Tutorial 2 (5 min): conectá tus integraciones 👉 https://ayuda.example.com/t2",
              "Tutorial 2 (5 min): connect your integrations 👉 https://ayuda.example.com/t2"),
        Param("tutorial_2_url", "url", L("Link del tutorial 2", "Tutorial 2 link"),
              L("Link para la plantilla.", "Link for the template."),
              "https://ayuda.example.com/t2"),
        Param("not_activated_note", "text", L("Aviso sin activación", "Not-activated note"),
              L("Nota al equipo si no se activa en 30 días.",
                "Team note when not active in 30 days."),
              "{{ contact.name | default: contact.phone }} no se activó en 30 días.",
              "{{ contact.name | default: contact.phone }} did not activate in 30 days."),
    ),
    kpis=(
        Kpi("activation_7d", L("Activaciones a 7 días", "Activations at 7 days"),
            L("Cuentas con evento de activación en los 7 días siguientes al inicio / iniciadas.",
              "Accounts with the activation event within 7 days of the start / started."),
            "percent", EventRatio(event_node="await_activation", within_seconds=7 * DAY)),
        Kpi("activation_30d", L("Activaciones a 30 días", "Activations at 30 days"),
            L("Lo mismo, dentro de 30 días.", "The same, within 30 days."),
            "percent", EventRatio(event_node="await_activation", within_seconds=30 * DAY)),
        Kpi("feature_adoption", L("Adopción de funcionalidades", "Feature adoption"),
            L("Cuentas con al menos un evento feature.used en 30 días / iniciadas.",
              "Accounts with at least one feature.used event within 30 days / started."),
            "percent", EventRatio(event="feature.used", within_seconds=30 * DAY)),
        Kpi("onboarding_answered", L("Checklist con respuestas", "Checklist answered"),
            L("Ejecuciones que respondieron las integraciones / iniciadas.",
              "Runs that answered the integrations / runs started."),
            "percent", NodeRatio(nodes=("save_integrations",))),
    ),
    not_computed=(
        L("Reducción de tickets: necesita una línea de base anterior al onboarding.",
          "Ticket reduction: needs a baseline from before the onboarding."),
    ),
)
