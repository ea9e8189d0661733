"""The FastAPI application: REST under ``/api/v1``, webhooks under ``/webhooks``, OpenAPI at
``/openapi.json``. Routes stay thin: parse, call a service, shape the answer.

May import ``services``, ``channels`` (webhook parsing) and ``settings``; not ``store`` models
directly except through services and dependencies.
"""
