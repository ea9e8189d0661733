"""Liquid templates and condition evaluation, sandboxed.

Sandboxing: the environment has no loader (``include``/``render`` find no file), a loop
iteration limit, an output size limit and a context depth limit; templates only see the plain
data we pass in. Conditions never go through Python ``eval``: rules are compared here, and the
expression escape hatch is evaluated by Liquid's own ``if`` tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from liquid import Environment, StrictDefaultUndefined
from liquid.exceptions import LiquidError

from cauce.flows.common import Condition, Rule
from cauce.limits import (
    MAX_TEMPLATE_LOOP_ITERATIONS,
    MAX_TEMPLATE_OUTPUT,
    MAX_USER_REGEX_LENGTH,
)


class _SandboxedEnvironment(Environment):
    loop_iteration_limit: ClassVar[int | None] = MAX_TEMPLATE_LOOP_ITERATIONS
    output_stream_limit: ClassVar[int | None] = MAX_TEMPLATE_OUTPUT
    local_namespace_limit: ClassVar[int | None] = 100_000


# StrictDefaultUndefined: an unknown variable is an error, except under `default:`, which is
# exactly what `{{ contact.first_name | default: "hola" }}` needs.
ENV = _SandboxedEnvironment(undefined=StrictDefaultUndefined)


class TemplateError(Exception):
    """A template that does not parse or render (becomes an ErrorOccurred event, not a crash)."""


@lru_cache(maxsize=2048)
def _parse(source: str) -> Any:
    try:
        return ENV.from_string(source)
    except LiquidError as exc:
        raise TemplateError(_first_line(exc)) from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def check_syntax(source: str) -> str | None:
    """The syntax error message of ``source``, or None when it parses."""
    try:
        _parse(source)
    except TemplateError as exc:
        return str(exc)
    return None


def variables(source: str) -> list[str]:
    """Dotted paths of the global variables a template reads (``contact.first_name``)."""
    try:
        template = _parse(source)
    except TemplateError:
        return []
    return [str(p) for p in template.global_variable_paths()]


def render(source: str, data: Mapping[str, Any]) -> str:
    """Render ``source`` with ``data``; raises TemplateError for any template problem."""
    if "{" not in source:
        return source  # plain text: skip Liquid entirely
    template = _parse(source)
    try:
        out = str(template.render(**data))
    except LiquidError as exc:
        raise TemplateError(_first_line(exc)) from None
    except RecursionError:
        raise TemplateError("template nests too deeply") from None
    if len(out) > MAX_TEMPLATE_OUTPUT:
        raise TemplateError(f"template output longer than {MAX_TEMPLATE_OUTPUT} characters")
    return out


def expression_source(expression: str) -> str:
    return "{% if " + expression + " %}1{% else %}0{% endif %}"


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through nested dicts/lists; None when any part is missing."""
    current: Any = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif part == "size" and isinstance(current, list | str | Mapping):
            current = len(current)
        else:
            return None
    return current


def evaluate(condition: Condition, data: Mapping[str, Any]) -> bool:
    """True when the condition holds. Raises TemplateError for a broken expression or regex."""
    if condition.expression is not None:
        return render(expression_source(condition.expression), data) == "1"
    results = (
        evaluate(item, data) if isinstance(item, Condition) else _rule(item, data)
        for item in condition.rules
    )
    return all(results) if condition.match == "all" else any(results)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _rule(rule: Rule, data: Mapping[str, Any]) -> bool:
    actual = lookup(data, rule.field)
    expected = rule.value
    op = rule.operator
    if op == "exists":
        return actual not in (None, "", [], {})
    if op == "not_exists":
        return actual in (None, "", [], {})
    if op in ("is_true", "is_false"):
        truthy = actual is True or _norm(actual) in ("true", "yes", "si", "sí", "1", 1)
        return truthy if op == "is_true" else not truthy
    if op in ("has_tag", "not_has_tag"):
        tags = {_norm(t) for t in lookup(data, "contact.tags") or []}
        has = _norm(expected) in tags
        return has if op == "has_tag" else not has
    if op in ("gt", "gte", "lt", "lte"):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
    if op in ("in", "not_in"):
        options = expected if isinstance(expected, list) else [expected]
        found = _norm(actual) in [_norm(o) for o in options]
        return found if op == "in" else not found
    if op in ("eq", "ne"):
        a_num, b_num = _number(actual), _number(expected)
        same = a_num == b_num if a_num is not None and b_num is not None else (
            _norm(actual) == _norm(expected)
        )
        return same if op == "eq" else not same
    # Text operators; a list "contains" an element.
    if isinstance(actual, list):
        hit = _norm(expected) in [_norm(a) for a in actual]
        return hit if op == "contains" else (not hit if op == "not_contains" else False)
    text = "" if actual is None else str(actual).casefold()
    needle = "" if expected is None else str(expected).casefold()
    if op == "contains":
        return needle in text
    if op == "not_contains":
        return needle not in text
    if op == "starts_with":
        return text.startswith(needle)
    return text.endswith(needle)


def regex_error(pattern: str) -> str | None:
    """Why a user regex is refused (too long or does not compile), or None."""
    if len(pattern) > MAX_USER_REGEX_LENGTH:
        return f"regex longer than {MAX_USER_REGEX_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regex: {exc}"
    return None
