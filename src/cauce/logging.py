"""Structured logs with structlog: JSON in production, readable in a terminal.

The request id of the HTTP request being served (or the input being processed) is bound with
``structlog.contextvars`` so every line logged while handling it carries it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

from cauce.settings import LogFormat

_quiet: ContextVar[bool] = ContextVar("cauce_log_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Drop what Cauce's structlog loggers log in this context (and the tasks and worker-thread
    calls started from it): ``cauce serve``'s warm-up requests, which are not traffic."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def drop_when_quiet(_logger: Any, _method: str, event_dict: Any) -> Any:
    if _quiet.get():
        raise structlog.DropEvent
    return event_dict


def configure_logging(fmt: LogFormat = LogFormat.CONSOLE, level: str = "INFO") -> None:
    """Configure structlog and the standard library's logging to share one output."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if fmt is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[drop_when_quiet, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer
        ])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log duplicates our request log line.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
