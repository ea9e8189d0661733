"""The built-in intents for the seeds' playbooks: sales, support, appointments, risk, opt-out.

Examples are short customer messages in Rioplatense and neutral Spanish and in English. They are
the few-shot anchors of the nearest-neighbour classifier; the evaluation set in
``bench/ai/intents.jsonl`` was written separately and is never used here.
"""

from __future__ import annotations

from cauce.ai.types import Intent, IntentSet, KeywordRule

_INTENTS: dict[str, tuple[str, list[str]]] = {
    "buy": (
        "Comprar",
        [
            "quiero comprar",
            "lo quiero, cómo lo compro?",
            "me lo llevo",
            "quiero hacer un pedido",
            "te compro dos",
            "quisiera comprar el producto",
            "cómo hago para comprarlo?",
            "quiero encargar uno",
            "dale, lo compro",
            "necesito comprar 3 unidades",
            "me interesa comprarlo, pasame el link de pago",
            "quiero adquirir el plan anual",
            "cómo pago? quiero cerrar la compra",
            "I want to buy it",
            "I'd like to place an order",
            "how can I purchase this?",
            "I'll take two",
            "ready to buy, send me the payment link",
        ],
    ),
    "price": (
        "Precio",
        [
            "cuánto sale?",
            "precio?",
            "cuánto cuesta?",
            "qué precio tiene?",
            "me pasás el precio?",
            "cuál es el valor?",
            "cuánto está el envío?",
            "tenés lista de precios?",
            "qué costo tiene el servicio?",
            "cuánto me cobrás por la instalación?",
            "hay descuento pagando en efectivo?",
            "cuánto es en cuotas?",
            "how much is it?",
            "what's the price?",
            "how much does shipping cost?",
            "do you have a price list?",
            "is there any discount?",
        ],
    ),
    "availability": (
        "Disponibilidad",
        [
            "tienen stock?",
            "hay disponible?",
            "tenés en talle M?",
            "está disponible hoy?",
            "les queda alguno?",
            "cuándo les entra mercadería?",
            "lo tienen en color negro?",
            "hay turnos disponibles para mañana?",
            "abren el sábado?",
            "qué horario tienen?",
            "hacen envíos a Córdoba?",
            "puedo retirarlo hoy en el local?",
            "is it in stock?",
            "do you have it in size 10?",
            "is it available today?",
            "are you open on Sunday?",
            "when will it be back in stock?",
        ],
    ),
    "human_agent": (
        "Hablar con una persona",
        [
            "quiero hablar con una persona",
            "pasame con un humano",
            "necesito hablar con un asesor",
            "me atiende alguien?",
            "hay alguien ahí? no quiero hablar con un bot",
            "comunicame con un operador",
            "quiero hablar con un vendedor",
            "me pueden llamar por teléfono?",
            "prefiero que me atienda una persona real",
            "quiero hablar con el encargado",
            "can I talk to a human?",
            "connect me with an agent please",
            "I want to speak to a real person",
            "is there someone who can call me?",
        ],
    ),
    "support": (
        "Soporte",
        [
            "no puedo acceder",
            "no puedo entrar a mi cuenta",
            "no funciona",
            "la app no anda",
            "me tira error al iniciar sesión",
            "olvidé mi contraseña",
            "no me llega el código de verificación",
            "se traba cuando quiero pagar",
            "el equipo no prende",
            "cómo configuro el dispositivo?",
            "no me deja descargar el archivo",
            "la página no carga",
            "tengo un problema técnico",
            "I can't log in",
            "it doesn't work",
            "the app keeps crashing",
            "I forgot my password",
            "I'm getting an error when I try to sign in",
        ],
    ),
    "billing": (
        "Facturación",
        [
            "necesito la factura",
            "me mandás la factura?",
            "me cobraron dos veces",
            "la factura tiene mal el CUIT",
            "quiero factura A",
            "no me llegó el comprobante de pago",
            "tengo un cargo que no reconozco en la factura",
            "cómo actualizo mis datos de facturación?",
            "me debitaron de más este mes",
            "dónde descargo mis facturas?",
            "necesito el recibo",
            "I need an invoice",
            "I was charged twice",
            "can you send me the receipt?",
            "there's a wrong amount on my bill",
            "how do I update my billing details?",
        ],
    ),
    "change_appointment": (
        "Cambiar turno",
        [
            "quiero cambiar el turno",
            "puedo reprogramar mi cita?",
            "necesito mover el turno para otro día",
            "no llego, me pasás el turno para más tarde?",
            "cambiame la reserva al jueves",
            "se puede pasar la cita a la semana que viene?",
            "quiero modificar el horario de mi turno",
            "me surgió algo, podemos reprogramar?",
            "cambiar turno",
            "I need to reschedule my appointment",
            "can we move my booking to Friday?",
            "I'd like to change the time of my appointment",
            "can I change my reservation to next week?",
        ],
    ),
    "cancel": (
        "Cancelar",
        [
            "quiero cancelar el pedido",
            "cancelá mi turno por favor",
            "quiero dar de baja el servicio",
            "anulá la compra",
            "no voy a poder ir, cancelo la cita",
            "quiero cancelar la suscripción",
            "ya no lo quiero, cancelen la orden",
            "quiero rescindir el contrato",
            "I want to cancel my order",
            "please cancel my appointment",
            "cancel my subscription",
            "I no longer want it, cancel it",
        ],
    ),
    "return": (
        "Devolución",
        [
            "quiero devolver el producto",
            "me llegó fallado, quiero la devolución",
            "cómo hago un cambio de talle?",
            "quiero que me reintegren la plata",
            "me vino otra cosa, lo quiero devolver",
            "necesito cambiar el producto, vino roto",
            "cuál es la política de devoluciones?",
            "quiero el reembolso",
            "llegó dañado",
            "I want to return this",
            "it arrived broken, I want a refund",
            "how do I exchange it for another size?",
            "what's your return policy?",
        ],
    ),
    "fraud": (
        "Fraude",
        [
            "me estafaron",
            "alguien usó mi tarjeta",
            "hay compras que no hice",
            "me hackearon la cuenta",
            "recibí un mensaje sospechoso haciéndose pasar por ustedes",
            "me pidieron el código por teléfono, es una estafa?",
            "es fraude, no reconozco esa compra",
            "alguien entró a mi cuenta sin permiso",
            "someone used my card",
            "my account was hacked",
            "I got a phishing message pretending to be you",
            "there are purchases I didn't make",
        ],
    ),
    "complaint": (
        "Reclamo",
        [
            "quiero hacer un reclamo",
            "pésima atención",
            "hace una semana que espero y nadie me responde",
            "es una vergüenza, el pedido no llegó",
            "estoy muy enojado con el servicio",
            "el repartidor fue muy maleducado",
            "nunca más les compro",
            "los voy a denunciar en defensa del consumidor",
            "me prometieron una cosa y me dieron otra",
            "I want to file a complaint",
            "terrible service",
            "my order never arrived and nobody answers",
            "I'm very disappointed with how I was treated",
        ],
    ),
    "greeting": (
        "Saludo",
        [
            "hola",
            "buenas",
            "buen día",
            "buenas tardes!",
            "hola, qué tal?",
            "holaa",
            "hola, cómo estás?",
            "buenas noches",
            "gracias!",
            "hi",
            "hello",
            "good morning",
            "hey there",
        ],
    ),
    "opt_out": (
        "Darse de baja",
        [
            "baja",
            "stop",
            "no me manden más mensajes",
            "dejen de escribirme",
            "quiero dejar de recibir promociones",
            "sacame de la lista",
            "no quiero recibir más publicidad",
            "desuscribirme",
            "unsubscribe",
            "stop sending me messages",
            "remove me from your list",
            "no more promotions please",
        ],
    ),
}

# Whole-message words that mean "stop messaging me" regardless of what the model thinks.
_RULES = [
    KeywordRule(
        intent="opt_out",
        phrases=["stop", "baja", "unsubscribe", "desuscribir", "desuscribirme",
                 "no me escriban mas", "no me manden mas mensajes"],
        whole_message=True,
        min_similarity=90,
    ),
]

BUILTIN_INTENT_NAMES: tuple[str, ...] = tuple(_INTENTS)


def builtin_intent(name: str) -> Intent:
    """One built-in intent by name (``KeyError`` names the known ones)."""
    try:
        label, examples = _INTENTS[name]
    except KeyError:
        raise KeyError(
            f"unknown built-in intent '{name}'; known: {', '.join(BUILTIN_INTENT_NAMES)}"
        ) from None
    return Intent(name=name, label=label, examples=list(examples))


def builtin_intent_set() -> IntentSet:
    """Every built-in intent with its default keyword rules."""
    return IntentSet(
        name="builtin",
        intents=[builtin_intent(name) for name in BUILTIN_INTENT_NAMES],
        rules=[rule.model_copy(deep=True) for rule in _RULES],
    )
