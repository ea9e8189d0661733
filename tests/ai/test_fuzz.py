"""Whatever JSON a node config holds, the AI answers or raises AiConfigError naming a field."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauce.ai import AiConfigError, AiService
from cauce.ai.embedder import Encoder

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(["intents", "rules", "threshold", "fields", "default_region", "today",
                        "transcript", "language", "use_llm", "name", "other"])
configs = st.dictionaries(keys, json_values, max_size=4)
operations = st.sampled_from(["classify_intent", "extract", "sentiment", "score", "summarize"])


@settings(max_examples=200, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(operation=operations, text=st.text(max_size=40), config=configs)
def test_any_config_answers_or_names_the_field(
    encoder: Encoder, operation: Any, text: str, config: dict[str, Any]
) -> None:
    try:
        decision = AiService(encoder=encoder).run(operation, text, config)
    except AiConfigError as exc:
        assert exc.field
        return
    assert decision.operation == operation
