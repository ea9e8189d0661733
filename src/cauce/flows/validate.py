"""Flow validation: every problem at once, each naming the node and the field to fix.

:func:`validate_document` takes the raw document (parsed JSON/YAML) rather than a
``FlowDocument`` so that a broken node does not hide the problems of the others: the parts
are parsed one by one and the graph checks run over whatever parsed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from cauce.engine.types import ContactSnapshot
from cauce.flows.common import Condition, Duration, Problem
from cauce.flows.document import FlowDocument, FlowSettings, Metadata, Position
from cauce.flows.nodes.base import Node
from cauce.flows.registry import NODE_TYPES, suggest
from cauce.flows.templates import check_syntax, expression_source, variables
from cauce.flows.triggers import Trigger
from cauce.limits import MAX_NODES_PER_FLOW, WHATSAPP_WINDOW_HOURS

_TRIGGER = TypeAdapter(Trigger)
_WINDOW = WHATSAPP_WINDOW_HOURS * 3600
_ROOTS = {"contact", "trigger", "event", "results", "message", "workspace", "run", "flow", "now"}
_CONTACT_ATTRS = set(ContactSnapshot.model_fields)
_MESSAGE_ATTRS = {"text", "channel", "button_id", "button_title", "at"}
_REPLY_STARTED = {"inbound_message", "ad_referral"}


def _err(code: str, message: str, node_id: str | None = None, field: str | None = None,
         severity: str = "error") -> Problem:
    return Problem.model_validate({"severity": severity, "code": code, "message": message,
                                   "node_id": node_id, "field": field})


def _pydantic_problems(exc: ValidationError, prefix: str, node_id: str | None = None,
                       code: str = "invalid") -> list[Problem]:
    out = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        field = ".".join(p for p in (prefix, loc) if p) or None
        out.append(_err(code, error["msg"], node_id, field))
    return out


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def validate_document(raw: Any) -> list[Problem]:
    """All problems of a flow document (errors and warnings), in a stable order."""
    if isinstance(raw, FlowDocument):
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, dict):
        return [_err("invalid", "a flow document must be a JSON object")]
    problems: list[Problem] = []
    known = {"format", "metadata", "triggers", "settings", "start", "nodes", "layout"}
    for key in sorted(set(raw) - known):
        problems.append(_err("unknown_key", f"unknown top-level key '{key}'", field=key))

    parts: dict[str, Any] = {"format": 1}
    for key, model in (("metadata", Metadata), ("settings", FlowSettings)):
        if key not in raw and key == "metadata":
            problems.append(_err("missing", "the flow needs metadata.name", field="metadata"))
            continue
        try:
            parts[key] = model.model_validate(raw.get(key, {}))
        except ValidationError as exc:
            problems += _pydantic_problems(exc, key)

    triggers = []
    for i, item in enumerate(_as_list(raw.get("triggers", []), "triggers", problems)):
        try:
            trigger = _TRIGGER.validate_python(item)
        except ValidationError as exc:
            problems += _pydantic_problems(exc, f"triggers.{i}")
            continue
        triggers.append(trigger)
        problems += trigger.problems(i)
    parts["triggers"] = triggers

    nodes: list[Node] = []
    all_ids: set[str] = set()
    for i, item in enumerate(_as_list(raw.get("nodes", []), "nodes", problems)):
        node = _parse_node(i, item, problems, all_ids)
        if node is not None:
            nodes.append(node)
    parts["nodes"] = nodes
    if len(all_ids) > MAX_NODES_PER_FLOW:
        problems.append(_err("too_many_nodes", f"more than {MAX_NODES_PER_FLOW} nodes",
                             field="nodes"))
    try:
        parts["layout"] = {k: Position.model_validate(v)
                           for k, v in (raw.get("layout") or {}).items()}
    except (ValidationError, AttributeError):
        problems.append(_err("invalid", "layout maps node ids to {x, y}", field="layout"))
    if isinstance(raw.get("start"), str):
        parts["start"] = raw["start"]
    if "metadata" not in parts:
        parts["metadata"] = Metadata(name="(unnamed)")
    flow = FlowDocument.model_construct(**parts)
    flow.model_post_init(None)
    problems += _graph_problems(flow, all_ids)
    return problems


def _as_list(value: Any, field: str, problems: list[Problem]) -> list[Any]:
    if isinstance(value, list):
        return value
    problems.append(_err("invalid", f"{field} must be a list", field=field))
    return []


def _parse_node(i: int, item: Any, problems: list[Problem], ids: set[str]) -> Node | None:
    if not isinstance(item, dict):
        problems.append(_err("invalid", "a node must be an object", field=f"nodes.{i}"))
        return None
    node_id = item.get("id") if isinstance(item.get("id"), str) else None
    if node_id is None:
        problems.append(_err("invalid", "node without an id", field=f"nodes.{i}.id"))
    elif node_id in ids:
        problems.append(_err("duplicate_node_id", f"node id '{node_id}' is used twice",
                             node_id, f"nodes.{i}.id"))
    else:
        ids.add(node_id)
    node_type = item.get("type")
    cls = NODE_TYPES.get(node_type) if isinstance(node_type, str) else None
    if cls is None:
        hint = suggest(node_type) if isinstance(node_type, str) else None
        problems.append(_err("unknown_node_type", f"unknown node type '{node_type}'"
                             + (f"; did you mean '{hint}'?" if hint else ""), node_id, "type"))
        return None
    try:
        return cls.model_validate(item)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, "", node_id)
        return None


# --------------------------------------------------------------------------------------------
# Graph checks
# --------------------------------------------------------------------------------------------


def _graph_problems(flow: FlowDocument, all_ids: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not flow.triggers:
        problems.append(_err("no_trigger", "the flow has no trigger; it can only be started "
                             "manually or by another flow", field="triggers",
                             severity="warning"))
    if not all_ids:
        problems.append(_err("empty_flow", "the flow has no nodes", field="nodes"))
        return problems
    start = flow.start_node()
    if start not in all_ids:
        problems.append(_err("bad_start", f"start node '{start}' does not exist", field="start"))
    goal = flow.settings.goal
    if goal is not None and goal.node not in all_ids:
        problems.append(_err("bad_goal", f"goal node '{goal.node}' does not exist",
                             field="settings.goal.node"))
    names = _result_names(flow)
    if goal is not None:
        problems += _condition_problems(goal.condition, None, "settings.goal.condition", names)

    for node in flow.nodes:
        declared = list(dict.fromkeys(node.exit_names(flow)))
        for exit_name, target in node.exits.items():
            if exit_name not in declared:
                problems.append(_err("unknown_exit", f"'{exit_name}' is not an exit of a "
                                     f"{node.type} node (exits: {', '.join(declared) or 'none'})",
                                     node.id, f"exits.{exit_name}"))
            elif target is not None and target not in all_ids:
                problems.append(_err("dangling_exit", f"exit '{exit_name}' leads to '{target}', "
                                     "which does not exist", node.id, f"exits.{exit_name}"))
        for exit_name in declared:
            if not node.exits.get(exit_name):
                problems.append(_err(
                    "unwired_exit", f"exit '{exit_name}' is not connected: the run "
                    + ("fails" if exit_name == "failed" else "ends") + " there",
                    node.id, f"exits.{exit_name}", severity="warning"))
        problems += node.check(flow)
        problems += _timeout_problems(node)
        for field, source in node.templates():
            problems += _template_problems(source, node.id, field, names)
        for field, condition in _conditions(node.config, "config"):
            problems += _condition_problems(condition, node.id, field, names)

    problems += _reachability(flow, start, goal.node if goal else None)
    problems += _loops_without_wait(flow)
    problems += _whatsapp_policy(flow, start)
    return problems


def _result_names(flow: FlowDocument) -> set[str]:
    names = {n.id for n in flow.nodes}
    for node in flow.nodes:
        save_as = getattr(node.config, "save_as", None)
        if save_as:
            names.add(save_as)
    return names


def _timeout_problems(node: Node) -> list[Problem]:
    if node.type in ("wait_for_reply", "whatsapp_buttons", "whatsapp_list") and \
            node.config.timeout is None:  # type: ignore[attr-defined]
        return [_err("missing_timeout", "a wait for a reply needs a timeout, or a contact who "
                     "never answers stays in the flow forever", node.id, "config.timeout")]
    if node.type in ("wait_for_event", "wait_for_condition") and \
            node.config.timeout is None:  # type: ignore[attr-defined]
        return [_err("missing_timeout", "without a timeout the run may wait forever",
                     node.id, "config.timeout", severity="warning")]
    return []


def _conditions(value: Any, path: str) -> Iterator[tuple[str, Condition]]:
    if isinstance(value, Condition):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _conditions(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _conditions(item, f"{path}.{i}")


def _variable_problem(path: str, names: set[str]) -> str | None:
    parts = path.split(".")
    root = parts[0]
    if root not in _ROOTS:
        return f"unknown variable '{path}' (known: {', '.join(sorted(_ROOTS))})"
    if len(parts) < 2:
        return None
    if root == "contact" and parts[1] not in _CONTACT_ATTRS:
        return (f"unknown contact attribute '{parts[1]}'; custom fields are "
                f"contact.fields.{parts[1]}")
    if root == "results" and parts[1] not in names:
        return f"'results.{parts[1]}' names no node id or save_as of this flow"
    if root == "message" and parts[1] not in _MESSAGE_ATTRS:
        return f"unknown message attribute '{parts[1]}'"
    return None


def _template_problems(source: str, node_id: str | None, field: str,
                       names: set[str]) -> list[Problem]:
    error = check_syntax(source)
    if error:
        return [_err("template_syntax", error, node_id, field)]
    return [_err("unknown_variable", msg, node_id, field)
            for path in variables(source) if (msg := _variable_problem(path, names))]


def _condition_problems(condition: Condition, node_id: str | None, field: str,
                        names: set[str]) -> list[Problem]:
    if condition.expression is not None:
        return _template_problems(expression_source(condition.expression), node_id,
                                  f"{field}.expression", names)
    out: list[Problem] = []
    for i, rule in enumerate(condition.rules):
        if isinstance(rule, Condition):
            out += _condition_problems(rule, node_id, f"{field}.rules.{i}", names)
        elif (msg := _variable_problem(rule.field, names)) and not rule.field.startswith(
                ("event.", "trigger.")):
            out.append(_err("unknown_variable", msg, node_id, f"{field}.rules.{i}.field"))
    return out


def _successors(node: Node) -> list[str]:
    return [t for t in node.exits.values() if t]


def _reachability(flow: FlowDocument, start: str | None, goal: str | None) -> list[Problem]:
    seen: set[str] = set()
    todo = [n for n in (start, goal) if n]
    while todo:
        current = todo.pop()
        node = flow.node(current)
        if current in seen or node is None:
            continue
        seen.add(current)
        todo += _successors(node)
    return [_err("unreachable_node", "no path from the start reaches this node", n.id,
                 severity="warning") for n in flow.nodes if n.id not in seen]


def _loops_without_wait(flow: FlowDocument) -> list[Problem]:
    """Cycles (strongly connected components) in which no node waits: a hot loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        # Iterative Tarjan: flows can be long chains and recursion would hit Python's limit.
        work = [(root, iter(_successors(flow.node(root))))]  # type: ignore[arg-type]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            current, children = work[-1]
            child = next(children, None)
            if child is not None:
                if flow.node(child) is None:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(_successors(flow.node(child)))))  # type: ignore
                elif child in on_stack:
                    low[current] = min(low[current], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                components.append(component)

    for node in flow.nodes:
        if node.id not in index:
            visit(node.id)
    problems = []
    for component in components:
        members = [flow.node(m) for m in component]
        cyclic = len(component) > 1 or component[0] in _successors(members[0])  # type: ignore
        if cyclic and not any(m is not None and m.waits for m in members):
            ordered = sorted(component)
            problems.append(_err("loop_without_wait", "these nodes form a loop with no wait in "
                                 f"it: {' → '.join(ordered)}; add a delay or a wait",
                                 ordered[0]))
    return problems


# --------------------------------------------------------------------------------------------
# WhatsApp policy: free-form messages only while the 24-hour window is surely open
# --------------------------------------------------------------------------------------------


def _max_closed_gap(flow: FlowDocument) -> float:
    """Longest stretch (seconds) the communication window stays closed in a week."""
    window = flow.settings.communication_window
    if window is None:
        return 0.0
    monday = datetime(2024, 1, 1)  # any Monday; wall-clock arithmetic only
    opens = sorted(
        (monday + timedelta(days=d + 7 * w)).replace(hour=window.start.hour,
                                                     minute=window.start.minute)
        for w in (0, 1) for d in set(window.weekdays))
    span = (datetime.combine(monday, window.end) - datetime.combine(monday, window.start))
    gaps = [(b - a - span).total_seconds() for a, b in itertools.pairwise(opens)]
    gap = max(gaps, default=7 * 86400.0)
    return gap + (86400.0 if window.skip_holidays else 0.0)


def _seconds(duration: Duration | None) -> float:
    return math.inf if duration is None else float(duration.total_seconds)


def _exit_elapsed(node: Node, exit_name: str, entered: float) -> float:
    """Upper bound on seconds since the contact last wrote, on leaving by ``exit_name``."""
    config: Any = getattr(node, "config", None)
    kind = node.type
    if kind == "window_check":
        return 0.0 if exit_name == "open" else math.inf
    if kind in ("wait_for_reply", "whatsapp_buttons", "whatsapp_list"):
        if exit_name in ("timeout", "failed"):
            return entered + _seconds(config.timeout)
        return 0.0  # a reply (any, a button, a keyword) just opened the window
    if kind == "delay":
        if config.resume_window is not None:
            return math.inf
        return entered + _seconds(config.duration)
    if kind in ("wait_for_event", "wait_for_condition"):
        return entered + _seconds(config.timeout)
    if kind in ("wait_until", "handoff"):
        return math.inf
    return entered


def _whatsapp_policy(flow: FlowDocument, start: str | None) -> list[Problem]:
    if start is None or flow.node(start) is None:
        return []
    reply_started = bool(flow.triggers) and all(t.type in _REPLY_STARTED for t in flow.triggers)
    hold = _max_closed_gap(flow)
    elapsed: dict[str, float] = {start: 0.0 if reply_started else math.inf}
    goal = flow.settings.goal
    if goal is not None and flow.node(goal.node) is not None:
        elapsed[goal.node] = math.inf  # reached from anywhere, at any time
    todo = list(elapsed)
    while todo:
        current = todo.pop()
        node = flow.node(current)
        if node is None:
            continue
        entered = elapsed[current] + (hold if node.communication else 0.0)
        for exit_name, target in node.exits.items():
            if not target or flow.node(target) is None:
                continue
            value = _exit_elapsed(node, exit_name, entered)
            if value > _WINDOW:
                value = math.inf
            if value > elapsed.get(target, -1.0):
                elapsed[target] = value
                todo.append(target)
    problems = []
    for node in flow.nodes:
        if not node.free_form_whatsapp or node.id not in elapsed:
            continue
        entered = elapsed[node.id] + (hold if node.communication else 0.0)
        if entered > _WINDOW and getattr(node.config, "fallback_template", None) is None:
            problems.append(_err(
                "whatsapp_window", "this free-form WhatsApp message may be sent after the "
                "24-hour window closed; put it after a reply, on the 'open' exit of a window "
                "check, or give it a fallback_template", node.id, "config.fallback_template"))
    return problems
