"""Durable execution: stored inputs processed per contact in order, timers as rows, the
outbox delivered after commit, workers, the scheduler, rate limits and retries.

May import ``engine``, ``flows``, ``store``, ``channels`` and ``settings``; not ``api``.
"""
