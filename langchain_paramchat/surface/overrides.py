"""The override points ChatOpenAI subclasses use: the request body and the reply's result.

Also the two bits of LangChain plumbing ChatOpenAI code expects: ``configurable_fields``
taking ChatOpenAI's names, and this package's version in ``metadata["lc_versions"]``.

Provider integrations subclass ChatOpenAI to change what is sent or what comes back; a
``ParamChat`` subclass does the same with these two methods (and may declare its own pydantic
fields). ``_get_request_payload`` returns the exact body a call sends, and is the one place to
change it: every invoke, stream, batch line preview and ``preview_request`` sends what it
returns. ``_create_chat_result`` turns a reply body into the ``ChatResult`` invoke returns.
Calls on ``ParamChat`` itself skip both lookups' extra work (one class attribute check).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.outputs import ChatResult

from langchain_paramchat import transport
from langchain_paramchat.call.reply_fields import GATEWAY_INFO_KEY, gateway_info
from langchain_paramchat.compat.gateway import is_gateway_key
from langchain_paramchat.compat.translate import FIELD_NAMES
from langchain_paramchat.errors import OptionError, ResponseFormatError
from langchain_paramchat.options import OPTIONS
from langchain_paramchat.surface.sdk_objects import copy_sdk_objects

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_paramchat.call.prepared import Prepared

__all__ = ["Overridable"]

_SHOWN = 200  # characters of an unreadable reply shown in the error


@cache
def _version() -> str:
    try:
        return version("langchain-paramchat")
    except PackageNotFoundError:  # run from a source tree
        return "0+unknown"


def _sdk_parsed(response: Any) -> list[Any]:
    """Return the objects the SDK's ``parse()`` put on a reply, one per choice (or None).

    A ``ParsedChatCompletion`` has them on each choice's message, a ``ParsedResponse`` as
    ``output_parsed``; the reply's JSON holds only a dump of them, so they are read here.
    """
    choices = getattr(response, "choices", None)
    if isinstance(choices, list):
        return [getattr(getattr(choice, "message", None), "parsed", None) for choice in choices]
    return [getattr(response, "output_parsed", None)]


# The call whose reply ``_create_chat_result`` is finishing, for the default implementation.
_CALL: ContextVar[Prepared | None] = ContextVar("paramchat_call", default=None)


class Overridable:
    """ChatOpenAI's ``_get_request_payload`` and ``_create_chat_result``, for subclasses."""

    if TYPE_CHECKING:
        include_response_headers: bool
        api_key: Any

        def _prepare(
            self,
            messages: Sequence[BaseMessage],
            stop: list[str] | str | None,
            kwargs: Mapping[str, Any],
            *,
            stream: bool,
        ) -> Prepared: ...

        def _convert_input(self, input: LanguageModelInput) -> Any: ...

        def _cache_options(self) -> None: ...

    def configurable_fields(self, **kwargs: Any) -> Any:
        """Make fields configurable at run time; ChatOpenAI's names (``model_name``) work too."""
        return super().configurable_fields(  # type: ignore[misc]
            **{FIELD_NAMES.get(key, key): field for key, field in kwargs.items()}
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        """Return a copy; ``update`` takes ChatOpenAI's names too and is checked like options.

        ``use_responses_api`` sets ``api`` (None: ``"auto"``), ``model_name`` sets ``model``
        and so on; a changed option is checked (``OptionError``) and used by every call of the
        copy, and a changed client setting (``api_key``, ``base_url``...) is checked as the
        constructor checks it and gives the copy a transport of its own. SDK objects you gave
        the original (``client=...``) are the copy's too; replacing one on the copy leaves
        the original alone.
        """
        update = _field_updates(update) if update else update
        if update and not OPTIONS.keys() >= update.keys():
            # A client setting (key, base_url, timeout, headers...) or an unknown name: build
            # the copy as the constructor does. Pydantic's copy checks nothing and keeps the
            # original's transport: a new api_key or base_url was shown in clear in the repr
            # and never used (the copy sent the original's key to the original's URL).
            given = self.model_fields_set - update.keys()  # type: ignore[attr-defined]
            kept = {name: getattr(self, name) for name in given}
            copied = type(self)(**kept, **update)
        else:
            copied = super().model_copy(update=update, deep=deep)  # type: ignore[misc]
            if update:
                copied._cache_options()
        copy_sdk_objects(self, copied)
        return copied

    def _record_version(self) -> None:
        """Add this package's version to ``metadata["lc_versions"]``, for tracing."""
        if hasattr(self, "_add_version"):  # langchain-core >= 1.7
            self._add_version("langchain-paramchat", _version())

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Return the exact body a call with these arguments sends (``stream=True``: a stream's).

        Override it in a subclass to change the body (call ``super()`` first); every call
        sends what it returns.
        """
        messages = self._convert_input(input_).to_messages()
        stream = bool(kwargs.pop("stream", False))
        return self._prepare(messages, stop, kwargs, stream=stream).payload

    def _create_chat_result(
        self, response: Any, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        """Return the ``ChatResult`` for a reply (a JSON dict or an openai SDK object).

        Override it in a subclass to change the result (call ``super()`` first). Outside a
        call (a reply you hold), the API is read from the reply itself. Raises
        ``ResponseFormatError`` (a ``ValueError``) for anything but a reply object.
        """
        body = transport.as_json(response)
        if not isinstance(body, dict):
            text = str(response)
            shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
            raise ResponseFormatError(
                f"expected a reply object (a JSON dict or an openai SDK model), got "
                f"{type(response).__name__}: {shown}"
            )
        prepared = _CALL.get()
        if prepared is None:
            api = "responses" if body.get("object") == "response" else "chat_completions"
            prepared = self._prepare([HumanMessage(".")], None, {"api": api}, stream=False)
        headers = (generation_info or {}).get("headers")
        result = prepared.result(body, headers)
        for generation, parsed in zip(result.generations, _sdk_parsed(response), strict=False):
            if parsed is not None:
                generation.message.additional_kwargs["parsed"] = parsed
        return result

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """Return ``generate``'s ``llm_output``: summed ``token_usage``, as ChatOpenAI's."""
        usage: dict[str, Any] = {}
        combined: dict[str, Any] = {}
        for output in llm_outputs:
            if not output:
                continue
            for key, value in (output.get("token_usage") or {}).items():
                if isinstance(value, int) and isinstance(usage.get(key, 0), int):
                    usage[key] = usage.get(key, 0) + value
                elif key not in usage:
                    usage[key] = value
            for key in ("model_name", "system_fingerprint", "id"):
                if output.get(key) is not None and key not in combined:
                    combined[key] = output[key]
        return {"token_usage": usage, **combined}

    def _prepare_call(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | str | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool,
    ) -> Prepared:
        """Prepare a call; a subclass's ``_get_request_payload`` decides the body."""
        prepared = self._prepare(messages, stop, kwargs, stream=stream)
        if type(self)._get_request_payload is Overridable._get_request_payload:
            return prepared
        extra = {"stream": True} if stream else {}
        payload = self._get_request_payload(messages, stop=stop, **kwargs, **extra)  # type: ignore[arg-type]
        return dataclasses.replace(prepared, payload=payload)

    def _finish_reply(self, prepared: Prepared, body: dict[str, Any], headers: Any) -> ChatResult:
        """Return the call's result; a subclass's ``_create_chat_result`` decides it.

        ``headers`` are the reply's: shown with ``include_response_headers``, and read for a
        LangSmith gateway's metadata (for tracers, in ``generation_info``) either way.
        """
        shown = headers if self.include_response_headers else None
        if type(self)._create_chat_result is Overridable._create_chat_result:
            result = prepared.result(body, shown)
        else:
            token = _CALL.set(prepared)
            try:
                result = self._create_chat_result(body, {"headers": shown} if shown else None)
            finally:
                _CALL.reset(token)
        # Our transport's headers are the HTTP library's (a lookup there costs microseconds):
        # read them when the key says gateway; an SDK object's or a socket's are a dict.
        read = isinstance(headers, dict) or shown is not None or is_gateway_key(self.api_key)
        info = gateway_info(headers) if read else None
        if info is not None:
            for generation in result.generations:
                generation.generation_info = {
                    **(generation.generation_info or {}),
                    GATEWAY_INFO_KEY: info,
                }
        return result


_API_OF_FLAG = {True: "responses", False: "chat_completions", None: "auto"}


def _field_updates(update: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``model_copy`` updates with ChatOpenAI's attribute names as ParamChat's fields."""
    out = {FIELD_NAMES.get(key, key): value for key, value in update.items()}
    if "use_responses_api" in out:
        flag = out.pop("use_responses_api")
        if flag not in _API_OF_FLAG:
            raise OptionError("use_responses_api", flag, "must be True, False or None")
        api = _API_OF_FLAG[flag]
        if out.get("api", api) != api:
            raise OptionError(
                "use_responses_api", flag, f"disagrees with api={out['api']!r}", fix="pass only api"
            )
        out["api"] = api
    return out
