"""Optional LLM provider through the OpenAI-compatible chat completions API.

Used only when a base URL and model are configured (OpenAI, Azure-compatible gateways, Ollama,
vLLM, LM Studio…). Every call is bounded by ``timeout_seconds`` in total, retries are limited
and only for transient failures (timeouts, connection errors, 429, 5xx), and every failure is
raised as :class:`LlmError` so the service falls back to the offline model: an LLM problem never
blocks a flow. Nothing here runs unless a provider is configured.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class LlmConfig(BaseModel):
    """Where and how to call the LLM. ``api_key`` may be empty for local servers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl  # e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1
    model: str = Field(min_length=1)
    api_key: str = ""
    timeout_seconds: float = Field(default=8.0, gt=0, le=120)
    max_retries: int = Field(default=1, ge=0, le=5)
    temperature: float = Field(default=0.0, ge=0, le=2)


class LlmError(Exception):
    """The LLM did not give a usable answer; ``reason`` is short and safe to record."""

    def __init__(self, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class LlmClient:
    """A small chat-completions client with a total time budget and bounded retries."""

    def __init__(self, config: LlmConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        # One pooled client per provider: keeps connections (and the TLS context) warm.
        self._client = httpx.Client(transport=transport, timeout=config.timeout_seconds)

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    @property
    def name(self) -> str:
        """The model name recorded on decisions (``llm:<model>``)."""
        return f"llm:{self.config.model}"

    def chat(self, system: str, user: str, json_answer: bool = False) -> str:
        """Send one system + user message and return the assistant's text."""
        deadline = time.monotonic() + self.config.timeout_seconds
        body: dict[str, Any] = {
            "model": self.config.model,
            "temperature": self.config.temperature,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
        if json_answer:
            body["response_format"] = {"type": "json_object"}
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        url = str(self.config.base_url).rstrip("/") + "/chat/completions"
        last: LlmError | None = None
        for attempt in range(self.config.max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            try:
                return self._once(url, headers, body, remaining)
            except LlmError as exc:
                last = exc
                if not exc.retryable:
                    raise
            # Short, bounded pause: the total budget, not the retry count, limits the wait.
            time.sleep(min(0.1 * (attempt + 1), max(0.0, deadline - time.monotonic())))
        raise last or LlmError("timeout", retryable=True)

    def chat_json(self, system: str, user: str) -> dict[str, Any]:
        """Like :meth:`chat` but parse the answer as a JSON object (code fences tolerated)."""
        text = self.chat(system, user, json_answer=True).strip()
        if text.startswith("```"):
            text = text.strip("`").removeprefix("json").strip()
        try:
            value = json.loads(text)
        except ValueError:
            raise LlmError("answer is not JSON") from None
        if not isinstance(value, dict):
            raise LlmError("answer is not a JSON object")
        return value

    def _once(self, url: str, headers: dict[str, str], body: dict[str, Any],
              timeout: float) -> str:
        try:
            response = self._client.post(url, headers=headers, json=body, timeout=timeout)
        except httpx.TimeoutException:
            raise LlmError("timeout", retryable=True) from None
        except httpx.HTTPError as exc:
            raise LlmError(f"connection failed: {type(exc).__name__}", retryable=True) from None
        if response.status_code != 200:
            raise LlmError(
                f"HTTP {response.status_code}", retryable=response.status_code in RETRYABLE_STATUS
            )
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LlmError("unexpected response shape") from None
        if not isinstance(content, str) or not content.strip():
            raise LlmError("empty answer")
        return content
