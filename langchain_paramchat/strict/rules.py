"""The rules of OpenAI's strict-mode schema subset: documented limits and keyword tables.

Shared by the compiler (:mod:`langchain_paramchat.strict.compile`), the ``$ref`` helpers
(:mod:`langchain_paramchat.strict.refs`) and the checker (:mod:`langchain_paramchat.strict.verify`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_paramchat.errors import ToolSchemaError

# Limits quoted from the guide's "Supported schemas" section (read 2026; they were raised in
# mid-2025 from 100 properties / 5 levels / 500 enum values / 15,000 characters, so older
# figures still circulate):
# "A schema may have up to 5000 object properties total, with up to 10 levels of nesting."
MAX_PROPERTIES = 5000
MAX_NESTING_DEPTH = 10
# "total string length of all property names, definition names, enum values, and const values
# cannot exceed 120,000 characters."
MAX_TOTAL_STRING_CHARS = 120_000
# "A schema may have up to 1000 enum values across all enum properties."
MAX_ENUM_VALUES = 1000
# "For a single enum property with string values, the total string length of all enum values
# cannot exceed 15,000 characters when there are more than 250 enum values."
MAX_LARGE_ENUM_CHARS = 15_000
LARGE_ENUM_VALUES = 250

SUPPORTED_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
KEPT = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "description",
        "$ref",
        "$defs",
        "pattern",
        "format",
        "multipleOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
    }
)
ANNOTATIONS = frozenset(
    {
        "title",
        "default",
        "examples",
        "example",
        "$comment",
        "$schema",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentMediaType",
        "contentEncoding",
        "uniqueItems",
    }
)
UNSUPPORTED_COMPOSITION = (
    "is not supported in strict mode (OpenAI lists allOf, not, dependentRequired, "
    "dependentSchemas, if, then and else as unsupported); simplify the schema or use strict=False"
)
REJECTED = {
    "not": UNSUPPORTED_COMPOSITION,
    "if": UNSUPPORTED_COMPOSITION,
    "then": UNSUPPORTED_COMPOSITION,
    "else": UNSUPPORTED_COMPOSITION,
    "dependentRequired": UNSUPPORTED_COMPOSITION,
    "dependentSchemas": UNSUPPORTED_COMPOSITION,
    "dependencies": UNSUPPORTED_COMPOSITION,
    "prefixItems": (
        "is not supported in strict mode, so tuples cannot be expressed; use a list "
        "(list[X]) or a model with named fields, or use strict=False"
    ),
    "additionalItems": "is not supported in strict mode; use a list (list[X]) or strict=False",
    "patternProperties": (
        "is not supported in strict mode; objects need fixed properties. "
        "Give it fixed properties or use strict=False"
    ),
    "propertyNames": (
        "is not supported in strict mode; objects need fixed properties. "
        "Give it fixed properties or use strict=False"
    ),
    "unevaluatedProperties": "is not supported in strict mode; use strict=False",
    "unevaluatedItems": "is not supported in strict mode; use strict=False",
    "minProperties": (
        "is not supported in strict mode (every property is always present); "
        "remove it or use strict=False"
    ),
    "maxProperties": (
        "is not supported in strict mode (every property is always present); "
        "remove it or use strict=False"
    ),
    "contains": "is not supported in strict mode; remove it or use strict=False",
    "minContains": "is not supported in strict mode; remove it or use strict=False",
    "maxContains": "is not supported in strict mode; remove it or use strict=False",
}
FREE_FORM = (
    "free-form objects are not allowed in strict mode; give it fixed properties or use strict=False"
)
MAPPING = (
    "objects with arbitrary keys (additionalProperties: <schema>, e.g. dict[str, int]) are not "
    "allowed in strict mode; give it fixed properties (a model) or use strict=False"
)
NO_TYPE = (
    "a schema without a type accepts any value, which strict mode does not allow; "
    "give it a type (e.g. str, int, a model) or use strict=False"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
MISSING = object()


def schema_types(node: dict[str, Any], path: str) -> list[str]:
    """Return the JSON types ``node`` declares (``[]`` when it has no ``type``).

    Raises ``ToolSchemaError`` naming ``path`` when ``type`` is not a JSON Schema type.
    """
    t = node.get("type", MISSING)
    if t is MISSING:
        return []
    types = [t] if isinstance(t, str) else t
    if not isinstance(types, list) or not types or any(x not in _JSON_TYPES for x in types):
        raise ToolSchemaError(
            f"type {t!r} is not a JSON Schema type; use one of {sorted(_JSON_TYPES)}", path=path
        )
    return list(types)


def key_path(prefix: str, name: str) -> str:
    """Return the path of property ``name`` under ``prefix``, quoted when not an identifier."""
    return f"{prefix}.{name}" if _NAME.fullmatch(name) else f"{prefix}[{json.dumps(name)}]"
