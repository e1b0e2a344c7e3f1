"""``BatchJob``: one bulk job (one OpenAI batch per endpoint and input file) and its results.

A job is a reference, not a connection: ``to_json()`` holds the batch and file ids plus the
model's non-secret settings, so any process can resume it with ``BatchJob.from_json`` (the
API key is read as the model reads it: ``OPENAI_API_KEY``, or pass ``model=``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from langchain_core.messages import AIMessage

from langchain_paramchat.batch import lines as batch_lines
from langchain_paramchat.batch.checks import (
    check_metadata,
    checked_batch,
    new_part_id,
    read_reference,
)
from langchain_paramchat.batch.errors import (
    BatchError,
    BatchItemError,
    BatchNotFinishedError,
    BatchTimeoutError,
)
from langchain_paramchat.batch.lines import LineWriter, copy_lines, input_indices
from langchain_paramchat.batch.remote import Remote, Snapshot
from langchain_paramchat.batch.results import Outcome, ReplyReader, read_line
from langchain_paramchat.batch.runnable import bound_tools_of, unwrap
from langchain_paramchat.errors import APIError, ParamChatError
from langchain_paramchat.secrets import redact_url
from langchain_paramchat.surface.model_class import model_class
from langchain_paramchat.tools.normalize import normalize_tools, tool_spec
from langchain_paramchat.tools.structured import StructuredParser

__all__ = ["BatchJob", "BatchPart", "BatchProgress", "Entry"]

logger = logging.getLogger("langchain_paramchat")

Entry = AIMessage | BatchItemError
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# Running statuses, least advanced first; finished ones, worst first.
_RUNNING = ("validating", "in_progress", "finalizing", "cancelling")
_FINISHED = ("failed", "expired", "cancelled", "completed")
_FORMAT = 1
_MAX_POLL = 60.0


@dataclass
class BatchPart:
    """One OpenAI batch of the job: its endpoint, ids, status and request counts."""

    api: str
    endpoint: str
    input_file_id: str
    batch_id: str
    lines: int
    status: str = "validating"
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Return True once the batch reached a final status."""
        return self.status in TERMINAL

    def update(self, batch: dict[str, Any]) -> None:
        """Copy status, counts, file ids and errors from a batch object.

        Raises ``ResponseFormatError`` when the object is not a consistent batch of this
        part (another id, an unknown status, counts that are not integers >= 0, file ids
        that are not plain ids); the part is left unchanged then.
        """
        checked = checked_batch(batch, self.batch_id)
        (
            self.status,
            self.completed,
            self.failed,
            self.output_file_id,
            self.error_file_id,
            self.errors,
        ) = checked


@dataclass(frozen=True)
class BatchProgress:
    """A job's status and request counts, in total and per endpoint."""

    status: str
    total: int
    completed: int
    failed: int
    by_endpoint: dict[str, dict[str, Any]]
    retry_after: float | None = None

    @property
    def done(self) -> bool:
        """Return True when every batch of the job reached a final status."""
        return self.status in TERMINAL

    def describe(self) -> str:
        """Return a one-line summary, e.g. ``in_progress: 40/100 done, 2 failed``."""
        return (
            f"{self.status}: {self.completed + self.failed}/{self.total} done, {self.failed} failed"
        )


Progress = bool | Callable[[BatchProgress], object]


class BatchJob:
    """A submitted bulk job; build one with ``ParamChat.submit_batch``, or ``from_json``."""

    def __init__(
        self,
        *,
        model: Any,
        parts: list[BatchPart],
        count: int,
        reasons: dict[str, list[list[str]]],
        tools: Any = None,
        parser: Any = None,
        indices: list[int] | None = None,
    ) -> None:
        self.model = model
        self.parts = parts
        self.count = count
        self.reasons = reasons
        self.indices = indices
        self._tools = tools
        self._parser = parser
        self._remote = Remote(model.transport)
        # Output and error files never change once a batch ends: each is read once, into
        # one list shared by all files (never a list per file: a job may hold a million items).
        self._read: set[str] = set()
        self._found: list[Entry | None] = [None] * count
        self._input_ids: dict[str, list[int]] = {}
        self._retry_after: float | None = None
        self._outcome = Outcome()

    @property
    def problems(self) -> list[str]:
        """Return what reading the output found and could give to no input (bad lines).

        A line that is not JSON, names no input of this job, or answers one a second time
        is listed here (the first 100) and never applied to another input; the inputs it
        may have been meant for get a ``batch_missing`` or ``batch_duplicate`` error.
        """
        return list(self._outcome.problems)

    def __repr__(self) -> str:
        ids = [p.batch_id for p in self.parts]
        return f"BatchJob(count={self.count}, status={self.status!r}, batches={ids})"

    def __len__(self) -> int:
        return self.count

    # --- status ---------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """Return the least advanced status while running, else the worst final one."""
        if not self.parts:
            return "completed"
        statuses = {p.status for p in self.parts}
        for status in (*_RUNNING, *_FINISHED):
            if status in statuses:
                return status
        return next(iter(statuses))

    @property
    def done(self) -> bool:
        """Return True when every batch reached a final status (by the last refresh)."""
        return all(p.done for p in self.parts)

    def progress(self) -> BatchProgress:
        """Return the status and counts known from the last refresh."""
        by_endpoint: dict[str, dict[str, Any]] = {}
        for part in self.parts:
            entry = by_endpoint.setdefault(
                part.endpoint,
                {"status": part.status, "total": 0, "completed": 0, "failed": 0, "batches": []},
            )
            entry["total"] += part.lines
            entry["completed"] += part.completed
            entry["failed"] += part.failed
            entry["batches"].append(part.batch_id)
            if _rank(part.status) < _rank(entry["status"]):
                entry["status"] = part.status
        return BatchProgress(
            status=self.status,
            total=self.count,
            completed=sum(p.completed for p in self.parts),
            failed=sum(p.failed for p in self.parts),
            by_endpoint=by_endpoint,
            retry_after=self._retry_after,
        )

    def refresh(self) -> BatchProgress:
        """Fetch every unfinished batch; return the status and counts, per endpoint."""
        pending = [p for p in self.parts if not p.done]
        self._absorb([self._remote.retrieve(p.batch_id) for p in pending], pending)
        return self.progress()

    async def arefresh(self) -> BatchProgress:
        """Async twin of :meth:`refresh`."""
        pending = [p for p in self.parts if not p.done]
        snapshots = await asyncio.gather(*(self._remote.aretrieve(p.batch_id) for p in pending))
        self._absorb(snapshots, pending)
        return self.progress()

    def _absorb(self, snapshots: Sequence[Snapshot], parts: Sequence[BatchPart]) -> None:
        waits = [s.retry_after for s in snapshots if s.retry_after is not None]
        self._retry_after = max(waits) if waits else None
        for part, snapshot in zip(parts, snapshots, strict=True):
            part.update(snapshot.batch)

    # --- waiting --------------------------------------------------------------------------

    def wait(
        self, poll_interval: float = 10.0, timeout: float | None = None, progress: Progress = False
    ) -> list[Entry]:
        """Poll until every batch finishes; return ``results()``.

        Polls every ``poll_interval`` seconds, backing off (x1.5, up to 60 s) while nothing
        changes and never sooner than the server's ``Retry-After``. ``progress=True`` draws a
        bar on stderr; a callable gets a ``BatchProgress`` per poll. Raises
        ``BatchTimeoutError`` after ``timeout`` seconds (the job keeps running).
        """
        poller = _Poller(poll_interval, timeout, progress)
        while True:
            state = self.refresh()
            delay = poller.next_delay(state)
            if delay is None:
                return self.results()
            time.sleep(delay)

    async def await_results(
        self, poll_interval: float = 10.0, timeout: float | None = None, progress: Progress = False
    ) -> list[Entry]:
        """Async twin of :meth:`wait`."""
        poller = _Poller(poll_interval, timeout, progress)
        while True:
            state = await self.arefresh()
            delay = poller.next_delay(state)
            if delay is None:
                return await self.aresults()
            await asyncio.sleep(delay)

    # --- results --------------------------------------------------------------------------

    def results(self, *, partial: bool = False) -> list[Entry]:
        """Return one entry per input, in input order: an ``AIMessage`` or a ``BatchItemError``.

        Refreshes unfinished batches first. While a batch still runs this raises
        ``BatchNotFinishedError`` unless ``partial=True``, which marks its items
        ``batch_pending``. Expired, cancelled and failed items are reported, never dropped.
        """
        if not self.done:
            self.refresh()
        self._check_finished(partial)
        for file_id, part in self._files_to_read():
            self._remote.each_line(file_id, self._reader(part, file_id))
            self._read.add(file_id)
        for part in self._parts_to_map():
            self._input_ids[part.batch_id] = input_indices(self._remote.content(part.input_file_id))
        return self._entries()

    async def aresults(self, *, partial: bool = False) -> list[Entry]:
        """Async twin of :meth:`results`."""
        if not self.done:
            await self.arefresh()
        self._check_finished(partial)
        for file_id, part in self._files_to_read():
            await self._remote.aeach_line(file_id, self._reader(part, file_id))
            self._read.add(file_id)
        for part in self._parts_to_map():
            data = await self._remote.acontent(part.input_file_id)
            self._input_ids[part.batch_id] = input_indices(data)
        return self._entries()

    def _check_finished(self, partial: bool) -> None:
        if not partial and not self.done:
            raise BatchNotFinishedError(
                f"the job is still running ({self.progress().describe()}); call wait() / "
                "await_results(), or results(partial=True) for what is finished"
            )

    def _files_to_read(self) -> list[tuple[str, BatchPart]]:
        # OpenAI writes output and error files only when a batch ends; they never change after.
        return [
            (file_id, part)
            for part in self.parts
            if part.done
            for file_id in (part.output_file_id, part.error_file_id)
            if file_id and file_id not in self._read
        ]

    def _reader(self, part: BatchPart, file_id: str) -> Callable[[str], None]:
        reader = ReplyReader(
            self.model, part.api, self.reasons.get(part.api, []), self._tools, self._parser
        )
        positions = self._positions()
        numbers = itertools.count(1)

        def read(line: str) -> None:
            known = len(self._outcome.problems)
            where = f"file {file_id} line {next(numbers)}"
            read_line(line, where, reader, positions, self._found, self._outcome)
            if len(self._outcome.problems) > known:
                logger.warning("batch job output: %s", self._outcome.problems[-1])

        return read

    def _parts_to_map(self) -> list[BatchPart]:
        # Which input a batch held is only needed to explain items that got no line at all,
        # when the job has several batches and not all of them completed.
        if len(self.parts) <= 1 or None not in self._found:
            return []
        unfinished = [p for p in self.parts if p.status != "completed"]
        return [p for p in unfinished if p.batch_id not in self._input_ids]

    def _positions(self) -> dict[int, int] | None:
        if self.indices is None:
            return None
        return {index: position for position, index in enumerate(self.indices)}

    def _entries(self) -> list[Entry]:
        merged = list(self._found)
        missing = [i for i, e in enumerate(merged) if e is None]
        if missing:
            owner = self._owners(missing)
            for position in missing:
                merged[position] = _unanswered(self._index(position), owner.get(position))
        return [e for e in merged if e is not None]

    def _index(self, position: int) -> int:
        return position if self.indices is None else self.indices[position]

    def _owners(self, missing: list[int]) -> dict[int, BatchPart]:
        # An item no unfinished batch held belongs to a completed one (None: missing).
        if len(self.parts) == 1:
            return dict.fromkeys(missing, self.parts[0])
        unfinished = [p for p in self.parts if p.status != "completed"]
        positions = self._positions()
        owner: dict[int, BatchPart] = {}
        for part in unfinished:
            for index in self._input_ids.get(part.batch_id, []):
                position = index if positions is None else positions.get(index)
                if position is not None:
                    owner[position] = part
        return owner

    # --- cancel and retry -----------------------------------------------------------------

    def cancel(self) -> BatchProgress:
        """Ask OpenAI to cancel every unfinished batch; finished items keep their results.

        A batch that finished meanwhile (the cancel is refused) is refreshed and the others
        are still cancelled; an error that left a batch running is raised after the rest.
        """
        failures: list[Exception] = []
        for part in self.parts:
            if not part.done and part.status != "cancelling":
                try:
                    part.update(self._remote.cancel(part.batch_id))
                except APIError as exc:
                    with contextlib.suppress(APIError):
                        part.update(self._remote.retrieve(part.batch_id).batch)
                    if not part.done:
                        failures.append(exc)
        if failures:
            raise failures[0]
        return self.progress()

    async def acancel(self) -> BatchProgress:
        """Async twin of :meth:`cancel`; raises as it does."""
        failures: list[Exception] = []
        for part in self.parts:
            if not part.done and part.status != "cancelling":
                try:
                    part.update(await self._remote.acancel(part.batch_id))
                except APIError as exc:
                    with contextlib.suppress(APIError):
                        part.update((await self._remote.aretrieve(part.batch_id)).batch)
                    if not part.done:
                        failures.append(exc)
        if failures:
            raise failures[0]
        return self.progress()

    def retry_failed(self, *, metadata: dict[str, str] | None = None) -> BatchJob:
        """Submit a new job for the items that failed, expired or were cancelled.

        The new job's ``results()`` follow this job's order of those items; ``indices`` maps
        them back to the original inputs. The lines are re-sent exactly as first submitted.
        """
        check_metadata(metadata)
        failed = self._failed(self.results())
        with tempfile.TemporaryDirectory(prefix="paramchat-batch-") as directory:
            writer = LineWriter(directory, batch_lines.MAX_LINES, batch_lines.MAX_FILE_BYTES)
            for part in self.parts:
                if _may_hold_failures(part, failed):
                    copy_lines(self._remote.content(part.input_file_id), failed, part.api, writer)
            writer.close()
            parts = [
                upload_and_create(self._remote, f.api, f.endpoint, f.path, f.lines, metadata)
                for f in writer.files
            ]
        return self._retry_job(parts, failed)

    async def aretry_failed(self, *, metadata: dict[str, str] | None = None) -> BatchJob:
        """Async twin of :meth:`retry_failed`."""
        check_metadata(metadata)
        failed = self._failed(await self.aresults())
        with tempfile.TemporaryDirectory(prefix="paramchat-batch-") as directory:
            writer = LineWriter(directory, batch_lines.MAX_LINES, batch_lines.MAX_FILE_BYTES)
            for part in self.parts:
                if _may_hold_failures(part, failed):
                    data = await self._remote.acontent(part.input_file_id)
                    copy_lines(data, failed, part.api, writer)
            writer.close()
            parts = [
                await aupload_and_create(self._remote, f.api, f.endpoint, f.path, f.lines, metadata)
                for f in writer.files
            ]
        return self._retry_job(parts, failed)

    def _failed(self, entries: list[Entry]) -> set[int]:
        return {e.index for e in entries if isinstance(e, BatchItemError) and not e.pending}

    def _retry_job(self, parts: list[BatchPart], failed: set[int]) -> BatchJob:
        order = [self._index(p) for p in range(self.count) if self._index(p) in failed]
        return BatchJob(
            model=self.model,
            parts=parts,
            count=len(order),
            reasons=self.reasons,
            tools=self._tools,
            parser=self._parser,
            indices=order,
        )

    # --- persistence ----------------------------------------------------------------------

    def to_json(self) -> str:
        """Return a reference any process can resume with ``from_json``; it holds no secret."""
        model = self.model
        data = {
            "format": _FORMAT,
            "model": {
                "model": model.model,
                "base_url": redact_url(model.base_url),
                "organization": model.organization,
                "project": model.project,
                "output_version": model.output_version,
            },
            "count": self.count,
            "indices": self.indices,
            "reasons": self.reasons,
            "tools": [tool_spec(t) for t in self._tools] if self._tools else None,
            "structured": (
                {"tool_name": self._parser.tool_name} if self._parser is not None else None
            ),
            "parts": [asdict(p) for p in self.parts],
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str, *, model: Any = None) -> BatchJob:
        """Resume a job from ``to_json()`` output.

        Without ``model`` a ``ParamChat`` is rebuilt from the saved settings and reads its
        key as usual (``OPENAI_API_KEY``). Pass the model (bound, or with structured output)
        the job was submitted with to get parsed objects and schema-aware tool arguments.
        Raises ``BatchError`` when ``text`` is not a job reference.
        """
        data = read_reference(text, frozenset(f.name for f in fields(BatchPart)))
        parts = [BatchPart(**p) for p in data["parts"]]
        if model is None:
            try:
                chat = model_class()(**{k: v for k, v in data["model"].items() if v is not None})
                tools = normalize_tools(data["tools"]) if data["tools"] else None
            except ParamChatError as exc:
                raise BatchError(
                    f"the job reference's model or tools are not valid: {exc}"
                ) from exc
            parser = None
            if data["structured"] is not None:
                parser = StructuredParser(tool_name=data["structured"]["tool_name"])
        else:
            chat, options, parser = unwrap(model)
            tools = bound_tools_of(options)
        return cls(
            model=chat,
            parts=parts,
            count=data["count"],
            reasons=data["reasons"],
            tools=tools,
            parser=parser,
            indices=data["indices"],
        )


class _Poller:
    """Decide how long to sleep between polls, report progress, enforce the timeout."""

    def __init__(self, poll_interval: float, timeout: float | None, progress: Progress) -> None:
        if not 0 < poll_interval < math.inf:
            raise ValueError(f"poll_interval={poll_interval!r} must be finite seconds > 0")
        if timeout is not None and not 0 < timeout < math.inf:
            raise ValueError(f"timeout={timeout!r} must be finite seconds > 0, or None")
        self.base = poll_interval
        self.interval = poll_interval
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.report = _bar if progress is True else progress or None
        self.last: tuple[str, int, int] | None = None

    def next_delay(self, state: BatchProgress) -> float | None:
        if callable(self.report):
            self.report(state)
        if state.done:
            if self.report is _bar:
                sys.stderr.write("\n")
            return None
        seen = (state.status, state.completed, state.failed)
        self.interval = self.base if seen != self.last else min(self.interval * 1.5, _MAX_POLL)
        self.interval = max(self.interval, self.base)
        self.last = seen
        delay = max(self.interval, state.retry_after or 0.0)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BatchTimeoutError(
                    f"the batch job did not finish within timeout={self.timeout} s "
                    f"({state.describe()}); it keeps running: wait again or resume it later"
                )
            delay = min(delay, left)
        return delay


def _bar(state: BatchProgress) -> None:
    width = 30
    finished = state.completed + state.failed
    filled = int(width * finished / state.total) if state.total else width
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {finished}/{state.total} "
        f"({state.failed} failed) {state.status}   "
    )
    sys.stderr.flush()


def _rank(status: str) -> int:
    order = (*_RUNNING, *_FINISHED)
    return order.index(status) if status in order else len(order)


def _unanswered(index: int, part: BatchPart | None) -> BatchItemError:
    status = part.status if part is not None else "completed"
    if part is not None and not part.done:
        code, message = "batch_pending", f"not finished yet (the batch is {status})"
    elif status == "failed" and part is not None:
        problems = "; ".join(str(e.get("message")) for e in part.errors) or "no details"
        code, message = "batch_failed", f"the batch failed validation: {problems}"
    elif status == "expired":
        code, message = "batch_expired", "the batch expired before this item ran"
    elif status == "cancelled":
        code, message = "batch_cancelled", "the batch was cancelled before this item ran"
    else:
        code, message = (
            "batch_missing",
            f"no output line for this item although its batch is {status}; "
            "retry_failed() sends it again",
        )
    custom = str(index)
    return BatchItemError(message, index=index, custom_id=custom, code=code)


def _may_hold_failures(part: BatchPart, failed: set[int]) -> bool:
    # A completed batch may still lack lines (batch_missing): read it unless none failed.
    return bool(failed)


def upload_and_create(
    remote: Remote,
    api: str,
    endpoint: str,
    path: str,
    lines: int,
    metadata: dict[str, str] | None,
) -> BatchPart:
    file_id = remote.upload(path, os.path.basename(path))
    return _new_part(api, endpoint, file_id, lines, remote.create(file_id, endpoint, metadata))


async def aupload_and_create(
    remote: Remote,
    api: str,
    endpoint: str,
    path: str,
    lines: int,
    metadata: dict[str, str] | None,
) -> BatchPart:
    file_id = await remote.aupload(path, os.path.basename(path))
    batch = await remote.acreate(file_id, endpoint, metadata)
    return _new_part(api, endpoint, file_id, lines, batch)


def _new_part(
    api: str, endpoint: str, file_id: str, lines: int, batch: dict[str, Any]
) -> BatchPart:
    part = BatchPart(api, endpoint, file_id, new_part_id(batch, file_id), lines)
    part.update(batch)
    return part
