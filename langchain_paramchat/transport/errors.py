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
    request = message if isinstance(message, hx.Request) else message.request
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
        if self.scrub.secrets:
            # LangChain copies an error's response (body and headers) into the run's output
            # that callbacks and tracers get; the SDK's cause carries the body as well.
            exc.body = scrub_json(exc.body, self.scrub)
            if isinstance(exc, openai.APIStatusError):
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
                f"The request to {where(exc.request)} timed out "
                f"(timeout: {describe_timeout(self.timeout)})",
                request=exc.request,
            )
        elif isinstance(exc, openai.APIConnectionError):
            err = self._connection_error(exc.request, exc.__cause__, exc.message)
        else:
            return APIError(self.scrub(exc.message), request=exc.request, body=exc.body)
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
        target = where(request) if request is not None else "the server"
        err = APIConnectionError(self.scrub(f"Could not reach {target}: {detail}"), request=request)
        err.is_retryable = retry_reason(err) is not None
        return err

    def _status_error(self, exc: openai.APIStatusError) -> APIStatusError:
        status = exc.status_code
        body = exc.body
        info: Mapping[str, Any] = body if isinstance(body, dict) else {}
        message = info.get("message")
        if not isinstance(message, str) or not message:
            text = snippet(body.strip(), self.scrub) if isinstance(body, str) else ""
            message = f"HTTP {status} from {where(exc.request)}" + (f": {text}" if text else "")
        message = snippet(message, self.scrub, MESSAGE_LIMIT)
        code = exc.code
        # Only a 400 is read for the message's wording ("prompt is too long", ...).
        if is_context_overflow(code, exc.type, message if status == 400 else None):
            cls: type[APIStatusError] = ContextOverflowError
        else:
            cls = STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIStatusError)
        param = info.get("param")
        return cls(
            self.scrub(message),
            status_code=status,
            headers=exc.response.headers,
            code=code,
            request_id=exc.request_id,
            error_type=exc.type,
            response=exc.response,
            body=scrub_json(body, self.scrub),
            param=param if isinstance(param, str) else None,
        )

    def stream_error(self, info: Mapping[str, Any], response: hx.Response) -> ResponseFailedError:
        """Return the package error for an error the API reported inside a stream."""
        message = info.get("message")
        code = info.get("code")
        kind = info.get("type")
        param = info.get("param")
        return response_failed(
            snippet(
                message if isinstance(message, str) and message else "The stream reported an error",
                self.scrub,
                MESSAGE_LIMIT,
            ),
            code=str(code) if code is not None else None,
            request_id=response.headers.get("x-request-id"),
            error_type=kind if isinstance(kind, str) and kind != "error" else None,
            request=response.request,
            body=scrub_json(dict(info), self.scrub),
            param=param if isinstance(param, str) else None,
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
