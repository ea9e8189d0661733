"""Seed 001's reactivation workflow, exactly as it describes it: an opportunity of pipeline
"Ventas", stage "Volumetric Appenders", moved to Abandoned while Open; a scheduled 7-day wait
that resumes Monday–Friday 05:00–17:00; the WhatsApp customer-service-window check (open: the
"Testimonio" template with up to 3 quick-reply buttons, one branch per button; closed: email);
and a 7-day wait for the reply to that message (contact reply or time out). Built from the
shipped example (src/cauce/flows/examples/reactivation.json)."""

from __future__ import annotations

import copy
from typing import Any

from cauce.flows.examples import load_example
from cauce.flows.playbooks.spec import (
    Kpi,
    L,
    NodeCount,
    NodeRatio,
    OpportunityRatio,
    Param,
    Template,
)

_WEEKDAYS = ("lunes-viernes", "lunes-sabado", "todos")
_DAYS = {"lunes-viernes": [0, 1, 2, 3, 4], "lunes-sabado": [0, 1, 2, 3, 4, 5],
         "todos": [0, 1, 2, 3, 4, 5, 6]}


def _build(p: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(load_example("reactivation"))
    doc["triggers"][0].update(pipeline=p["pipeline"], stage=p["stage"],
                              moved_to=p["moved_to"], status=p["status"])
    n = {x["id"]: x for x in doc["nodes"]}
    n["wait7"]["config"]["duration"] = p["first_wait"]
    n["wait7"]["config"]["resume_window"] = {
        "weekdays": _DAYS[p["resume_days"]], "start": p["resume_start"], "end": p["resume_end"]}
    t = n["testimonial"]["config"]
    t["name"] = p["template_name"]
    t["language"] = p["language"]
    t["buttons"] = [{"id": "resume", "title": p["button_resume"]},
                    {"id": "call", "title": p["button_call"]},
                    {"id": "not_now", "title": p["button_not_now"]}]
    n["await"]["config"]["timeout"] = p["reply_timeout"]
    n["reopen"]["config"].update(pipeline=p["pipeline"], stage=p["stage"])
    n["call_me"]["config"]["subject"] = p["call_ticket_subject"]
    n["call_me"]["config"]["team"] = p["team"]
    n["tell_owner"]["config"]["text"] = p["owner_note"]
    n["mail"]["config"].update(subject=p["mail_subject"], text=p["mail_text"])
    n["no_answer"]["config"]["tags"] = [p["no_answer_tag"]]
    if p["language"] == "en":
        doc["metadata"]["name"] = "Reactivation of abandoned opportunities"
        doc["metadata"]["description"] = REACTIVATION.description.en
    return doc


REACTIVATION = Template(
    id="reactivation", kind="workflow", build_document=_build, category="sales",
    name=L("Reactivación de oportunidades abandonadas",
           "Reactivation of abandoned opportunities"),
    description=L(
        "Oportunidad del pipeline Ventas, etapa Volumetric Appenders, pasada a Abandoned y aún "
        "abierta: espera 7 días (lun–vie 05:00–17:00), revisa la ventana de WhatsApp, envía "
        "una plantilla con 3 botones y espera la respuesta 7 días.",
        "An opportunity of pipeline Ventas, stage Volumetric Appenders, moved to Abandoned "
        "while open: waits 7 days (Mon–Fri 05:00–17:00), checks the WhatsApp window, sends a "
        "template with 3 buttons and waits 7 days for the answer."),
    source="seed 001 (Ropofy reactivation workflow)",
    params=(
        Param("pipeline", "pipeline", L("Pipeline", "Pipeline"),
              L("Solo oportunidades de este pipeline.", "Only opportunities of this pipeline."),
              "Ventas"),
        Param("stage", "stage", L("Etapa", "Stage"),
              L("Solo oportunidades en esta etapa.", "Only opportunities in this stage."),
              "Volumetric Appenders"),
        Param("moved_to", "status", L("Movida al estado", "Moved to status"),
              L("El estado al que pasa la oportunidad.", "The status the opportunity moves to."),
              "Abandoned"),
        Param("status", "status", L("Estado previo", "Earlier status"),
              L("Solo si estaba en este estado (Open: aún recuperable).",
                "Only if it had this status (Open: still recoverable)."), "Open"),
        Param("first_wait", "duration", L("Espera programada", "Scheduled wait"),
              L("Espera antes del primer contacto.", "Wait before the first contact."), "7d"),
        Param("resume_days", "choice", L("Días hábiles", "Business days"),
              L("Días en que la espera puede reanudarse.", "Days the wait may resume on."),
              "lunes-viernes", choices=_WEEKDAYS),
        Param("resume_start", "time", L("Desde", "From"),
              L("Inicio de la ventana de contacto (HH:MM).", "Contact window start (HH:MM)."),
              "05:00"),
        Param("resume_end", "time", L("Hasta", "Until"),
              L("Fin de la ventana de contacto (HH:MM).", "Contact window end (HH:MM)."),
              "17:00"),
        Param("template_name", "template_name", L("Plantilla 'Testimonio'", "'Testimonial' "
              "template"), L("Plantilla aprobada de reactivación con {{1}} = nombre y 3 botones.",
                             "Approved reactivation template with {{1}} = name and 3 buttons."),
              "reactivacion_testimonio"),
        Param("button_resume", "text", L("Botón 1", "Button 1"),
              L("Reabre la oportunidad.", "Reopens the opportunity."), "Quiero retomar",
              "Let's pick it up"),
        Param("button_call", "text", L("Botón 2", "Button 2"),
              L("Crea una tarea de llamada.", "Creates a call task."), "Llámenme", "Call me"),
        Param("button_not_now", "text", L("Botón 3", "Button 3"),
              L("Marca la oportunidad como perdida.", "Marks the opportunity lost."),
              "Ahora no", "Not now"),
        Param("reply_timeout", "duration", L("Espera de respuesta", "Reply wait"),
              L("Tiempo máximo para responder al Testimonio.",
                "Longest wait for the reply to the testimonial."), "7d"),
        Param("call_ticket_subject", "text", L("Tarea de llamada", "Call task"),
              L("Asunto del ticket cuando piden que los llamen.",
                "Subject of the ticket when they ask for a call."),
              "Llamar a {{ contact.name | default: contact.phone }} (reactivación)",
              "Call {{ contact.name | default: contact.phone }} (reactivation)"),
        Param("team", "team", L("Equipo", "Team"),
              L("Equipo que recibe la tarea de llamada.", "Team that gets the call task."),
              "ventas"),
        Param("owner_note", "text", L("Aviso al responsable", "Note to the owner"),
              L("Nota en la bandeja cuando el contacto responde.",
                "Inbox note when the contact answers."),
              "{{ contact.name | default: contact.phone }} respondió a la reactivación: "
              "{{ message.text | default: message.button_title }}",
              "{{ contact.name | default: contact.phone }} answered the reactivation: "
              "{{ message.text | default: message.button_title }}"),
        Param("mail_subject", "text", L("Asunto del email", "Email subject"),
              L("Email cuando la ventana está cerrada.", "Email when the window is closed."),
              "¿Retomamos?", "Shall we pick it up again?"),
        Param("mail_text", "text", L("Texto del email", "Email text"),
              L("Email cuando la ventana está cerrada.", "Email when the window is closed."),
              "Hola {{ contact.first_name | default: \"hola\" }}, ¿seguimos con tu propuesta? "
              "Respondé este correo y te llamamos.",
              "Hi {{ contact.first_name | default: \"there\" }}, shall we continue with your "
              "proposal? Reply to this email and we will call you."),
        Param("no_answer_tag", "text", L("Etiqueta sin respuesta", "No-answer tag"),
              L("Etiqueta para quien no responde.", "Tag for those who do not answer."),
              "reactivacion-sin-respuesta", "reactivation-no-answer"),
    ),
    kpis=(
        Kpi("reply_rate", L("Tasa de respuesta", "Reply rate"),
            L("Ejecuciones con respuesta al Testimonio / ejecuciones que lo enviaron.",
              "Runs with a reply to the testimonial / runs that sent it."),
            "percent", NodeRatio(nodes=("reopen", "call_me", "lost", "tell_owner"),
                                 of_nodes=("await",))),
        Kpi("reactivated", L("Oportunidades reactivadas", "Opportunities reactivated"),
            L("Ejecuciones cuya oportunidad está abierta de nuevo / ejecuciones iniciadas.",
              "Runs whose opportunity is open again / runs started."),
            "percent", OpportunityRatio(status="open")),
        Kpi("won", L("Oportunidades ganadas", "Opportunities won"),
            L("Ejecuciones cuya oportunidad se ganó / ejecuciones iniciadas.",
              "Runs whose opportunity was won / runs started."),
            "percent", OpportunityRatio(status="won")),
        Kpi("calls_requested", L("Llamadas pedidas", "Calls requested"),
            L("Ejecuciones que pidieron una llamada.", "Runs that asked for a call."),
            "count", NodeCount(nodes=("call_me",))),
        Kpi("email_fallback", L("Por email (ventana cerrada)", "By email (window closed)"),
            L("Ejecuciones que fueron al email / ejecuciones iniciadas.",
              "Runs that went to the email / runs started."),
            "percent", NodeRatio(nodes=("mail",))),
    ),
)
