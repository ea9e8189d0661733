"""Cauce: an open-source, self-hostable WhatsApp-first flow automation engine.

Layout (see docs/architecture.md):
- ``flows``    flow documents, node types, validation (pure)
- ``engine``   advances a run: (version, state, input, context) -> (state, events) (pure)
- ``runtime``  durable execution: inputs, timers, outbox, workers, scheduler
- ``channels`` WhatsApp, email, SMS, Slack, webhooks, simulator: parse, verify, send
- ``services`` use cases called by the API, the CLI and the tests
- ``api``      FastAPI app: REST under /api/v1, webhooks under /webhooks
- ``store``    SQLAlchemy models and Alembic migrations
- ``ai``       offline intent classification, extraction, sentiment, summaries
- ``web``      serves the built React app
"""

__version__ = "0.1.0"
