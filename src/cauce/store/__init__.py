"""Storage: SQLAlchemy 2 models and Alembic migrations; the same schema on SQLite and
PostgreSQL. Every row belongs to a workspace.

May import SQLAlchemy, Alembic and ``settings``; nothing from the layers above.
"""
