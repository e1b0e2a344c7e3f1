"""Check request bodies against OpenAI's published OpenAPI spec, when a copy is at hand.

The spec lives outside the project (``../shared/openai-openapi/openapi.json``). Without it
(or without ``jsonschema``) ``spec_errors`` finds nothing and the tests using it still run
their SDK checks; ``spec_available`` tells a test that is about the spec itself to skip.
Where the spec and the installed SDK disagree the SDK wins: the fake server checks every
body against the SDK's types, and this check only adds the spec's view on top.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[2] / "shared" / "openai-openapi" / "openapi.json"
# Input items where the spec copy and the installed SDK disagree; the SDK wins, so these
# items are left out of the spec check (the fake server still checks them against the SDK).
SDK_WINS = {
    "mcp_approval_response": "the spec also requires a request_id; the SDK's type does not",
    "configuration_update": "newer than the spec copy; the SDK types it",
}
_BODY_SCHEMAS = {
    "/v1/chat/completions": "CreateChatCompletionRequest",
    "/v1/responses": "CreateResponse",
    "/v1/responses/compact": "CompactResponseMethodPublicBody",
}


def spec_available() -> bool:
    """Return whether the spec copy and ``jsonschema`` are both at hand."""
    return SPEC.is_file() and importlib.util.find_spec("jsonschema") is not None


@cache
def _validators() -> dict[str, Any]:
    import jsonschema
    import referencing
    from referencing.jsonschema import DRAFT202012

    base = jsonschema.Draft202012Validator
    # The spec writes oneOf where several branches overlap (an easy message is also an
    # item), so an exact-one check fails valid bodies; any matching branch will do.
    loose = jsonschema.validators.extend(base, {"oneOf": base.VALIDATORS["anyOf"]})
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    resource = referencing.Resource.from_contents(spec, default_specification=DRAFT202012)
    registry = referencing.Registry().with_resource("urn:openai-spec", resource)
    return {
        path: loose({"$ref": f"urn:openai-spec#/components/schemas/{name}"}, registry=registry)
        for path, name in _BODY_SCHEMAS.items()
    }


def spec_errors(path: str, body: Any) -> list[str]:
    """Return the spec's complaints about a ``body`` POSTed to ``path`` ([] without a spec)."""
    if not spec_available():
        return []
    validator = _validators()[path]
    if isinstance(body, dict) and isinstance(body.get("input"), list):
        kept = [i for i in body["input"] if not (isinstance(i, dict) and i.get("type") in SDK_WINS)]
        body = {**body, "input": kept}
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message[:300]}"
        for e in validator.iter_errors(body)
    ]
