"""WhatsApp Cloud API: request bodies (``payloads``), error mapping (``errors``), the adapter
(``client``) and webhook parsing and verification (``webhook``)."""

from cauce.channels.whatsapp.client import CAPABILITIES, WhatsAppAdapter

__all__ = ["CAPABILITIES", "WhatsAppAdapter"]
