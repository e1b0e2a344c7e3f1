"""The Files and Batches calls a bulk job makes, through the model's transport, sync and async.

SDK errors become the package's errors (the transport's own mapping) and go through the
model's retry policy; a 404/405 on the Files API means the server has no Batch API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import openai

from langchain_paramchat.batch.errors import BatchUnsupportedError
from langchain_paramchat.errors import APIStatusError
from langchain_paramchat.transport.retry import capped_retry_after

if TYPE_CHECKING:
    from langchain_paramchat.transport.protocol import ModelTransport

__all__ = ["Remote", "Snapshot"]

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """One retrieved batch object and the server's ``Retry-After`` (seconds), if it sent one."""

    batch: dict[str, Any]
    retry_after: float | None


class Remote:
    """Call Files and Batches for one transport; every method has an async twin."""

    def __init__(self, transport: ModelTransport) -> None:
        self._transport = transport

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _mapped(self, what: str) -> Iterator[None]:
        try:
            yield
        except openai.APIError as exc:
            error = self._transport.map_error(exc)
            raise _unsupported(error, what) or error from exc

    def _call(self, what: str, fn: Callable[[openai.OpenAI], T]) -> T:
        def attempt() -> T:
            with self._mapped(what):
                return fn(self._transport.client)

        result: T = self._transport.settings.retry.call(attempt)
        return result

    async def _acall(self, what: str, fn: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
        async def attempt() -> T:
            with self._mapped(what):
                return await fn(self._transport.async_client)

        result: T = await self._transport.settings.retry.acall(attempt)
        return result

    # --- files ----------------------------------------------------------------------------

    def upload(self, path: str, name: str) -> str:
        """Upload a JSONL file with purpose ``batch``; return its file id."""

        def send(client: openai.OpenAI) -> str:
            with open(path, "rb") as handle:
                return client.files.create(file=(name, handle), purpose="batch").id

        return self._call("upload", send)

    async def aupload(self, path: str, name: str) -> str:
        """Async twin of :meth:`upload`."""

        async def send(client: openai.AsyncOpenAI) -> str:
            with open(path, "rb") as handle:
                return (await client.files.create(file=(name, handle), purpose="batch")).id

        return await self._acall("upload", send)

    def each_line(self, file_id: str, handle: Callable[[str], object]) -> None:
        """Stream a file and call ``handle`` on each line (the whole file is never held)."""

        def read(client: openai.OpenAI) -> None:
            with client.files.with_streaming_response.content(file_id) as response:
                for line in response.iter_lines():
                    handle(line)

        self._call("download", read)

    async def aeach_line(self, file_id: str, handle: Callable[[str], object]) -> None:
        """Async twin of :meth:`each_line`."""

        async def read(client: openai.AsyncOpenAI) -> None:
            async with client.files.with_streaming_response.content(file_id) as response:
                async for line in response.iter_lines():
                    handle(line)

        await self._acall("download", read)

    def content(self, file_id: str) -> bytes:
        """Return a file's content."""
        return self._call("download", lambda c: c.files.content(file_id).content)

    async def acontent(self, file_id: str) -> bytes:
        """Async twin of :meth:`content`."""

        async def read(client: openai.AsyncOpenAI) -> bytes:
            return (await client.files.content(file_id)).content

        return await self._acall("download", read)

    # --- batches --------------------------------------------------------------------------

    def create(
        self, file_id: str, endpoint: str, metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        """Create a batch over an uploaded file; return the batch object."""
        return self._call(
            "create",
            lambda c: c.batches.create(
                input_file_id=file_id,
                endpoint=endpoint,  # type: ignore[arg-type]
                completion_window="24h",
                metadata=metadata,
            ).model_dump(warnings=False),
        )

    async def acreate(
        self, file_id: str, endpoint: str, metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        """Async twin of :meth:`create`."""

        async def send(client: openai.AsyncOpenAI) -> dict[str, Any]:
            batch = await client.batches.create(
                input_file_id=file_id,
                endpoint=endpoint,  # type: ignore[arg-type]
                completion_window="24h",
                metadata=metadata,
            )
            return batch.model_dump(warnings=False)

        return await self._acall("create", send)

    def retrieve(self, batch_id: str) -> Snapshot:
        """Return a batch's current state and the server's Retry-After."""

        def get(client: openai.OpenAI) -> Snapshot:
            raw = client.batches.with_raw_response.retrieve(batch_id)
            return Snapshot(raw.parse().model_dump(warnings=False), _retry_after(raw.headers))

        return self._call("retrieve", get)

    async def aretrieve(self, batch_id: str) -> Snapshot:
        """Async twin of :meth:`retrieve`."""

        async def get(client: openai.AsyncOpenAI) -> Snapshot:
            raw = await client.batches.with_raw_response.retrieve(batch_id)
            return Snapshot(raw.parse().model_dump(warnings=False), _retry_after(raw.headers))

        return await self._acall("retrieve", get)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        """Ask OpenAI to cancel a batch; return the batch object (``cancelling``)."""
        return self._call("cancel", lambda c: c.batches.cancel(batch_id).model_dump(warnings=False))

    async def acancel(self, batch_id: str) -> dict[str, Any]:
        """Async twin of :meth:`cancel`."""

        async def send(client: openai.AsyncOpenAI) -> dict[str, Any]:
            return (await client.batches.cancel(batch_id)).model_dump(warnings=False)

        return await self._acall("cancel", send)


def _retry_after(headers: Any) -> float | None:
    # Capped like a retry's wait: a server asking for 1e300 s must not stop the polling.
    return capped_retry_after(headers)


def _unsupported(error: Exception, what: str) -> BatchUnsupportedError | None:
    if what == "upload" and isinstance(error, APIStatusError) and error.status_code in (404, 405):
        return BatchUnsupportedError(
            f"the server has no Batch API: uploading the batch file answered "
            f"{error.status_code} ({error}). The Batch API is an OpenAI service; use "
            "abatch()/batch() for OpenAI-compatible servers without /v1/files and /v1/batches"
        )
    return None
