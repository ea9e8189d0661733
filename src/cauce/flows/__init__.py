"""Flow documents: metadata, triggers, settings, typed nodes with named exits, validation.

Pure: may import only the standard library, pydantic, python-liquid, croniter, holidays,
phonenumbers and other ``cauce.flows`` / ``cauce.limits`` modules. Never SQLAlchemy, FastAPI,
httpx or settings (a test enforces it).
"""
