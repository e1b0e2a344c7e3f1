"""Bulk jobs on OpenAI's Batch API: ``ParamChat.submit_batch`` and the ``BatchJob`` it returns.

job = model.submit_batch(inputs, temperature=0)      # or: await model.asubmit_batch(...)
saved = job.to_json()                                # resume anywhere: BatchJob.from_json
answers = job.wait(poll_interval=30, progress=True)  # or: await job.await_results()
failed = [a for a in answers if isinstance(a, BatchItemError)]

Owns: ``submit`` (a job built from the same prepared bodies, one batch per endpoint),
``lines`` (the JSONL input files), ``remote`` (Files and Batches calls), ``job`` (``BatchJob``),
``results`` (output lines through the adapter's parser and the finish step), ``errors``.
May import: ``apis``, ``bounds``, ``call``, ``errors``, ``retry``, ``routing``, ``secrets``,
``tools``; it is handed a
model and should import nothing above it (``chat_model`` is still imported to rebuild one).
"""

from typing import TYPE_CHECKING

from langchain_paramchat.lazy import lazy_exports

if TYPE_CHECKING:
    from langchain_paramchat.batch.errors import (
        BatchError,
        BatchInputError,
        BatchItemError,
        BatchNotFinishedError,
        BatchTimeoutError,
        BatchUnsupportedError,
    )
    from langchain_paramchat.batch.job import BatchJob, BatchPart, BatchProgress
    from langchain_paramchat.batch.submit import asubmit_batch, submit_batch

__all__ = [
    "BatchError",
    "BatchInputError",
    "BatchItemError",
    "BatchJob",
    "BatchNotFinishedError",
    "BatchPart",
    "BatchProgress",
    "BatchTimeoutError",
    "BatchUnsupportedError",
    "asubmit_batch",
    "submit_batch",
]

# Loaded on first use: importing the package costs nothing until a job is made.
__getattr__ = lazy_exports(__name__, ("errors", "job", "submit"))
