"""Check request bodies against the openai SDK's param types and OpenAI's strict-schema rules."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any, Literal

from langchain_paramchat.options.typecheck import find_error, typeddict_fields
from langchain_paramchat.testing.strict_check import strict_schema_errors

__all__ = ["CREATE_PATHS", "Api", "BodyError", "check_body", "load_param_types"]

Api = Literal["chat_completions", "responses"]
CREATE_PATHS: dict[str, Api] = {
    "/v1/chat/completions": "chat_completions",
    "/v1/responses": "responses",
}
"""The create endpoint of each API, as the fake server (and a batch's ``endpoint``) names it."""


class BodyError:
    """Describe one problem with a request body: the message and the top-level param at fault."""

    __slots__ = ("code", "message", "param")

    def __init__(self, message: str, param: str | None, code: str) -> None:
        self.message = message
        self.param = param
        self.code = code

    def __repr__(self) -> str:
        return f"BodyError({self.message!r})"


@cache
def load_param_types(api: Api) -> tuple[dict[str, Any], frozenset[str]]:
    """Return the create-params field types and required keys of ``api`` (``stream`` included)."""
    from openai.types.chat.completion_create_params import CompletionCreateParamsBase
    from openai.types.responses.response_create_params import ResponseCreateParamsBase

    td = CompletionCreateParamsBase if api == "chat_completions" else ResponseCreateParamsBase
    hints, required = typeddict_fields(td)
    # ``stream`` lives on the Streaming/NonStreaming subclasses, not on the base.
    return {**hints, "stream": bool | None}, required


def check_body(
    api: Api,
    body: dict[str, Any],
    extra_keys: Collection[str] = (),
    *,
    allow_schema_defaults: bool = False,
) -> list[BodyError]:
    """Return every problem with a create body for ``api``; empty when the body is valid."""
    hints, required = load_param_types(api)
    errors: list[BodyError] = []
    for key in sorted(required - body.keys()):
        errors.append(
            BodyError(f"Missing required parameter: {key!r}.", key, "missing_required_parameter")
        )
    for key, value in body.items():
        if key in extra_keys:
            continue
        if key not in hints:
            errors.append(
                BodyError(
                    f"Unrecognized request argument supplied: {key}", key, "unknown_parameter"
                )
            )
            continue
        problem = find_error(value, hints[key], f"$.{key}")
        if problem:
            errors.append(BodyError(f"Invalid type: {problem}", key, "invalid_type"))
    errors.extend(_strict_errors(api, body, allow_schema_defaults))
    return errors


def _strict_errors(api: Api, body: dict[str, Any], allow_default: bool) -> list[BodyError]:
    found: list[BodyError] = []
    tools = body.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        if not isinstance(tool, dict):
            continue
        # Chat nests function tools under "function"; Responses keeps them flat.
        spec = tool.get("function") if api == "chat_completions" else tool
        if tool.get("type") != "function" or not isinstance(spec, dict):
            continue
        if spec.get("strict") is True and "parameters" in spec:
            where = (
                f"tools[{i}].function.parameters"
                if api == "chat_completions"
                else f"tools[{i}].parameters"
            )
            found += _schema_errors(
                spec["parameters"],
                where,
                f"function {spec.get('name')!r}",
                "invalid_function_parameters",
                allow_default,
            )
    if api == "chat_completions":
        fmt = body.get("response_format")
        schema_spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        where = "response_format.json_schema.schema"
    else:
        text = body.get("text")
        schema_spec = text.get("format") if isinstance(text, dict) else None
        where = "text.format.schema"
    if (
        isinstance(schema_spec, dict)
        and schema_spec.get("strict") is True
        and (api == "chat_completions" or schema_spec.get("type") == "json_schema")
    ):
        found += _schema_errors(
            schema_spec.get("schema", {}),
            where,
            f"response format {schema_spec.get('name')!r}",
            "invalid_json_schema",
            allow_default,
        )
    return found


def _schema_errors(
    schema: Any, where: str, what: str, code: str, allow_default: bool
) -> list[BodyError]:
    return [
        BodyError(f"Invalid schema for {what} (strict mode): {problem}", where, code)
        for problem in strict_schema_errors(schema, allow_default=allow_default)
    ]
