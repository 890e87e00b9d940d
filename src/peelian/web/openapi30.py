"""Serve the API description as OpenAPI 3.0, which the bundled Swagger UI can read.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12). The Swagger UI shipped offline with the
``swagger-ui-bundle`` package (1.1.0 = Swagger UI 4.15.5) reads only ``swagger: "2.0"`` and
``openapi: 3.0.n``; OpenAPI 3.1 needs Swagger UI 5 (swagger-api/swagger-ui#5891, #8441), so
``/docs`` showed "Unable to render this definition". Rather than fetch a newer UI (no CDNs), the
schema is translated to OpenAPI 3.0.3 (https://spec.openapis.org/oas/v3.0.3) with the
conversions of the OpenAPI Initiative's 3.0 -> 3.1 migration guide run backwards
(https://www.openapis.org/blog/2021/02/16/migrating-from-openapi-3-0-to-3-1-0):

- ``type: [T, "null"]`` and ``anyOf``/``oneOf`` with a ``{"type": "null"}`` branch become
  ``nullable: true`` (a lone ``$ref`` is wrapped in ``allOf``, because 3.0 ignores the siblings
  of ``$ref``);
- ``const: v`` becomes ``enum: [v]``; a schema's list of ``examples`` becomes ``example``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/``maximum`` with the
  boolean flags; ``contentMediaType``/``contentEncoding`` become ``format: binary``;
- ``prefixItems`` (tuples) become ``items`` of any of the item schemas with the tuple's length;
- 3.1-only document fields (``webhooks``, ``jsonSchemaDialect``, ``info.summary``,
  ``license.identifier``) are dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

__all__ = ["OPENAPI_VERSION", "install_openapi_30", "to_openapi_30"]

OPENAPI_VERSION = "3.0.3"
_NULL = ({"type": "null"}, {"nullable": True, "enum": [None]})  # as written, as translated
# keys whose value is a map of names to schemas / a list of schemas / one schema
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES = ("items", "additionalProperties", "not", "contains", "propertyNames")


def _schema(node: Any) -> Any:
    """One JSON Schema 2020-12 object as an OpenAPI 3.0 schema object."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _schema(s) for name, s in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_schema(s) for s in out[key]]
    for key in _SCHEMA_ONES:
        if isinstance(out.get(key), dict):
            out[key] = _schema(out[key])
    t = out.get("type")
    if isinstance(t, list):
        kinds = [x for x in t if x != "null"]
        if len(kinds) < len(t):
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            del out["type"]
            if kinds:
                out["anyOf"] = [{"type": k} for k in kinds]
    elif t == "null":
        del out["type"]
        out["nullable"] = True
        out["enum"] = [None]
    for key in ("anyOf", "oneOf"):
        branches = out.get(key)
        if isinstance(branches, list) and any(b in _NULL for b in branches):
            rest = [b for b in branches if b not in _NULL]
            del out[key]
            out["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif rest:
                out["allOf" if len(rest) == 1 else key] = rest
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples and "example" not in out:
            out["example"] = examples[0]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[bound] = value
            out[key] = True
    if "contentMediaType" in out or "contentEncoding" in out:
        out.pop("contentMediaType", None)
        out.pop("contentEncoding", None)
        out.setdefault("type", "string")
        out["format"] = "binary"
    if "prefixItems" in out:
        items = out.pop("prefixItems")
        out["items"] = items[0] if len(items) == 1 else {"anyOf": items}
        out.setdefault("minItems", len(items))
        out.setdefault("maxItems", len(items))
    if "$ref" in out and len(out) > 1:
        ref = {"$ref": out.pop("$ref")}
        out["allOf"] = [ref, *out.get("allOf", [])]
    for key in ("$schema", "$id", "$anchor", "$comment", "unevaluatedProperties"):
        out.pop(key, None)
    return out


def _walk(node: Any) -> Any:
    """Every schema object in an OpenAPI document (under a ``schema`` key or in
    ``components.schemas``) translated by :func:`_schema`."""
    if isinstance(node, list):
        return [_walk(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: _schema(s) for name, s in value.items()}
        else:
            out[key] = _walk(value)
    return out


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document (FastAPI's) as an OpenAPI 3.0.3 document (a new dict)."""
    doc = _walk(copy.deepcopy(document))
    doc["openapi"] = OPENAPI_VERSION
    for key in ("webhooks", "jsonSchemaDialect"):
        doc.pop(key, None)
    info = doc.get("info", {})
    info.pop("summary", None)
    if isinstance(info.get("license"), dict):
        info["license"].pop("identifier", None)
    return doc


def install_openapi_30(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json`` and ``/docs``) answer OpenAPI 3.0.3."""
    build: Callable[[], dict[str, Any]] = app.openapi
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cached:
            cached["doc"] = to_openapi_30(build())
        return cached["doc"]

    app.openapi = openapi  # type: ignore[method-assign]
