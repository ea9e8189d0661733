"""Prometheus metrics at ``/metrics`` (text exposition format, no authentication: bind it to
an internal network or put it behind the proxy's auth)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cauce.api.deps import CauceDep
from cauce.runtime.metrics import collect_gauges

router = APIRouter(tags=["metrics"])


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
def metrics(cauce: CauceDep) -> Response:
    with cauce.transaction() as session:
        collect_gauges(session, cauce.clock.now())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
