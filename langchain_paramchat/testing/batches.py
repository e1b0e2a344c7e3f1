"""OpenAI's Files and Batches endpoints for FakeOpenAI, with progression under the test's control.

A batch moves ``validating → in_progress → finalizing → completed`` one step per retrieve
(``auto_advance=True``, the default) or when the test calls ``advance()``. Each line of the
input file is answered by the server's own create handler, so scripted ``Reply``/``Fault``
items, body checks and stored responses work exactly as for real-time calls; a ``Fault.status``
makes that line an error line. ``expire()`` and ``cancel`` end a batch early: finished lines
keep their output, the rest are reported (expired ones as ``batch_expired`` error lines,
as OpenAI writes them).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_paramchat.testing.body_check import CREATE_PATHS, Api

__all__ = ["BATCH_ENDPOINTS", "FakeBatches", "LineHandler", "parse_multipart"]

BATCH_ENDPOINTS = CREATE_PATHS
MAX_LINES = 50_000
MAX_FILE_BYTES = 200 * 1024 * 1024
_STEPS = ("validating", "in_progress", "finalizing", "completed")
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})

# (api, body) -> (HTTP status, JSON body): the server's create handler without a socket,
# handed in by the server that owns the script (this module never imports it).
LineHandler = Callable[[Api, dict[str, Any]], tuple[int, dict[str, Any]]]
# An answer to one HTTP request: status, JSON body or raw bytes, extra headers.
Answer = tuple[int, Any, dict[str, str]]


@dataclass
class _File:
    meta: dict[str, Any]
    data: bytes


@dataclass
class _Batch:
    obj: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    outputs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class FakeBatches:
    """Hold uploaded files and batches; ``server.batches`` of a running FakeOpenAI.

    ``auto_advance`` moves every batch one step per retrieve; ``lines_per_step`` (None: all)
    caps how many lines one ``in_progress`` step answers, so tests can watch counts grow and
    read partial output after ``expire()`` or a cancel. ``enabled=False`` answers 404 to
    every Files/Batches URL, as servers without the Batch API do (llama.cpp's).
    """

    def __init__(self, handler: LineHandler) -> None:
        self._handler = handler
        self._lock = threading.RLock()
        self._files: dict[str, _File] = {}
        self._batches: dict[str, _Batch] = {}
        self.auto_advance = True
        self.lines_per_step: int | None = None
        self.enabled = True
        self.retry_after: float | None = None
        self._fail_next: list[str] = []

    # --- test controls --------------------------------------------------------------------

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Return the metadata of every stored file, by id."""
        with self._lock:
            return {fid: dict(f.meta) for fid, f in self._files.items()}

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        """Return every batch object, by id."""
        with self._lock:
            return {bid: dict(b.obj) for bid, b in self._batches.items()}

    def file_content(self, file_id: str) -> bytes:
        """Return a stored file's bytes."""
        with self._lock:
            return self._files[file_id].data

    def advance(self, batch_id: str | None = None, *, to: str | None = None) -> None:
        """Move one batch (or every unfinished one) a step, or on until status ``to``."""
        with self._lock:
            for batch in self._select(batch_id):
                while batch.obj["status"] not in _TERMINAL:
                    self._step(batch)
                    if to is None or batch.obj["status"] == to:
                        break

    def expire(self, batch_id: str | None = None) -> None:
        """End unfinished batches as ``expired``: unanswered lines become ``batch_expired``."""
        with self._lock:
            for batch in self._select(batch_id):
                if batch.obj["status"] in _TERMINAL:
                    continue
                for line in batch.lines[batch.done :]:
                    batch.failures.append(
                        _output_line(
                            line["custom_id"],
                            None,
                            {
                                "code": "batch_expired",
                                "message": "This request could not be executed before the "
                                "completion window expired.",
                            },
                        )
                    )
                batch.done = len(batch.lines)
                self._finish(batch, "expired")

    def fail_validation(self, message: str = "The input file failed validation.") -> None:
        """Make the next batch to be validated fail as a whole (status ``failed``)."""
        with self._lock:
            self._fail_next.append(message)

    def replace_file(self, file_id: str, data: bytes) -> None:
        """Replace a stored file's bytes, as a broken or hostile server would serve them."""
        with self._lock:
            self._files[file_id].data = data

    def tamper(self, batch_id: str, **fields: Any) -> None:
        """Set fields of a stored batch object, as a broken or hostile server would."""
        with self._lock:
            self._batches[batch_id].obj.update(fields)

    def reset(self) -> None:
        """Forget every file and batch."""
        with self._lock:
            self._files.clear()
            self._batches.clear()

    # --- HTTP -----------------------------------------------------------------------------

    def serve(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one Files or Batches request."""
        if not self.enabled:
            return _error(404, f"Unknown request URL: {method} {path}.")
        parts = path.removeprefix("/v1/").split("/")
        with self._lock:
            if parts[0] == "files":
                return self._files_api(method, parts[1:], headers, raw)
            return self._batches_api(method, parts[1:], raw)

    def _files_api(
        self, method: str, rest: list[str], headers: dict[str, str], raw: bytes
    ) -> Answer:
        if not rest and method == "POST":
            return self._upload(headers.get("content-type", ""), raw)
        if not rest and method == "GET":
            data = [f.meta for f in self._files.values()]
            return 200, {"object": "list", "data": data, "has_more": False}, {}
        stored = self._files.get(rest[0]) if rest else None
        if stored is None:
            return _error(404, f"No such File object: {rest[0] if rest else ''}", "file_id")
        if len(rest) == 1 and method == "GET":
            return 200, stored.meta, {}
        if len(rest) == 1 and method == "DELETE":
            del self._files[rest[0]]
            return 200, {"id": rest[0], "object": "file", "deleted": True}, {}
        if rest[1:] == ["content"] and method == "GET":
            return 200, stored.data, {}
        return _error(405, f"Method {method} not allowed here.")

    def _upload(self, content_type: str, raw: bytes) -> Answer:
        try:
            fields = parse_multipart(content_type, raw)
        except ValueError as exc:
            return _error(400, f"Could not parse the multipart body: {exc}")
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if "file" not in fields:
            return _error(400, "Missing required parameter: 'file'.", "file")
        if purpose not in ("batch", "assistants", "fine-tune", "vision", "user_data", "evals"):
            return _error(400, f"Invalid value for purpose: {purpose!r}.", "purpose")
        filename, data = fields["file"]
        if purpose == "batch" and len(data) > MAX_FILE_BYTES:
            return _error(400, "Batch input files may be at most 200 MB.", "file")
        file_id = f"file-{secrets.token_hex(12)}"
        meta = _file_meta(file_id, filename or "upload", len(data), purpose)
        self._files[file_id] = _File(meta, data)
        return 200, meta, {}

    def _batches_api(self, method: str, rest: list[str], raw: bytes) -> Answer:
        if not rest and method == "POST":
            return self._create(raw)
        if not rest and method == "GET":
            return self._list()
        batch = self._batches.get(rest[0]) if rest else None
        if batch is None:
            return _error(404, f"No batch found with id '{rest[0] if rest else ''}'.")
        if len(rest) == 1 and method == "GET":
            if self.auto_advance and batch.obj["status"] not in _TERMINAL:
                self._step(batch)
            headers = {"retry-after": f"{self.retry_after:g}"} if self.retry_after else {}
            return 200, batch.obj, headers
        if rest[1:] == ["cancel"] and method == "POST":
            return self._cancel(batch)
        return _error(405, f"Method {method} not allowed here.")

    def _create(self, raw: bytes) -> Answer:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return _error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        for key in ("input_file_id", "endpoint", "completion_window"):
            if key not in body:
                return _error(400, f"Missing required parameter: '{key}'.", key)
        if body["endpoint"] not in BATCH_ENDPOINTS:
            allowed = ", ".join(BATCH_ENDPOINTS)
            return _error(400, f"Invalid endpoint {body['endpoint']!r}: use {allowed}.", "endpoint")
        if body["completion_window"] != "24h":
            return _error(400, "completion_window must be '24h'.", "completion_window")
        stored = self._files.get(body["input_file_id"])
        if stored is None:
            return _error(404, f"No such File object: {body['input_file_id']}", "input_file_id")
        if stored.meta["purpose"] != "batch":
            return _error(400, "The input file must have purpose 'batch'.", "input_file_id")
        now = int(time.time())
        batch_id = f"batch_{secrets.token_hex(12)}"
        obj: dict[str, Any] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body["endpoint"],
            "errors": None,
            "input_file_id": body["input_file_id"],
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86_400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        self._batches[batch_id] = _Batch(obj)
        return 200, obj, {}

    def _list(self) -> Answer:
        data = [b.obj for b in sorted(self._batches.values(), key=lambda b: -b.obj["created_at"])]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        page = {"object": "list", "data": data, "first_id": first, "last_id": last}
        return 200, {**page, "has_more": False}, {}

    def _cancel(self, batch: _Batch) -> Answer:
        if batch.obj["status"] in _TERMINAL:
            message = f"Cannot cancel a batch with status '{batch.obj['status']}'."
            return _error(409, message)
        batch.obj["status"] = "cancelling"
        batch.obj["cancelling_at"] = int(time.time())
        return 200, dict(batch.obj), {}

    # --- progression ----------------------------------------------------------------------

    def _select(self, batch_id: str | None) -> list[_Batch]:
        if batch_id is None:
            return list(self._batches.values())
        return [self._batches[batch_id]]

    def _step(self, batch: _Batch) -> None:
        status = batch.obj["status"]
        now = int(time.time())
        if status == "cancelling":
            self._finish(batch, "cancelled")
        elif status == "validating":
            problems = self._validate(batch)
            if problems:
                batch.obj["errors"] = {"object": "list", "data": problems}
                batch.obj["status"] = "failed"
                batch.obj["failed_at"] = now
                return
            batch.obj["status"] = "in_progress"
            batch.obj["in_progress_at"] = now
            batch.obj["request_counts"]["total"] = len(batch.lines)
        elif status == "in_progress":
            todo = len(batch.lines) - batch.done
            count = todo if self.lines_per_step is None else min(todo, self.lines_per_step)
            for line in batch.lines[batch.done : batch.done + count]:
                self._answer(batch, line)
            batch.done += count
            if batch.done == len(batch.lines):
                batch.obj["status"] = "finalizing"
                batch.obj["finalizing_at"] = now
        elif status == "finalizing":
            self._finish(batch, "completed")

    def _validate(self, batch: _Batch) -> list[dict[str, Any]]:
        data = self._files[batch.obj["input_file_id"]].data
        if self._fail_next:
            return [_problem("invalid_file", self._fail_next.pop(0), None)]
        problems: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()
        text = data.decode("utf-8", errors="replace").splitlines()
        if len(text) > MAX_LINES:
            return [_problem("too_many_requests", f"More than {MAX_LINES} requests.", None)]
        for number, raw in enumerate(text, start=1):
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                problems.append(_problem("invalid_json_line", "Line is not valid JSON.", number))
                continue
            if not isinstance(line, dict):
                problems.append(_problem("invalid_request", "Line is not an object.", number))
                continue
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in seen:
                message = "custom_id is missing or not unique."
                problems.append(_problem("duplicate_custom_id", message, number))
            seen.add(str(custom_id))
            if line.get("method") != "POST" or line.get("url") != batch.obj["endpoint"]:
                message = f"method must be POST and url {batch.obj['endpoint']}."
                problems.append(_problem("mismatched_endpoint", message, number))
            if not isinstance(line.get("body"), dict):
                problems.append(_problem("invalid_request", "body must be an object.", number))
                continue
            models.add(str(line["body"].get("model")))
            batch.lines.append(line)
        if len(models) > 1:
            message = "All requests in a batch must use the same model."
            problems.append(_problem("model_mismatch", message, None))
        if problems:
            batch.lines.clear()
        return problems

    def _answer(self, batch: _Batch, line: dict[str, Any]) -> None:
        api = BATCH_ENDPOINTS[batch.obj["endpoint"]]
        status, body = self._handler(api, line["body"])
        response = {
            "status_code": status,
            "request_id": f"req_{secrets.token_hex(8)}",
            "body": body,
        }
        counts = batch.obj["request_counts"]
        if status == 200:
            batch.outputs.append(_output_line(line["custom_id"], response, None))
            counts["completed"] += 1
        else:
            batch.failures.append(_output_line(line["custom_id"], response, None))
            counts["failed"] += 1

    def _finish(self, batch: _Batch, status: str) -> None:
        now = int(time.time())
        batch.obj["status"] = status
        batch.obj[f"{status}_at"] = now
        stem = batch.obj["id"]
        if batch.outputs:
            batch.obj["output_file_id"] = self._store_output(f"{stem}_output.jsonl", batch.outputs)
        if batch.failures:
            batch.obj["error_file_id"] = self._store_output(f"{stem}_error.jsonl", batch.failures)
        if status == "expired":
            batch.obj["request_counts"]["failed"] = len(batch.lines) - len(batch.outputs)

    def _store_output(self, filename: str, lines: list[str]) -> str:
        data = ("\n".join(lines) + "\n").encode()
        file_id = f"file-{secrets.token_hex(12)}"
        self._files[file_id] = _File(_file_meta(file_id, filename, len(data), "batch_output"), data)
        return file_id


def parse_multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Return ``{field: (filename, bytes)}`` from a body; raise ``ValueError`` if not multipart."""
    marker = "boundary="
    if "multipart/form-data" not in content_type or marker not in content_type:
        raise ValueError(f"expected multipart/form-data with a boundary, got {content_type!r}")
    boundary = content_type.split(marker, 1)[1].split(";")[0].strip().strip('"').encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in raw.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, body = part.partition(b"\r\n\r\n")
        disposition = next(
            (
                line.decode()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-disposition")
            ),
            "",
        )
        params = dict(
            item.strip().split("=", 1) for item in disposition.split(";")[1:] if "=" in item
        )
        name = params.get("name", "").strip('"')
        filename = params["filename"].strip('"') if "filename" in params else None
        fields[name] = (filename, body.removesuffix(b"\r\n"))
    return fields


def _file_meta(file_id: str, filename: str, size: int, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": int(time.time()),
        "expires_at": None,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }


def _output_line(
    custom_id: str, response: dict[str, Any] | None, error: dict[str, Any] | None
) -> str:
    return json.dumps(
        {
            "id": f"batch_req_{secrets.token_hex(12)}",
            "custom_id": custom_id,
            "response": response,
            "error": error,
        }
    )


def _problem(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> Answer:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return status, {"error": error}, {}
