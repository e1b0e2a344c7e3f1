"""``submit_batch``: validate and write every input, then upload and create one batch per file."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from typing import Any

from langchain_paramchat.batch.checks import check_metadata
from langchain_paramchat.batch.job import (
    BatchJob,
    BatchPart,
    aupload_and_create,
    upload_and_create,
)
from langchain_paramchat.batch.lines import Written, write_lines
from langchain_paramchat.batch.remote import Remote
from langchain_paramchat.batch.runnable import bound_tools_of, unwrap

__all__ = ["asubmit_batch", "submit_batch"]


def _prepare(
    runnable: Any, inputs: Iterable[Any], kwargs: dict[str, Any], directory: str
) -> tuple[Any, dict[str, Any], Any, Written]:
    model, bound, parser = unwrap(runnable)
    options = {**bound, **kwargs}
    return model, options, parser, write_lines(model, inputs, options, directory)


def submit_batch(
    runnable: Any,
    inputs: Iterable[Any],
    *,
    metadata: dict[str, str] | None = None,
    **kwargs: Any,
) -> BatchJob:
    """Prepare every input as invoke would, upload, and create one batch per endpoint and file.

    Every input (and ``metadata``) is validated before anything is uploaded; a bad input
    raises ``BatchInputError`` naming its index and option, bad metadata ``OptionError``.
    A server without the Batch API raises ``BatchUnsupportedError``.
    """
    check_metadata(metadata)
    with tempfile.TemporaryDirectory(prefix="paramchat-batch-") as directory:
        model, options, parser, written = _prepare(runnable, inputs, kwargs, directory)
        remote = Remote(model.transport)
        parts: list[BatchPart] = []
        try:
            for f in written.files:
                parts.append(
                    upload_and_create(remote, f.api, f.endpoint, f.path, f.lines, metadata)
                )
        except BaseException:
            _undo(remote, parts)
            raise
    return BatchJob(
        model=model,
        parts=parts,
        count=written.count,
        reasons=written.reasons,
        tools=bound_tools_of(options),
        parser=parser,
    )


async def asubmit_batch(
    runnable: Any,
    inputs: Iterable[Any],
    *,
    metadata: dict[str, str] | None = None,
    **kwargs: Any,
) -> BatchJob:
    """Async twin of :func:`submit_batch` (inputs are prepared in a worker thread)."""
    check_metadata(metadata)
    with tempfile.TemporaryDirectory(prefix="paramchat-batch-") as directory:
        model, options, parser, written = await asyncio.to_thread(
            _prepare, runnable, inputs, kwargs, directory
        )
        remote = Remote(model.transport)
        parts: list[BatchPart] = []
        try:
            for f in written.files:
                parts.append(
                    await aupload_and_create(remote, f.api, f.endpoint, f.path, f.lines, metadata)
                )
        except BaseException:
            await asyncio.to_thread(_undo, remote, parts)
            raise
    return BatchJob(
        model=model,
        parts=parts,
        count=written.count,
        reasons=written.reasons,
        tools=bound_tools_of(options),
        parser=parser,
    )


def _undo(remote: Remote, parts: list[BatchPart]) -> None:
    """Cancel the batches already created when a later one fails, so no half job runs."""
    for part in parts:
        try:
            remote.cancel(part.batch_id)
        except Exception:  # best effort: the error that stopped the submit is what matters
            continue
