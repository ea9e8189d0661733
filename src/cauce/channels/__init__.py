"""The edges: one module per channel (WhatsApp Cloud API, SMTP email, SMS, Slack, outbound
webhooks, simulator). Inbound: verify, parse into our types, de-duplicate. Outbound: build the
provider request and map the answer into a typed result.

May import httpx and ``flows`` types; not ``store``, ``runtime`` or ``api``.
"""
