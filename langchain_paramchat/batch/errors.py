"""Errors and per-item failures of bulk jobs."""

from __future__ import annotations

from typing import Any

from langchain_paramchat.errors import APITimeoutError, ParamChatError

__all__ = [
    "BatchError",
    "BatchInputError",
    "BatchItemError",
    "BatchNotFinishedError",
    "BatchTimeoutError",
    "BatchUnsupportedError",
]


class BatchError(ParamChatError):
    """Raise when a bulk job cannot be submitted, read or resumed."""


class BatchInputError(BatchError, ValueError):
    """Raise when one input of ``submit_batch`` is bad; nothing was uploaded.

    ``index`` is the input's position, ``option`` the option at fault (when one is).
    """

    def __init__(self, index: int, cause: Exception) -> None:
        self.index = index
        self.option: str | None = getattr(cause, "option", None)
        super().__init__(f"input {index}: {cause} (nothing was uploaded)")


class BatchUnsupportedError(BatchError):
    """Raise when the server has no Files/Batches endpoints (llama.cpp's server, most proxies)."""


class BatchNotFinishedError(BatchError):
    """Raise when ``results()`` is asked for a job that is still running (``partial=False``)."""


class BatchTimeoutError(BatchError, APITimeoutError):
    """Raise when ``wait``/``await_results`` runs out of ``timeout``; the job keeps running."""


class BatchItemError(BatchError):
    """One input that got no answer: an HTTP error, or an item expired, cancelled or pending.

    It is a result entry, not raised by ``results()``: check ``isinstance(entry,
    BatchItemError)``. ``status_code`` is the HTTP status of the line (None when the item was
    never run), ``code`` OpenAI's error code, or ``batch_expired`` / ``batch_cancelled`` /
    ``batch_failed`` / ``batch_pending`` for items the job did not run.
    """

    def __init__(
        self,
        message: str,
        *,
        index: int,
        custom_id: str,
        status_code: int | None = None,
        code: str | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = message
        self.index = index
        self.custom_id = custom_id
        self.status_code = status_code
        self.code = code
        self.error_type = error_type
        self.request_id = request_id
        self.body = body
        details = [f"input {index}"]
        if status_code is not None:
            details.append(f"status {status_code}")
        if code:
            details.append(f"code {code}")
        super().__init__(f"{message} ({', '.join(details)})")

    @property
    def pending(self) -> bool:
        """Return True when the item is simply not finished yet (``results(partial=True)``)."""
        return self.code == "batch_pending"

    def __repr__(self) -> str:
        return (
            f"BatchItemError(index={self.index}, status_code={self.status_code}, "
            f"code={self.code!r}, message={self.message!r})"
        )
