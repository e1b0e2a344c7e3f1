"""``with_structured_output``: schemas in, parsed objects out, on either API.

``json_schema`` (default) sends the schema as ``response_format`` (``text.format`` on
Responses) and parses the reply text; ``function_calling`` forces one tool and parses its
arguments; ``json_mode`` asks for any JSON object. A refusal raises ``RefusalError``, a
reply a content filter stopped ``ContentFilterError`` (both also langchain-core's
``ModelRefusalError``) and a reply cut by the token limit ``LengthLimitError``. As with
ChatOpenAI, streaming a dict schema (JSON schema, TypedDict) yields the growing JSON as
dicts, and streaming a Pydantic schema yields only the complete, validated object; the last
item equals the non-streaming result either way. ``stream_partial`` overrides the choice:
``True`` also yields a Pydantic schema's growing JSON as plain dicts, ``False`` yields only
the final object.
"""

from __future__ import annotations

import json
import typing
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.output_parsers import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, ValidationError
from pydantic.v1 import BaseModel as V1BaseModel
from pydantic.v1 import ValidationError as V1ValidationError

from langchain_paramchat.errors import (
    ContentFilterError,
    LengthLimitError,
    OptionError,
    RefusalError,
    StructuredOutputError,
)
from langchain_paramchat.routing.model_facts import facts
from langchain_paramchat.tools import normalize as _tools

__all__ = [
    "StructuredParser",
    "is_schema_class",
    "json_schema_format",
    "parse_reply_as",
    "structured_runnable",
    "tools_response_format",
]

Method = Literal["json_schema", "function_calling", "json_mode"]


def _is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and issubclass(schema, BaseModel | V1BaseModel)


def _validate(schema: Any, data: Any) -> Any:
    if issubclass(schema, V1BaseModel):
        return schema.parse_obj(data)
    return schema.model_validate(_drop_defaulted_nulls(schema, data))


def _refusal(message: BaseMessage) -> str | None:
    refusal = message.additional_kwargs.get("refusal")
    if refusal:
        return str(refusal)
    if isinstance(message.content, list):
        parts = [
            b.get("refusal", "")
            for b in message.content
            if isinstance(b, dict) and b.get("type") == "refusal"
        ]
        if any(parts):
            return "".join(parts)
    return None


def _filtered(message: BaseMessage) -> bool:
    # Both APIs' parsers report a content filter as this finish reason; a Responses reply
    # built elsewhere (ChatOpenAI's) may say so only in its incomplete_details.
    meta = message.response_metadata
    details = meta.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    return "content_filter" in (meta.get("finish_reason"), reason)


def _cut_short(message: BaseMessage) -> bool:
    return message.response_metadata.get("finish_reason") == "length"


class StructuredParser(BaseCumulativeTransformOutputParser[Any]):
    """Parse a reply's JSON (text or a tool call's arguments) into the requested schema."""

    target: Any = None
    """A Pydantic class to validate into, or None for plain dicts."""
    tool_name: str | None = None
    """When set, read the arguments of this tool's call instead of the reply text."""
    stream_partial: bool = False
    """While streaming, also yield the growing partial JSON as plain (unvalidated) dicts."""

    def _raw_json(self, message: BaseMessage) -> str:
        if self.tool_name is None:
            return message.text
        chunks = getattr(message, "tool_call_chunks", None) or []
        for chunk in chunks:
            if chunk.get("name") in (self.tool_name, None):
                return chunk.get("args") or ""
        for call in getattr(message, "tool_calls", []) or []:
            if call["name"] == self.tool_name:
                return json.dumps(call["args"])
        for bad in getattr(message, "invalid_tool_calls", []) or []:
            if bad.get("name") == self.tool_name:
                return bad.get("args") or ""
        return ""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """Return the parsed object (a partial dict while streaming); raise on refusal or cut."""
        generation = result[0]
        if not isinstance(generation, ChatGeneration):
            raise StructuredOutputError("structured output needs a chat generation")
        message = generation.message
        refusal = _refusal(message)
        if refusal and not partial:
            raise RefusalError(refusal, raw_message=message)
        if not partial and _filtered(message):
            raise ContentFilterError(raw_message=message)
        raw = self._raw_json(message)
        if partial:
            data = parse_partial_json(raw) if raw.strip() else None
            # Partial JSON is never validated: it is handed out as a dict, never as a model.
            return data if isinstance(data, dict) else None
        if self.tool_name is not None and not _called(message, self.tool_name):
            raise StructuredOutputError(
                f"the model did not call the {self.tool_name!r} tool (a server that ignores "
                "tool_choice does this); use method='json_schema'"
            )
        try:
            # A complete object is accepted even at the token limit: grammar-constrained
            # servers may pad after the closing brace until the limit.
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            if _cut_short(message):
                raise LengthLimitError(
                    "the reply was cut off by the token limit before the structured output "
                    "was complete; raise max_tokens"
                ) from exc
            raise StructuredOutputError(
                f"the reply is not valid JSON: {exc}: {raw[:200]!r}"
            ) from exc
        except RecursionError:  # a hostile server's thousands of nested brackets
            raise StructuredOutputError(
                f"the reply nests too deeply to be read as JSON: {raw[:200]!r}"
            ) from None
        if not _is_pydantic(self.target):
            return data
        try:
            return _validate(self.target, data)
        except (ValidationError, V1ValidationError) as exc:
            raise StructuredOutputError(
                f"the reply does not match {self.target.__name__}: {exc}"
            ) from exc

    def parse(self, text: str) -> Any:
        """Parse JSON text (used when the parser is given a plain string)."""
        return self.parse_result([ChatGeneration(message=AIMessage(text))])

    @property
    def OutputType(self) -> Any:
        """Return the Pydantic class parsed into (the chain's output schema), else ``Any``."""
        return self.target if _is_pydantic(self.target) else Any

    def _diff(self, prev: Any | None, next: Any) -> Any:
        return next

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        progress = _Progress(self)
        for chunk in input:
            if progress.add(chunk):
                yield progress.last
        if progress.close():
            yield progress.last

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        progress = _Progress(self)
        async for chunk in input:
            if progress.add(chunk):
                yield progress.last
        if progress.close():
            yield progress.last

    @property
    def _type(self) -> str:
        return "paramchat_structured"


def _called(message: BaseMessage, name: str) -> bool:
    calls = [
        *(getattr(message, "tool_calls", None) or []),
        *(getattr(message, "invalid_tool_calls", None) or []),
    ]
    return any(call.get("name") == name for call in calls)


class _Progress:
    """Accumulate a streamed reply and say when its parsed object changed."""

    def __init__(self, parser: StructuredParser) -> None:
        self.parser = parser
        self.acc: Generation | None = None
        self.last: Any = None

    def add(self, chunk: str | BaseMessage) -> bool:
        """Add one chunk; return True when ``last`` holds a new partial dict to yield."""
        self.acc = _accumulate(self.acc, chunk)
        if not self.parser.stream_partial:
            return False
        parsed = self.parser.parse_result([self.acc], partial=True)
        if parsed is None or parsed == self.last:
            return False
        self.last = parsed
        return True

    def close(self) -> bool:
        """Parse the whole reply (a refusal or a cut-off raises); True when it adds an object."""
        if self.acc is None:
            return False
        final = self.parser.parse_result([self.acc])
        if final == self.last:
            return False
        self.last = final
        return True


def _accumulate(acc: Generation | None, chunk: str | BaseMessage) -> Generation:
    if isinstance(chunk, BaseMessageChunk):
        piece: Generation = ChatGenerationChunk(message=chunk)
    elif isinstance(chunk, BaseMessage):
        piece = ChatGenerationChunk(message=AIMessageChunk(**chunk.model_dump(exclude={"type"})))
    else:
        piece = GenerationChunk(text=chunk)
    if acc is None:
        return piece
    return acc + piece  # type: ignore[operator]


def _drop_defaulted_nulls(schema: type[BaseModel], data: Any) -> Any:
    """Drop ``null`` for fields that have a default but do not accept None, at any depth.

    Strict mode makes every optional field required and nullable, so the model sends null
    where the user's schema meant "use the default".
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, field in schema.model_fields.items():
        key = field.alias or name
        if key not in out:
            continue
        if out[key] is None and not field.is_required():
            try:
                schema.__pydantic_validator__.validate_assignment(
                    schema.model_construct(), name, None
                )
            except ValidationError:
                del out[key]
            continue
        sub = _sub_model(field.annotation)
        if sub is not None and isinstance(out[key], list):
            out[key] = [_drop_defaulted_nulls(sub, item) for item in out[key]]
        elif sub is not None:
            out[key] = _drop_defaulted_nulls(sub, out[key])
    return out


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    """Return the model class inside ``Model``, ``Model | None`` or ``list[Model]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _sub_model(arg)
        if found is not None:
            return found
    return None


def _schema_dict(schema: Any, strict: bool) -> tuple[str, str | None, dict[str, Any]]:
    """Return the name, description and JSON schema for any accepted schema kind."""
    tool = _tools.normalize_tool(schema, strict=strict)
    if not isinstance(tool, _tools.FunctionTool):
        raise OptionError(
            "schema", schema, "must be a Pydantic class, TypedDict or JSON schema dict"
        )
    return tool.name, tool.description, tool.parameters


def is_schema_class(value: Any) -> bool:
    """Return True for a Pydantic class or a TypedDict (what ``response_format=`` may name)."""
    return _is_pydantic(value) or (isinstance(value, type) and typing.is_typeddict(value))


def json_schema_format(schema: Any, *, strict: bool) -> dict[str, Any]:
    """Return the Chat Completions ``response_format`` asking for ``schema``'s JSON."""
    name, description, parameters = _schema_dict(schema, strict)
    spec: dict[str, Any] = {"name": name, "schema": parameters, "strict": strict}
    if description:
        spec["description"] = description
    return {"type": "json_schema", "json_schema": spec}


def tools_response_format(value: Any, strict: bool | None) -> Any:
    """Return ``bind_tools(response_format=...)`` as the call option ChatOpenAI makes of it.

    A Pydantic class or TypedDict stays as given: each call sends it as a strict JSON schema
    and parses the answer into it. A JSON schema with a ``title`` becomes a ``json_schema``
    format, strict when ``strict`` (else its own ``strict``) says so. LangChain agents'
    ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"?}}`` is compiled to
    strict mode when it asks for it. Any other value is left for the option check.
    """
    if is_schema_class(value) or not isinstance(value, Mapping):
        return value
    if value.get("type") == "json_schema" and isinstance(value.get("json_schema"), Mapping):
        spec = value["json_schema"]
        schema = spec.get("schema")
        if spec.get("strict") is not True or not isinstance(schema, Mapping):
            return value
        titled = {**schema, "title": spec.get("name") or schema.get("title") or "response"}
        return json_schema_format(titled, strict=True)
    if value.get("type") in ("json_schema", "json_object", "text"):
        return value
    own = value.get("strict")
    use_strict = strict if strict is not None else own is True
    return json_schema_format({k: v for k, v in value.items() if k != "strict"}, strict=use_strict)


def parse_reply_as(schema: Any, message: BaseMessage) -> Any:
    """Return ``message``'s JSON text validated into ``schema``; None for a refusal or filter.

    Raise ``StructuredOutputError`` when the text is not JSON or does not match.
    """
    if _refusal(message) or _filtered(message):
        return None
    return StructuredParser(target=schema).parse_result([ChatGeneration(message=message)])


def structured_runnable(
    model: Any,
    schema: Any,
    *,
    method: Method = "json_schema",
    strict: bool | None = None,
    include_raw: bool = False,
    stream_partial: bool | None = None,
    **kwargs: Any,
) -> Runnable[Any, Any]:
    """Return ``model`` bound to produce ``schema`` and parse it (see module docstring).

    Raises ``OptionError`` for an unknown ``method`` or a ``strict`` it cannot honour.
    """
    if method not in ("json_schema", "function_calling", "json_mode"):
        raise OptionError(
            "method", method, "must be 'json_schema', 'function_calling' or 'json_mode'"
        )
    if method == "json_schema" and not _takes_json_schema(model):
        warnings.warn(
            f"Cannot use method='json_schema' with model {_model_name(model)!r}: it does not "
            "support OpenAI's structured outputs, so method='function_calling' is used. Pass "
            "method='function_calling' to silence this warning",
            UserWarning,
            stacklevel=3,
        )
        method = "function_calling"
    target = schema if _is_pydantic(schema) else None
    if stream_partial is None:
        # A partial dict is already the answer's type; a partial model would be half-built.
        stream_partial = target is None
    # What LangSmith shows for the call: the user's own schema and how it was asked for.
    kwargs["ls_structured_output_format"] = {
        "kwargs": {"method": method, "strict": strict},
        "schema": schema,
    }
    if method == "json_mode":
        if strict:
            raise OptionError("strict", strict, "has no meaning with method='json_mode'")
        bound = model.bind(response_format={"type": "json_object"}, **kwargs)
        parser = StructuredParser(target=target, stream_partial=stream_partial)
    elif method == "json_schema":
        use_strict = True if strict is None else strict
        bound = model.bind(response_format=json_schema_format(schema, strict=use_strict), **kwargs)
        parser = StructuredParser(target=target, stream_partial=stream_partial)
    else:
        tool = _tools.normalize_tool(schema, strict=strict)
        bound = model.bind_tools(
            [tool], tool_choice=tool.name if hasattr(tool, "name") else None, **kwargs
        )
        parser = StructuredParser(
            target=target, tool_name=getattr(tool, "name", None), stream_partial=stream_partial
        )
    if not include_raw:
        return bound | parser
    parse = RunnableLambda(lambda x: parser.invoke(x["raw"]))
    with_parsed = RunnablePassthrough.assign(parsed=parse, parsing_error=lambda _: None)
    on_error = RunnablePassthrough.assign(parsed=lambda _: None)
    return (
        RunnableMap(raw=bound)
        | with_parsed.with_fallbacks([on_error], exception_key="parsing_error")
        | RunnableLambda(_order_raw)
    )


def _model_name(model: Any) -> Any:
    """Return the model name a (possibly bound) ParamChat sends."""
    bound = getattr(model, "kwargs", None)
    name = bound.get("model") if isinstance(bound, Mapping) else None
    return name or getattr(getattr(model, "bound", model), "model", None)


def _takes_json_schema(model: Any) -> bool:
    """Return False when the model's facts say it has no structured outputs."""
    name = _model_name(model)
    return not isinstance(name, str) or facts(name).family.structured_output


def _order_raw(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "raw": value["raw"],
        "parsed": value["parsed"],
        "parsing_error": value.get("parsing_error"),
    }
