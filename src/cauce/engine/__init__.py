"""The pure flow engine: (flow version, run state, input, context) -> (new run state, events).

Pure: may import ``cauce.flows``, ``cauce.limits``, the standard library, pydantic and
python-liquid. Never SQLAlchemy, FastAPI, httpx, settings, the real clock or randomness
(time, ids and randomness come in through the context). A test enforces the imports.
"""
