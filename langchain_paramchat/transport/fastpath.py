"""The direct-send fast path: everything that leans on the openai SDK's and httpx2's privates.

The SDK still decides auth, base URL, default headers and query (``_build_request`` is asked
once per client and path); what is skipped is rebuilding them, and the SDK's request-options
model, on every call, which costs more than sending the request. Every function here falls
back to the public path (the SDK's generic ``post``, or closing a response) when a private
detail is missing, so an SDK or httpx2 upgrade can only make a call slower, never wrong.
"""

from __future__ import annotations

import asyncio
import json
import math
import select
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import openai
from openai._models import FinalRequestOptions

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import OptionError

__all__ = [
    "RETRY_COUNT_HEADER",
    "Template",
    "adrain_or_close",
    "build_template",
    "direct_request",
    "drain_or_close",
    "encode",
    "pool_is_full",
]

Template = tuple[hx.URL, hx.Headers]
"""The URL and headers the SDK sends for one ``POST path`` of one client."""

RETRY_COUNT_HEADER = "x-stainless-retry-count"
# Headers the SDK computes per request (httpx sets length and host itself).
_PER_REQUEST_HEADERS = frozenset({"content-length", "host", "x-stainless-read-timeout"})
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# After a stream's terminal event: how long to wait for the body's end, and how many reads.
_LINGER = 0.05
_DRAIN_READS = 8


def encode(body: Mapping[str, Any]) -> bytes:
    """Return ``body`` as compact UTF-8 JSON, or raise ``OptionError`` naming the bad value.

    Standard JSON only: NaN, infinities, non-string keys, lone surrogates and values JSON
    cannot hold (sets, bytes, objects) are refused before anything is sent.
    """
    try:
        return _ENCODER.encode(body).encode()
    except (ValueError, TypeError, RecursionError) as exc:
        path, value, why = _first_non_json(body, "body")
        raise OptionError(
            path, value, why, fix="send standard JSON only (extra_body, schemas and tools too)"
        ) from exc


def _first_non_json(value: Any, path: str, depth: int = 0) -> tuple[str, Any, str]:
    """Return (path, value, why) of the first part of ``value`` that is not standard JSON."""
    if depth > 200:
        return path, "...", "JSON nested at most 200 levels deep"
    if isinstance(value, float) and not math.isfinite(value):
        return path, value, "a finite number (JSON has no NaN or Infinity)"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, value, "text without lone surrogates (not valid UTF-8)"
        return "", None, ""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}[{key!r}]", key, "a string key"
            found = _first_non_json(item, f"{path}.{key}", depth + 1)
            if found[0]:
                return found
        return "", None, ""
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _first_non_json(item, f"{path}[{i}]", depth + 1)
            if found[0]:
                return found
        return "", None, ""
    if value is None or isinstance(value, bool | int | float):
        return "", None, ""
    return path, value, f"a JSON value, not {type(value).__name__}"


def build_template(client: openai.OpenAI | openai.AsyncOpenAI, path: str) -> Template | None:
    """Return the URL and headers the SDK builds for ``POST path``, or None to use ``post``.

    None when its HTTP client is a legacy ``httpx`` one, or the SDK lacks the private API this
    relies on. A client whose ``api_key`` is a function gets a template without
    ``Authorization``: each request adds its own key (``direct_request``).
    """
    if not (
        isinstance(getattr(client, "api_key", None), str)
        and hasattr(client, "_make_status_error_from_response")
        # A legacy httpx client takes httpx's own Timeout: the SDK's path converts for it.
        and isinstance(getattr(client, "_client", None), hx.Client | hx.AsyncClient)
    ):
        return None
    per_request = _PER_REQUEST_HEADERS
    given: dict[str, str] = {}
    if getattr(client, "_api_key_provider", None) is not None and not any(
        name.lower() == "authorization" for name in client.default_headers
    ):
        # The SDK asks the key function in a step this path skips: stand in for its key.
        per_request = per_request | {"authorization"}
        given = {"Authorization": "Bearer per-request"}
    try:
        options = FinalRequestOptions.construct(
            method="post", url=path, json_data={}, headers=given
        )
        built = client._build_request(options)
    except Exception:  # an SDK without this private API: keep the generic path
        return None
    headers = hx.Headers({k: v for k, v in built.headers.items() if k.lower() not in per_request})
    # Parsed once: httpx would re-parse a str URL and re-normalise a dict per call.
    return built.url, headers


def direct_request(
    http: Any,
    template: Template,
    body: Mapping[str, Any],
    timeout: hx.Timeout,
    retry_count: int,
    key: str | None = None,
) -> hx.Request:
    """Build the request the SDK would send for ``body``, ready for ``http.send``.

    ``key`` is this request's API key from a key function (the template has none then).
    """
    url, headers = template
    if retry_count or key is not None:
        headers = headers.copy()
        if retry_count:
            headers[RETRY_COUNT_HEADER] = str(retry_count)
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
    request: hx.Request = http.build_request(
        "POST", url, content=encode(body), headers=headers, timeout=timeout
    )
    return request


def _h11_connection(response: hx.Response) -> Any:
    """Return the httpcore HTTP/1.1 connection a streamed response reads from, or None."""
    node: Any = response.stream
    for _ in range(6):
        if hasattr(node, "_h11_state"):
            return node
        node = (
            getattr(node, "_stream", None)
            or getattr(node, "_httpcore_stream", None)
            or getattr(node, "_connection", None)
        )
        if node is None:
            return None
    return None


def _end_is_buffered(connection: Any) -> bool:
    """Return True when the next body read can complete from bytes already received.

    h11 hands out a chunk's data before the CRLF that closes it, so that CRLF alone proves
    nothing; what counts is a complete next chunk header (with data), or the last chunk.
    """
    state = connection._h11_state
    # h11's states are sentinel classes; DONE means the body's end was already parsed.
    if state.their_state.__name__ == "DONE":
        return True
    # A Content-Length body whose last byte has arrived ends without another byte to read.
    if getattr(getattr(state, "_reader", None), "_remaining", None) == 0:
        return True
    rest = state.trailing_data[0]
    if rest.startswith(b"\r\n"):
        rest = rest[2:]
    size, found, data = rest.partition(b"\r\n")
    if not found:
        return False
    if size.split(b";")[0].strip().lstrip(b"0") == b"":  # the last chunk, then trailers
        return data.startswith(b"\r\n") or b"\r\n\r\n" in data
    return bool(data)


def _arrives_soon(connection: Any) -> bool:
    """Return True when more bytes are readable now or within a short linger."""
    stream = connection._network_stream
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is not None and ssl_object.pending():
        return True
    sock = stream.get_extra_info("socket")
    return bool(select.select([sock], [], [], _LINGER)[0])


def drain_or_close(response: hx.Response, chunks: Iterator[bytes]) -> None:
    """Read the body's end after a terminal event if it is arriving; otherwise close.

    A server that sends its last chunk right after the terminal event (as OpenAI does) gets
    its connection back in the pool. One that keeps the connection open (silent, or with
    keep-alive comments) is cut off after a few short waits, so the caller returns at once.
    """
    try:
        connection = _h11_connection(response)
        for _ in range(_DRAIN_READS if connection is not None else 0):
            if not (_end_is_buffered(connection) or _arrives_soon(connection)):
                break
            try:
                next(chunks)
            except StopIteration:
                return
    except Exception:  # a private detail changed, or the read failed: just close
        pass
    response.close()


async def adrain_or_close(response: hx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Async twin of :func:`drain_or_close`."""
    try:
        for _ in range(_DRAIN_READS):
            async with asyncio.timeout(_LINGER):
                try:
                    await anext(chunks)
                except StopAsyncIteration:
                    return
    except Exception:  # the wait ran out or the read failed: just close
        pass
    await response.aclose()


def pool_is_full(http: Any) -> bool:
    """Return True when a request sent now on ``http`` would have to open a new connection.

    In-flight requests at least as many as pooled connections means no idle one is left
    (an estimate from two list lengths, so it costs nothing). False when unknown.
    """
    try:
        pool = http._transport._pool
        return len(pool._requests) >= len(pool._connections)
    except AttributeError:
        return False


def release_sockets(client: openai.AsyncOpenAI) -> None:
    """Close the sockets of an async client whose event loop is gone (it cannot be awaited)."""
    try:
        transport: Any = client._client._transport
        connections = list(transport._pool._connections)
    except AttributeError:
        return
    for pooled in connections:
        try:
            sock = pooled._connection._network_stream.get_extra_info("socket")
            # asyncio hands out a TransportSocket view whose close() does nothing.
            getattr(sock, "_sock", sock).close()
        except Exception:  # best effort: the garbage collector closes the rest
            continue
