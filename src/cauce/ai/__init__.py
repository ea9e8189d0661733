"""Offline AI: intent classification, extraction, sentiment, lead scoring, summaries; an
optional OpenAI-compatible LLM provider with offline fallback.

May import numpy, rapidfuzz, phonenumbers and httpx (LLM provider only).
"""
