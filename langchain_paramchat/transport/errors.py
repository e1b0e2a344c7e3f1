"""Map every failure of a request to one package error: the status table and one guard.

The openai SDK raises its own exceptions for statuses and network trouble; the direct send
(``fastpath.py``) and body reads raise httpx2's (or httpx's) instead. ``ErrorMap`` turns all of
them into ``langchain_paramchat.errors`` classes, which are also the matching ``openai``
exceptions, with the key scrubbed from every message.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextOverflowError,
    NotFoundError,
    ParamChatError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFailedError,
    ResponseFormatError,
    ServerError,
    StreamTimeoutError,
    UnprocessableEntityError,
    is_context_overflow,
    response_failed,
)
from langchain_paramchat.secrets import (
    CREDENTIAL_HEADER,
    SNIPPET,
    Scrubber,
    scrub_json,
    snippet,
)
from langchain_paramchat.transport.retry import retry_reason

__all__ = [
    "CREDENTIAL_HEADER",
    "SNIPPET",
    "STATUS_ERRORS",
    "ErrorMap",
    "Scrubber",
    "scrub_json",
    "scrubbed_response",
    "where",
]

STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
"""The package error per HTTP status; other 5xx are ``ServerError``, the rest ``APIStatusError``."""

# A server's own error message is quoted whole up to this many characters (OpenAI's longest
# are a few hundred); a hostile or broken server's megabyte stays out of logs and traces.
MESSAGE_LIMIT = 2000


def where(message: hx.Request | hx.Response) -> str:
    """Return ``METHOD scheme://host/path`` of a request (no user info or query: secrets)."""
    # A response has a request and no method (httpx2's, or a legacy httpx one).
    request = message if hasattr(message, "method") else message.request
    url = request.url
    host = f"[{url.host}]" if ":" in url.host else url.host  # an IPv6 address
    port = f":{url.port}" if url.port is not None else ""
    return f"{request.method} {url.scheme}://{host}{port}{url.path}"


def describe_timeout(timeout: hx.Timeout) -> str:
    """Return a timeout as the error messages show it."""
    return f"{timeout.read} s per read, {timeout.connect} s to connect"


def _httpx_error_types() -> tuple[
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
]:
    """Return the (timeout, read timeout, network) exceptions a request or body read raises."""
    timeouts: list[type[BaseException]] = [hx.TimeoutException]
    read_timeouts: list[type[BaseException]] = [hx.ReadTimeout]
    network: list[type[BaseException]] = [hx.TransportError, ssl.SSLError]
    try:
        import anyio
    except ImportError:  # pragma: no cover - httpx2 depends on anyio
        pass
    else:
        network.append(anyio.EndOfStream)
    # The SDK also accepts a legacy httpx client, whose errors are httpx's own.
    legacy = sys.modules.get("httpx")
    if legacy is not None:
        timeouts.append(legacy.TimeoutException)
        read_timeouts.append(legacy.ReadTimeout)
        network.append(legacy.TransportError)
    return tuple(timeouts), tuple(read_timeouts), tuple(network)


def _decoding_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions raised for a body that does not decode as its content-encoding."""
    errors: list[type[BaseException]] = [hx.DecodingError]
    legacy = sys.modules.get("httpx")
    if legacy is not None:
        errors.append(legacy.DecodingError)
    return tuple(errors)


class _Guard:
    """The one context manager: re-raise SDK and network exceptions as package errors."""

    __slots__ = ("_map", "_stream")

    def __init__(self, error_map: ErrorMap, stream: bool) -> None:
        self._map = error_map
        self._stream = stream

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, ParamChatError):
            return
        mapped = self._map.translate(exc, stream=self._stream)
        if mapped is not None:
            raise mapped from exc


class ErrorMap:
    """Translate failures into package errors for one transport's settings.

    Use ``with error_map.sending:`` (or ``sending_stream`` for a stream) around a request
    sent through the SDK or directly: SDK exceptions and httpx2/httpx network errors become
    package errors raised ``from`` the original. Status errors of the direct send go
    through :meth:`status`.
    """

    def __init__(
        self, scrub: Scrubber, timeout: hx.Timeout, stream_idle_timeout: float | None
    ) -> None:
        self.scrub = scrub
        self.timeout = timeout
        self.stream_idle_timeout = stream_idle_timeout
        self.timeout_errors, self.read_timeout_errors, self.network_errors = _httpx_error_types()
        self.decoding_errors = _decoding_errors()
        self.sending = _Guard(self, stream=False)
        self.sending_stream = _Guard(self, stream=True)

    def translate(self, exc: BaseException, *, stream: bool) -> ParamChatError | None:
        """Return the package error for ``exc``, or None when it is not a request failure."""
        if isinstance(exc, openai.APIError):
            return self.from_sdk(exc, stream=stream)
        if isinstance(exc, self.decoding_errors):
            request = _request_of(exc)
            target = where(request) if request is not None else "the server"
            return ResponseFormatError(
                self.scrub(
                    f"The reply from {target} could not be decoded as its content-encoding "
                    f"header says ({type(exc).__name__}: {exc})"
                )
            )
        if isinstance(exc, self.network_errors):
            request = _request_of(exc)
            if request is None:
                return self._connection_error(None, exc)
            error: openai.APIError
            if isinstance(exc, self.timeout_errors):
                error = openai.APITimeoutError(request=request)
            else:
                error = openai.APIConnectionError(request=request)
            error.__cause__ = exc
            return self.from_sdk(error, stream=stream)
        return None

    def from_sdk(self, exc: openai.APIError, *, stream: bool = False) -> APIError:
        """Translate one SDK exception into the package error that replaces it."""
        if self.scrub.finds(exc.message):
            # The SDK exception becomes __cause__ and would print the key in tracebacks.
            exc.message = self.scrub(exc.message)
            exc.args = (exc.message,)
        if self.scrub.active():
            # LangChain copies an error's response (body and headers) into the run's output
            # that callbacks and tracers get; the SDK's cause carries the body as well.
            exc.body = scrub_json(exc.body, self.scrub)
            if isinstance(exc, openai.APIStatusError) and isinstance(exc.response, hx.Response):
                exc.response = scrubbed_response(exc.response, self.scrub)
        if (
            stream
            and self.stream_idle_timeout is not None
            and isinstance(exc, openai.APITimeoutError)
            and isinstance(exc.__cause__, self.read_timeout_errors)
        ):
            # A stream's read timeout is stream_idle_timeout, also while awaiting headers.
            return self.stall(exc.request)
        err: APIError
        if isinstance(exc, openai.APIStatusError):
            err = self._status_error(exc)
        elif isinstance(exc, openai.APITimeoutError):
            err = APITimeoutError(
                f"The request to {_target(exc.request)} timed out "
                f"(timeout: {describe_timeout(self.timeout)})",
                request=exc.request,
            )
        elif isinstance(exc, openai.APIConnectionError):
            err = self._connection_error(exc.request, exc.__cause__, exc.message)
        elif isinstance(exc, openai.APIResponseValidationError):
            return APIError(self.scrub(exc.message), request=exc.request, body=exc.body)
        else:
            # The SDK raises a bare APIError for an error event inside a stream: the
            # response failed (as a ``response.failed`` event or our own send reports it).
            info = _error_info(exc.body)
            return response_failed(
                self.scrub(exc.message or "The stream reported an error"),
                code=_text_or_none(exc.code) or _text_or_none(info.get("code")),
                error_type=_text_or_none(exc.type) or _text_or_none(info.get("type")),
                request=exc.request if _is_http_message(exc.request) else None,
                body=scrub_json(exc.body, self.scrub),
                param=_text_or_none(info.get("param")),
            )
        err.is_retryable = retry_reason(err) is not None
        return err

    def status(self, client: Any, response: hx.Response, stream: bool) -> APIError:
        """Return the package error for an HTTP error status, with the SDK's as its cause."""
        error = client._make_status_error_from_response(response)
        mapped = self.from_sdk(error, stream=stream)
        mapped.__cause__ = error
        return mapped

    def _connection_error(
        self, request: hx.Request | None, cause: BaseException | None, fallback: str = ""
    ) -> APIConnectionError:
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else fallback
        target = _target(request)
        err = APIConnectionError(self.scrub(f"Could not reach {target}: {detail}"), request=request)
        err.is_retryable = retry_reason(err) is not None
        return err

    def _status_error(self, exc: openai.APIStatusError) -> APIStatusError:
        # Any APIStatusError is read defensively: code raising one by hand (a patched create,
        # LangChain's fallbacks how-to) may give a body in OpenAI's wire form
        # ({"error": {...}}), a string, None, and a response that is no HTTP response.
        status = _status_of(exc)
        body = exc.body
        info = _error_info(body)
        message = info.get("message")
        if not isinstance(message, str) or not message:
            message = self._fallback_message(exc, status)
        message = snippet(message, self.scrub, MESSAGE_LIMIT)
        code = _text_or_none(exc.code) or _text_or_none(info.get("code"))
        error_type = _text_or_none(exc.type) or _text_or_none(info.get("type"))
        # Only a 400 is read for the message's wording ("prompt is too long", ...).
        if is_context_overflow(code, error_type, message if status == 400 else None):
            cls: type[APIStatusError] = ContextOverflowError
        else:
            cls = STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIStatusError)
        response = exc.response if _is_http_message(exc.response) else None
        headers = response.headers if response is not None else None
        return cls(
            self.scrub(message),
            status_code=status,
            headers=headers,
            code=code,
            request_id=_text_or_none(exc.request_id),
            error_type=error_type,
            response=response,
            body=scrub_json(body, self.scrub),
            param=_text_or_none(info.get("param")),
        )

    def _fallback_message(self, exc: openai.APIStatusError, status: int) -> str:
        """Return the message of a status error whose body carries none."""
        body = exc.body
        text = snippet(body.strip(), self.scrub) if isinstance(body, str) else ""
        if not text and isinstance(exc.message, str) and not exc.message.startswith(_SDK_GENERIC):
            return exc.message  # given by whoever raised it
        return f"HTTP {status} from {_target(exc.request)}" + (f": {text}" if text else "")

    def stream_error(
        self, info: Mapping[str, Any], response: hx.Response | None
    ) -> ResponseFailedError:
        """Return the package error for an error the API reported inside a stream.

        ``response`` is the stream's HTTP response, None when the SDK handed the events over.
        """
        message = info.get("message")
        code = info.get("code")
        kind = info.get("type")
        return response_failed(
            snippet(
                message if isinstance(message, str) and message else "The stream reported an error",
                self.scrub,
                MESSAGE_LIMIT,
            ),
            code=str(code) if code is not None else None,
            request_id=response.headers.get("x-request-id") if response is not None else None,
            error_type=kind if isinstance(kind, str) and kind != "error" else None,
            request=response.request if response is not None else None,
            body=scrub_json(dict(info), self.scrub),
            param=_text_or_none(info.get("param")),
        )

    def stall(self, message: hx.Request | hx.Response) -> StreamTimeoutError:
        """Return the error for a stream that stayed silent too long."""
        idle = self.stream_idle_timeout
        setting = (
            f"stream_idle_timeout={idle} s"
            if idle is not None
            else f"the timeout ({describe_timeout(self.timeout)})"
        )
        is_response = isinstance(message, hx.Response)
        return StreamTimeoutError(
            f"The stream from {where(message)} sent no event for longer than {setting}",
            request_id=message.headers.get("x-request-id") if is_response else None,
            request=message.request if isinstance(message, hx.Response) else message,
        )

    def dropped(self, exc: BaseException, response: hx.Response) -> APIConnectionError:
        """Return the error for a connection that broke while a body was being read."""
        err = APIConnectionError(
            self.scrub(
                f"The connection to {where(response)} dropped while streaming "
                f"({type(exc).__name__}: {exc})"
            ),
            request_id=response.headers.get("x-request-id"),
            request=response.request,
        )
        err.is_retryable = retry_reason(err) is not None
        return err


# The message the SDK gives a status error itself ("Error code: 400 - {...}"): a body's
# message, or ours naming the status and URL, says more.
_SDK_GENERIC = "Error code: "

# The status of an SDK status error whose response has none to read (a mock, say): the SDK
# class each package error mirrors (the same names), then the SDK's class for a 500.
_SDK_STATUS: tuple[tuple[type[openai.APIStatusError], int], ...] = (
    *((getattr(openai, error.__name__), status) for status, error in STATUS_ERRORS.items()),
    (openai.InternalServerError, 500),
)


def _status_of(exc: openai.APIStatusError) -> int:
    """Return the HTTP status of ``exc``: its own, else the one its SDK class stands for."""
    status = exc.status_code
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    for sdk_class, code in _SDK_STATUS:
        if isinstance(exc, sdk_class):
            return code
    return 500


def _error_info(body: object) -> Mapping[str, Any]:
    """Return the error object of an SDK error's body: the body, or its ``error`` member.

    The SDK unwraps ``{"error": {...}}`` itself; an error built by hand often keeps it.
    """
    if not isinstance(body, Mapping):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, Mapping) else body


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_http_message(value: object) -> bool:
    """Return True for an httpx2 (or legacy httpx) request or response."""
    if isinstance(value, hx.Request | hx.Response):
        return True
    legacy = sys.modules.get("httpx")
    return legacy is not None and isinstance(value, legacy.Request | legacy.Response)


def _target(request: object) -> str:
    """Return where ``request`` went, or "the server" when it is no HTTP request."""
    return where(request) if _is_http_message(request) else "the server"  # type: ignore[arg-type]


def _request_of(exc: BaseException) -> Any:
    """Return the request an httpx2 (or legacy httpx) error carries, or None."""
    try:
        request = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when it was never set
        return None
    return request if hasattr(request, "url") else None


def scrubbed_response(response: hx.Response, scrub: Scrubber) -> hx.Response:
    """Return ``response``, or a read copy of it with secrets scrubbed from body and headers."""
    try:
        text = response.content.decode("utf-8", "replace")
    except Exception:  # a streamed body not read: nothing of it can be shown
        text = ""
    headers = list(response.headers.items())
    if not scrub.finds(text) and not any(scrub.finds(v) for _, v in headers):
        return response
    kept = [
        (k, scrub(v))
        for k, v in headers
        if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
    ]
    return hx.Response(
        response.status_code,
        headers=kept,
        content=scrub(text).encode(),
        request=response.request,
    )
