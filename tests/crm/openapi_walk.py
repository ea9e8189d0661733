"""Helpers to walk the app's OpenAPI: every operation, with a minimal valid body built from
the schema's examples, so tests cover routes added by anyone without knowing them."""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]


def resolve(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def example(spec: Spec, schema: dict[str, Any], depth: int = 0) -> Any:
    """A value that satisfies ``schema`` (required properties only), preferring examples."""
    schema = resolve(spec, schema)
    if depth > 8:
        return None
    for key in ("examples", "example"):
        if key in schema:
            value = schema[key]
            if key == "examples" and isinstance(value, list) and value:
                return value[0]
            if key == "example":
                return value
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [resolve(spec, o) for o in schema[key]]
            non_null = [o for o in options if o.get("type") != "null"]
            return example(spec, (non_null or options)[0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(resolve(spec, part))
        return example(spec, merged, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: example(spec, props[name], depth + 1)
            for name in schema.get("required", [])
            if name in props
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [example(spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2026-03-02T12:00:00Z"
        if fmt == "date":
            return "2026-03-02"
        if fmt == "email":
            return "someone@example.com"
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return True
    return None


def operations(spec: Spec, prefix: str = "/api/") -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, item in spec["paths"].items():
        if not path.startswith(prefix):
            continue
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method, path, op))
    return out


def request_body(spec: Spec, op: dict[str, Any]) -> tuple[str | None, Any]:
    """(content type, body) for an operation's request body, or (None, None)."""
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return "json", example(spec, content["application/json"].get("schema", {}))
    if "multipart/form-data" in content:
        schema = resolve(spec, content["multipart/form-data"].get("schema", {}))
        return "multipart", example(spec, schema)
    return None, None
