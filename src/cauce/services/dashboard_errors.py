"""What each delivery error means and what to do about it, in Spanish and English, for the
dashboard's "frequent errors" table.

Codes are what Cauce stores on a failed message or a dead letter: WhatsApp Cloud API codes
(see ``cauce.channels.whatsapp.errors`` and the Cloud API reference), Cauce's own rule codes
(``cauce.channels.rules``) and delivery codes (``http_500``, ``refused``...). A code not listed
gets a generic advice that points at the stored reason, so the table never hides an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    reason_es: str
    reason_en: str
    recommendation_es: str
    recommendation_en: str


def _a(reason_es: str, reason_en: str, rec_es: str, rec_en: str) -> Advice:
    return Advice(reason_es, reason_en, rec_es, rec_en)


CATALOG: dict[str, Advice] = {
    # -- WhatsApp Cloud API ------------------------------------------------------------------
    "131047": _a(
        "Pasaron más de 24 horas desde el último mensaje del contacto.",
        "More than 24 hours passed since the contact's last message.",
        "Fuera de la ventana de 24 horas usá una plantilla aprobada (o poné el mensaje detrás "
        "de un «Chequeo de ventana» con una plantilla en la salida «cerrada»).",
        "Use an approved template outside the 24-hour window (or put the message behind a "
        "window check with a template on its 'closed' exit).",
    ),
    "470": _a(
        "Código antiguo de WhatsApp para «fuera de la ventana de 24 horas».",
        "WhatsApp's legacy code for 'outside the 24-hour window'.",
        "Fuera de la ventana de 24 horas usá una plantilla aprobada.",
        "Use an approved template outside the 24-hour window.",
    ),
    "131026": _a(
        "El mensaje no se pudo entregar: el número no tiene WhatsApp o usa una versión vieja.",
        "Undeliverable: the number is not on WhatsApp or its app is too old.",
        "Verificá el número y probá otro canal (SMS o e-mail) con una rama de «falló».",
        "Check the number and reach the contact on another channel (SMS or e-mail) from the "
        "step's 'failed' exit.",
    ),
    "131048": _a(
        "WhatsApp limitó el envío por baja calidad: muchos usuarios bloquearon o reportaron.",
        "WhatsApp limited sending because of spam signals: many users blocked or reported.",
        "Bajá la frecuencia, segmentá mejor y pedí consentimiento explícito; revisá la calidad "
        "del número en el Administrador de WhatsApp.",
        "Send less often, segment better and ask for explicit opt-in; check the number's "
        "quality rating in WhatsApp Manager.",
    ),
    "131049": _a(
        "WhatsApp no entregó este marketing para cuidar la experiencia del usuario.",
        "WhatsApp did not deliver this marketing message to protect the user's experience.",
        "No reenvíes antes de 24 horas; espaciá el marketing y priorizá contactos activos.",
        "Do not resend within 24 hours; space out marketing and favour engaged contacts.",
    ),
    "131050": _a(
        "El contacto dejó de recibir marketing de tu empresa desde WhatsApp.",
        "The contact stopped marketing messages from your business in WhatsApp.",
        "Respetá la baja: no le envíes marketing (Cauce lo suprime); solo utilidad o servicio.",
        "Honour the opt-out: no marketing to this contact (Cauce suppresses it); only utility "
        "or service messages.",
    ),
    "131056": _a(
        "Demasiados mensajes al mismo contacto en poco tiempo.",
        "Too many messages to the same contact in a short time.",
        "Agregá esperas entre mensajes seguidos al mismo contacto.",
        "Add waits between consecutive messages to the same contact.",
    ),
    "130429": _a(
        "Se alcanzó el límite de mensajes por segundo del número.",
        "The number's messages-per-second limit was reached.",
        "Cauce reintenta solo; si se repite, repartí los envíos masivos en el tiempo o bajá "
        "el ritmo del canal.",
        "Cauce retries by itself; if it keeps happening, spread broadcasts over time or lower "
        "the channel's rate.",
    ),
    "131051": _a(
        "Tipo de mensaje no soportado.",
        "Unsupported message type.",
        "Usá texto, botones, listas, plantillas o medios soportados por WhatsApp.",
        "Use text, buttons, lists, templates or media types WhatsApp supports.",
    ),
    "132000": _a(
        "La cantidad de parámetros no coincide con la plantilla aprobada.",
        "The number of parameters does not match the approved template.",
        "Revisá las variables del paso contra la plantilla (cuerpo, encabezado y botones).",
        "Check the step's variables against the template (body, header and buttons).",
    ),
    "132001": _a(
        "La plantilla no existe en ese idioma o todavía no está aprobada.",
        "The template does not exist in that language or is not approved yet.",
        "Sincronizá las plantillas y elegí una aprobada con el idioma correcto.",
        "Sync templates and pick an approved one in the right language.",
    ),
    "132015": _a(
        "Meta pausó la plantilla por baja calidad.",
        "Meta paused the template for low quality.",
        "Editá la plantilla (texto más claro, opción de baja) o usá otra aprobada.",
        "Edit the template (clearer copy, an opt-out) or use another approved one.",
    ),
    "132016": _a(
        "Meta deshabilitó la plantilla.",
        "Meta disabled the template.",
        "Creá una plantilla nueva y actualizá los flujos que la usan.",
        "Create a new template and update the flows that use it.",
    ),
    "131000": _a(
        "Error interno de WhatsApp.",
        "WhatsApp internal error.",
        "Es transitorio: Cauce reintenta; si persiste, revisá el estado de la plataforma de Meta.",
        "It is transient: Cauce retries; if it persists, check Meta's platform status.",
    ),
    "2": _a(
        "El servicio de WhatsApp no estaba disponible.",
        "WhatsApp's service was unavailable.",
        "Es transitorio: Cauce reintenta con espera creciente.",
        "It is transient: Cauce retries with growing waits.",
    ),
    "190": _a(
        "El token de acceso venció o fue revocado.",
        "The access token expired or was revoked.",
        "Pegá un token permanente nuevo en la configuración del canal.",
        "Paste a new permanent token in the channel settings.",
    ),
    "10": _a(
        "El token no tiene el permiso whatsapp_business_messaging.",
        "The token lacks the whatsapp_business_messaging permission.",
        "Generá el token con el permiso whatsapp_business_messaging.",
        "Generate the token with the whatsapp_business_messaging permission.",
    ),
    "200": _a(
        "El token no tiene el permiso whatsapp_business_messaging.",
        "The token lacks the whatsapp_business_messaging permission.",
        "Generá el token con el permiso whatsapp_business_messaging.",
        "Generate the token with the whatsapp_business_messaging permission.",
    ),
    "133010": _a(
        "El número no está registrado en la Cloud API.",
        "The phone number is not registered with the Cloud API.",
        "Registrá el número en la Cloud API desde el Administrador de WhatsApp.",
        "Register the number with the Cloud API in WhatsApp Manager.",
    ),
    "131042": _a(
        "WhatsApp rechazó el pago de la cuenta.",
        "WhatsApp refused the account's payment.",
        "Corregí el método de pago de la cuenta de WhatsApp Business.",
        "Fix the WhatsApp Business account's payment method.",
    ),
    "template_unknown": _a(
        "La plantilla no está registrada en este número.",
        "The template is not registered on this number.",
        "Sincronizá las plantillas del canal o cargala a mano.",
        "Sync the channel's templates or add it by hand.",
    ),
    # -- Cauce's contact rules ----------------------------------------------------------------
    "window_closed": _a(
        "Mensaje libre fuera de la ventana de 24 horas.",
        "Free-form message outside the 24-hour window.",
        "Usá una plantilla aprobada fuera de la ventana de 24 horas o dale al paso una "
        "plantilla de respaldo.",
        "Use an approved template outside the 24-hour window, or give the step a fallback "
        "template.",
    ),
    "no_consent": _a(
        "No hay consentimiento registrado para ese canal.",
        "No consent recorded for that channel.",
        "Pedí el opt-in (formulario, anuncio o primer mensaje) y guardalo en el contacto.",
        "Collect the opt-in (form, ad or first message) and store it on the contact.",
    ),
    "opted_out": _a(
        "El contacto se dio de baja del marketing.",
        "The contact opted out of marketing.",
        "Sacalo de los segmentos de marketing; solo mensajes de servicio.",
        "Remove them from marketing segments; service messages only.",
    ),
    "frequency_cap": _a(
        "Se alcanzó el tope de mensajes de marketing por contacto.",
        "The per-contact marketing frequency cap was reached.",
        "Espaciá las campañas o ajustá el tope en las reglas del espacio de trabajo.",
        "Space out campaigns or adjust the cap in the workspace rules.",
    ),
    "no_channel": _a(
        "El espacio de trabajo no tiene configurado ese canal.",
        "The workspace has no such channel configured.",
        "Configurá el canal en Ajustes → Canales.",
        "Configure the channel in Settings → Channels.",
    ),
    "no_address": _a(
        "El contacto no tiene dirección para ese canal (teléfono o e-mail).",
        "The contact has no address for that channel (phone or e-mail).",
        "Pedí el dato en el flujo o completalo en el CRM.",
        "Ask for it in the flow or fill it in the CRM.",
    ),
    "timeout": _a(
        "El proveedor no respondió a tiempo.",
        "The provider did not answer in time.",
        "Es transitorio: Cauce reintenta; si persiste, revisá el proveedor.",
        "It is transient: Cauce retries; if it persists, check the provider.",
    ),
    # -- HTTP steps and outbound webhooks -----------------------------------------------------
    "refused": _a(
        "La URL apunta a una dirección privada o no se pudo resolver.",
        "The URL points at a private address or could not be resolved.",
        "Usá una URL pública o permití el host en los ajustes HTTP del espacio de trabajo.",
        "Use a public URL or allow the host in the workspace's HTTP settings.",
    ),
    "subscription_inactive": _a(
        "La suscripción de webhook está pausada.",
        "The webhook subscription is paused.",
        "Activala de nuevo y reintentá los mensajes muertos.",
        "Activate it again and retry the dead letters.",
    ),
    "subscription_deleted": _a(
        "La suscripción de webhook fue borrada.",
        "The webhook subscription was deleted.",
        "Nada que hacer, salvo crearla de nuevo si hacía falta.",
        "Nothing to do, unless it should be created again.",
    ),
}

_HTTP_5XX = _a(
    "El servidor de destino respondió con un error {code}.",
    "The receiving server answered with an error {code}.",
    "Es del lado del destino: Cauce reintenta con espera creciente; revisá ese servidor.",
    "It is on the receiver's side: Cauce retries with growing waits; check that server.",
)
_HTTP_4XX = _a(
    "El servidor de destino rechazó el pedido ({code}).",
    "The receiving server refused the request ({code}).",
    "Revisá la URL, la autenticación y, en webhooks, que verifique bien la firma.",
    "Check the URL, the authentication and, for webhooks, that it verifies the signature "
    "correctly.",
)
_UNKNOWN = _a(
    "Error {code}.",
    "Error {code}.",
    "Mirá el motivo guardado en el historial de la ejecución o en los mensajes muertos.",
    "See the stored reason in the run's history or in the dead letters.",
)


def advice(code: str) -> tuple[Advice, bool]:
    """The advice for ``code`` and whether the code is known (``False``: the generic one)."""
    found = CATALOG.get(code)
    if found is not None:
        return found, True
    template = _UNKNOWN
    if code.startswith("http_") and code[5:].isdigit():
        template = _HTTP_5XX if int(code[5:]) >= 500 or code == "http_429" else _HTTP_4XX
    elif code.startswith("http_"):
        template = CATALOG["timeout"] if code == "http_error" else _UNKNOWN
    label = code.removeprefix("http_") if code.startswith("http_") else code
    return Advice(
        template.reason_es.format(code=label), template.reason_en.format(code=label),
        template.recommendation_es, template.recommendation_en,
    ), template is not _UNKNOWN
