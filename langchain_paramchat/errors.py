"""The package's error hierarchy: every error ParamChat raises derives from ParamChatError."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import openai
from langchain_core.exceptions import ContextOverflowError as _CoreContextOverflowError
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

from langchain_paramchat._sdk.http import hx


class ParamChatError(Exception):
    """Base class of every error raised by langchain-paramchat.

    Every subclass pickles as itself, with its message and fields (``status_code``,
    ``code``, ``param``, ``option``, the scrubbed ``body``...), so an error raised in a
    process pool, Ray or Dask worker reaches the parent as the same class. The live HTTP
    ``request``/``response`` stay behind (None in the copy); ``headers`` travel as a dict.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # A class made to be also langchain-openai's (see RefusalError) pickles as ours.
        cls = vars(type(self)).get("_paramchat_class", type(self))
        return (_rebuild, (cls, self.args, _portable(self.__dict__)))


class OptionError(ParamChatError, ValueError):
    """Raise when an option has a bad value; the message names option, value and fix."""

    def __init__(self, option: str, value: Any, allowed: str, *, fix: str | None = None) -> None:
        self.option = option
        self.value = value
        self.allowed = allowed
        shown = _short_repr(value)
        message = f"{option}={shown} is not valid: {allowed}"
        if fix:
            message += f". {fix[:1].upper()}{fix[1:]}"
        super().__init__(message)


def setting_error(exc: Any) -> OptionError:
    """Return an ``OptionError`` for the first problem in a pydantic ``ValidationError``.

    A credential field's value is never repeated in the message.
    """
    problems = exc.errors(include_url=False)
    first = problems[0] if problems else {}
    loc = tuple(str(part) for part in first.get("loc", ())) or ("settings",)
    secret = any(word in loc[0].lower() for word in ("key", "secret", "token", "header", "auth"))
    value = "**********" if secret else first.get("input")
    return OptionError(".".join(loc), value, str(first.get("msg", "a value of its declared type")))


class KeyProviderError(ParamChatError, ValueError):
    """Raise when a callable ``api_key`` cannot give a key for this call (nothing is sent).

    An async-only provider on a sync call (the message is ChatOpenAI's), or a provider that
    returned something other than a key; the key itself is never in the message.
    """


class UnknownOptionError(ParamChatError, TypeError):
    """Raise when a keyword is not an option ParamChat knows."""

    def __init__(self, name: str, suggestion: str | None) -> None:
        self.option = name
        self.suggestion = suggestion
        hint = f" Did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(
            f"{name!r} is not a ParamChat option.{hint} "
            "To send a parameter ParamChat does not know, pass it inside extra_body={...}."
        )


class IncompatibleOptionsError(ParamChatError, ValueError):
    """Raise when the options in play need two different APIs, or an API that cannot carry one."""


class MessageConversionError(ParamChatError, ValueError):
    """Raise when a message or content block cannot be sent to the chosen API."""


class ToolSchemaError(ParamChatError, ValueError):
    """Raise when a tool or output schema cannot be compiled (e.g. to strict mode)."""

    def __init__(self, message: str, *, path: str = "$") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ResponseFormatError(ParamChatError, ValueError):
    """Raise when the API's reply cannot be read (malformed JSON, missing fields, bad SSE)."""


class StructuredOutputError(ParamChatError, ValueError):
    """Raise when structured output was refused, cut short, or does not parse."""


class RefusalError(StructuredOutputError, ModelRefusalError):
    """Raise when the model refused to produce the requested structured output.

    Also langchain-core's ``ModelRefusalError`` (as ChatOpenAI's refusal error is): the
    message is the model's refusal text, ``raw_message`` the reply that carried it. When
    langchain-openai is imported in the process, also its ``OpenAIRefusalError``, so code
    written for ChatOpenAI (``except OpenAIRefusalError``) keeps catching it.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return super().__new__(_also_chatopenais(cls), *args, **kwargs)

    def __init__(self, refusal: str, *, raw_message: Any = None) -> None:
        self.refusal = refusal
        self.raw_message = raw_message
        super().__init__(refusal or "The model refused to produce the requested output")


class ContentFilterError(RefusalError):
    """Raise when structured output was stopped by a content filter (``content_filter``).

    ``refusal`` is empty: the filter, not the model, withheld the answer.
    """

    def __init__(
        self,
        message: str = "Model output was stopped by a content filter",
        *,
        raw_message: Any = None,
    ) -> None:
        super().__init__(message, raw_message=raw_message)
        self.refusal = ""


# langchain-openai's refusal error class (module, name): ChatOpenAI raises it, so code
# written for ChatOpenAI catches it. Read only if that module is already imported.
_CHATOPENAI_REFUSAL = ("langchain_openai.chat_models.base", "OpenAIRefusalError")
_ALSO_CHATOPENAIS: dict[type, type] = {}


def _also_chatopenais(cls: type[RefusalError]) -> type[RefusalError]:
    """Return ``cls``, or its subclass that is also langchain-openai's ``OpenAIRefusalError``.

    Only while langchain-openai is imported (code that catches its class has imported it);
    ParamChat never imports it. The subclass has ``cls``'s name and pickles as ``cls``.
    """
    module = sys.modules.get(_CHATOPENAI_REFUSAL[0])
    theirs = getattr(module, _CHATOPENAI_REFUSAL[1], None)
    if not isinstance(theirs, type) or not issubclass(theirs, Exception):
        return cls
    if issubclass(cls, theirs):
        return cls
    both = _ALSO_CHATOPENAIS.get(cls)
    if both is None or not issubclass(both, theirs):  # none yet, or langchain-openai reloaded
        namespace = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_paramchat_class": cls,
        }
        try:
            both = type(cls.__name__, (cls, theirs), namespace)
        except TypeError:  # a future class whose bases cannot be combined with ours
            return cls
        _ALSO_CHATOPENAIS[cls] = both
    return both


class LengthLimitError(StructuredOutputError):
    """Raise when structured output was cut off by the token limit."""


class APIError(ParamChatError, openai.APIError):
    """Raise for an error reported by the API; the SDK's exception is the ``__cause__``.

    Also an ``openai.APIError`` (and each subclass the matching ``openai`` exception), so
    code written for the SDK or ChatOpenAI (``except openai.RateLimitError``,
    ``with_fallbacks(exceptions_to_handle=...)``) catches ParamChat's errors unchanged. The
    SDK's attributes are filled too: ``message``, ``request``, ``body``, ``code``, ``param``,
    ``type`` (the same as ``error_type``).
    """

    # int or None; Any so the SDK's subclasses (``status_code: Literal[429]``) agree with it.
    status_code: Any

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        request: hx.Request | None = None,
        body: object | None = None,
        param: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.error_type = error_type
        self.type = error_type
        self.param = param
        self.body = body
        # openai.APIError declares ``request`` non-optional; a stream error may have none.
        self.request = request  # type: ignore[assignment]
        parts = [message]
        details = []
        if status_code is not None:
            details.append(f"status {status_code}")
        if code and not message.startswith(f"{code}: "):
            details.append(f"code {code}")
        if request_id:
            details.append(f"request id {request_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        self.message = " ".join(parts)
        # openai.APIError.__init__ wants an httpx2 request and body; its fields are set above.
        Exception.__init__(self, self.message)


class StreamInterruptedError(APIError):
    """Raise when a stream fails after output was already yielded; carries what arrived."""

    def __init__(self, message: str, *, received: Any = None, **kwargs: Any) -> None:
        self.received = received
        super().__init__(message, **kwargs)


class ResponseFailedError(APIError, ValueError):
    """Raise when the API reports that a response failed, rather than an HTTP error status.

    That is a ``response.failed`` or ``error`` stream event, an error chunk in a Chat
    Completions stream, or a Responses reply with ``status: "failed"``. Also a
    ``ValueError``, which is what ChatOpenAI raises for these.
    """


class FailedContextOverflowError(ResponseFailedError, _CoreContextOverflowError):
    """Raise when a response failed because its input exceeds the context window.

    Also langchain-core's ``ContextOverflowError``, as the HTTP 400 form
    (``ContextOverflowError``) is; OpenAI reports it this way on Responses streams.
    """


class StreamFailedError(StreamInterruptedError, ResponseFailedError):
    """Raise when the API reports a failure after output was yielded; carries what arrived."""


# How OpenAI (and servers that copy it) say the input does not fit: a code or error type,
# or one of these phrases in the message.
_OVERFLOW_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})
_OVERFLOW_PHRASES = (
    "context_length_exceeded",
    "context window",
    "contextwindowexceedederror",
    "prompt is too long",
    "maximum context length",
    "input tokens exceed the configured limit",
)


def is_context_overflow(code: object, error_type: object, message: object) -> bool:
    """Return True when an API error's code, type or message says the input is too long."""
    if code in _OVERFLOW_CODES or error_type in _OVERFLOW_CODES:
        return True
    text = str(message or "").lower()
    return any(phrase in text for phrase in _OVERFLOW_PHRASES)


def response_failed(
    message: str, *, code: str | None = None, error_type: str | None = None, **kwargs: Any
) -> ResponseFailedError:
    """Return the error for a response the API reports as failed (see ``ResponseFailedError``).

    ``FailedContextOverflowError`` when the input did not fit the context window. The
    message reads ``"<code>: <message>"`` when there is a code, as ChatOpenAI's does.
    """
    cls = (
        FailedContextOverflowError
        if is_context_overflow(code, error_type, message)
        else ResponseFailedError
    )
    if code and not message.startswith(f"{code}: "):
        message = f"{code}: {message}"
    return cls(message, code=code, error_type=error_type, **kwargs)


class StreamTimeoutError(APIError, TimeoutError, openai.APITimeoutError):
    """Raise when a stream sends nothing for longer than the idle timeout."""


# HTTP and connection errors. transport/errors.py maps the openai SDK's exceptions to
# these; each also derives from langchain-core's matching ModelError, so LangChain's retry
# and summarization middleware recognise them. ``is_retryable`` is set per instance from
# retry.py's rules.


class APIStatusError(APIError, ModelError, openai.APIStatusError):
    """Raise for an HTTP error status; ``headers`` are the response headers (for Retry-After).

    ``response`` is the HTTP response (as on ``openai.APIStatusError``) when there was one.
    """

    is_retryable: bool

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        response: hx.Response | None = None,
        body: object | None = None,
        param: str | None = None,
    ) -> None:
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.response = response  # type: ignore[assignment]
        super().__init__(
            message,
            status_code=status_code,
            code=code,
            request_id=request_id,
            error_type=error_type,
            request=response.request if response is not None else None,
            body=body,
            param=param,
        )


class BadRequestError(APIStatusError, ModelInvalidRequestError, openai.BadRequestError):
    """Raise when the API rejects the request as invalid (400, and 422 as a subclass)."""


class ContextOverflowError(BadRequestError, _CoreContextOverflowError):
    """Raise when the input exceeds the context window (code ``context_length_exceeded``)."""


class UnprocessableEntityError(BadRequestError, openai.UnprocessableEntityError):
    """Raise on 422: a ``BadRequestError`` here, ``openai.UnprocessableEntityError`` for the SDK."""


class AuthenticationError(APIStatusError, ModelAuthenticationError, openai.AuthenticationError):
    """Raise when the API key is missing, wrong or revoked (401)."""


class PermissionDeniedError(
    APIStatusError, ModelPermissionDeniedError, openai.PermissionDeniedError
):
    """Raise when the key may not use the model or endpoint (403)."""


class NotFoundError(APIStatusError, ModelNotFoundError, openai.NotFoundError):
    """Raise when the model, endpoint or stored object does not exist (404)."""


class ConflictError(APIStatusError, ModelAPIError, openai.ConflictError):
    """Raise on 409 (a lock or state conflict on the server; retried)."""


class RateLimitError(APIStatusError, ModelRateLimitError, openai.RateLimitError):
    """Raise on 429; ``code == "insufficient_quota"`` is a billing limit and never retries."""


class ServerError(APIStatusError, ModelAPIError, openai.InternalServerError):
    """Raise when the API reports a server-side failure (5xx)."""


class APIConnectionError(APIError, ModelConnectionError, openai.APIConnectionError):
    """Raise when the API cannot be reached or the connection drops before any output."""

    is_retryable: bool


class APITimeoutError(APIConnectionError, ModelTimeoutError, TimeoutError, openai.APITimeoutError):
    """Raise when a request exceeds the ``timeout`` setting."""


class DeadlineExceededError(APITimeoutError):
    """Raise when a call runs past ``total_timeout``; never retried (the time is used up)."""


class StreamStalledError(StreamInterruptedError, StreamTimeoutError):
    """Raise when a stream goes silent past ``stream_idle_timeout`` after output was yielded."""


class LocalModelError(ParamChatError, RuntimeError):
    """Raise when the local llama.cpp model cannot run: extra missing, bad model file, no server."""


def _short_repr(value: Any, limit: int = 120) -> str:
    try:
        text = repr(value)
    except RecursionError:  # a value nested thousands of levels deep
        text = f"<{type(value).__name__} nested too deeply to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Live objects of the HTTP library: they hold sockets and cannot cross a process boundary.
_LEFT_BEHIND = frozenset({"request", "response"})


def _portable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return an error's fields as they can be pickled: live HTTP objects dropped."""
    import pickle

    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _LEFT_BEHIND:
            out[name] = None
            continue
        if name == "headers" and isinstance(value, Mapping):
            value = {str(k): str(v) for k, v in value.items()}
        try:
            pickle.dumps(value)
        except Exception:  # e.g. a lambda given as an option value: keep what it looked like
            value = _short_repr(value)
        out[name] = value
    return out


def _rebuild(cls: type[ParamChatError], args: tuple[Any, ...], fields: dict[str, Any]) -> Any:
    """Return an error of class ``cls`` with ``args`` and ``fields``, without ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(fields)
    return error
