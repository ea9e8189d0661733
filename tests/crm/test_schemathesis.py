"""Property-based API fuzzing with schemathesis against the app's own /openapi.json
(in-process ASGI): whatever schemathesis sends, no route answers 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from cauce.services.workspaces import DemoCredentials

# Operations that would cut the fuzzer's own credential mid-run (it may guess id 1).
EXCLUDED = ["revoke_api_key", "remove_user", "logout", "update_user", "change_password"]
MAX_EXAMPLES = 150
# KNOWN BUG, owned by the channels area (reported to the lead): `/api/v1/channels/{channel_id}`
# takes an unbounded int, so an id above 2**63 crashes SQLite with OverflowError (500).
# Bound it like the CRM's `IdPath` (api/pagination.py) and delete this exclusion.
KNOWN_BUG_PATHS = r"^/api/v1/channels/\{channel_id\}"


def test_no_route_answers_5xx(api: TestClient, demo: DemoCredentials) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app).exclude(operation_id=EXCLUDED)
    strategy = schema.as_strategy()
    errors: list[str] = []
    calls: dict[str, int] = {}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {demo.api_key}"})
        label = f"{case.method} {case.operation.path}"
        calls[label] = calls.get(label, 0) + 1
        if response.status_code >= 500:
            errors.append(
                f"{label} -> {response.status_code}: {response.text[:300]}\n"
                f"   {case.as_curl_command()}"
            )

    fuzz()
    assert len(calls) >= 30, calls  # the fuzzer reached most operations
    assert not errors, "\n".join(errors[:20])
