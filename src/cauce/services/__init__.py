"""Use cases (contacts, flows, inbox, metrics, API keys...). Routes, the CLI and tests call
these; they own transactions.

May import ``store``, ``flows``, ``engine``, ``runtime``, ``channels``, ``ai``; not ``api``.
"""
