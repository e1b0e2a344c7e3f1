"""Checks on what a bulk job reads from outside: saved references, batch objects, metadata.

A saved job (``BatchJob.to_json``) may be edited or corrupted, and a batch object comes
from the server: every field is checked before it is used (to build a URL, size a list or
pick an input), and a bad one raises an error naming it instead of ``KeyError``,
``RecursionError`` or ``MemoryError``, or a silently short result list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.batch.errors import BatchError
from langchain_paramchat.batch.lines import endpoints
from langchain_paramchat.bounds import plain_id_problem
from langchain_paramchat.errors import OptionError, ResponseFormatError

__all__ = [
    "MAX_INPUTS",
    "MAX_REFERENCE_BYTES",
    "STATUSES",
    "check_metadata",
    "checked_batch",
    "new_part_id",
    "read_reference",
]

STATUSES = frozenset(
    {
        "validating",
        "in_progress",
        "finalizing",
        "cancelling",
        "completed",
        "failed",
        "expired",
        "cancelled",
    }
)
FORMAT = 1
MAX_REFERENCE_BYTES = 64 * 1024 * 1024
"""The largest saved job ``from_json`` reads (a million inputs' indices fit in ~8 MB)."""
MAX_INPUTS = 10_000_000
"""The most inputs a resumed job may hold (its result list is allocated up front)."""
_MAX_LINES = 50_000  # OpenAI's per-file line limit: no batch holds more
_MODEL_KEYS = ("model", "base_url", "organization", "project", "output_version")
# OpenAI's metadata limits (Batches API reference).
_METADATA_KEYS, _METADATA_KEY_CHARS, _METADATA_VALUE_CHARS = 16, 64, 512


def check_metadata(metadata: Any) -> None:
    """Raise ``OptionError`` unless ``metadata`` is None or what OpenAI accepts for a batch."""
    if metadata is None:
        return
    allowed = (
        f"a dict of at most {_METADATA_KEYS} string keys (up to {_METADATA_KEY_CHARS} "
        f"characters) to string values (up to {_METADATA_VALUE_CHARS} characters)"
    )
    if not isinstance(metadata, Mapping) or len(metadata) > _METADATA_KEYS:
        raise OptionError("metadata", metadata, allowed)
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > _METADATA_KEY_CHARS:
            raise OptionError("metadata", metadata, allowed, fix=f"key {key!r} does not fit")
        if not isinstance(value, str) or len(value) > _METADATA_VALUE_CHARS:
            raise OptionError(f"metadata[{key!r}]", value, allowed)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def new_part_id(batch: Any, file_id: str) -> str:
    """Return the id of a batch the server just created; raise ``ResponseFormatError`` if none."""
    found = batch.get("id") if isinstance(batch, Mapping) else None
    problem = plain_id_problem(found)
    if problem is not None:
        raise ResponseFormatError(
            f"the batch created for file {file_id} came back without a usable id: {problem}"
        )
    return str(found)


def checked_batch(
    batch: Any, batch_id: str
) -> tuple[str, int, int, str | None, str | None, list[dict[str, Any]]]:
    """Return ``(status, completed, failed, output file, error file, errors)`` of ``batch``.

    Raises ``ResponseFormatError`` naming the field that makes the object inconsistent.
    """

    def bad(what: str) -> ResponseFormatError:
        return ResponseFormatError(
            f"the server's batch object for {batch_id} is not consistent: {what}"
        )

    if not isinstance(batch, Mapping):
        raise bad(f"it is not an object ({type(batch).__name__})")
    if batch.get("id") != batch_id:
        raise bad(f"its id is {str(batch.get('id'))[:80]!r}")
    status = batch.get("status")
    if status not in STATUSES:
        raise bad(f"status {str(status)[:80]!r} is not a batch status")
    counts = batch.get("request_counts") or {}
    if not isinstance(counts, Mapping):
        raise bad("request_counts is not an object")
    completed, failed = counts.get("completed") or 0, counts.get("failed") or 0
    if not _count(completed) or not _count(failed):
        raise bad("request_counts.completed/failed are not integers >= 0")
    files: list[str | None] = []
    for key in ("output_file_id", "error_file_id"):
        value = batch.get(key)
        if value is not None and plain_id_problem(value) is not None:
            raise bad(f"{key} {plain_id_problem(value)}")
        files.append(value)
    errors = batch.get("errors") or {}
    data = errors.get("data") if isinstance(errors, Mapping) else None
    if data is not None and not (
        isinstance(data, list) and all(isinstance(e, Mapping) for e in data)
    ):
        raise bad("errors.data is not a list of objects")
    return status, completed, failed, files[0], files[1], [dict(e) for e in data or []]


def read_reference(text: Any, part_fields: frozenset[str]) -> dict[str, Any]:
    """Return a saved job's data, every field checked; raise ``BatchError`` naming a bad one.

    ``part_fields`` are the fields each saved part must hold exactly (``BatchPart``'s).
    """

    def bad(what: str) -> BatchError:
        return BatchError(f"not a BatchJob.to_json() reference: {what}")

    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise bad(f"expected the text to_json() returned, got {type(text).__name__}")
    if len(text) > MAX_REFERENCE_BYTES:
        raise bad(f"{len(text)} characters, more than a job reference holds")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise bad(f"not JSON ({str(exc)[:120]})") from exc
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    expected = {"format", "model", "count", "indices", "reasons", "tools", "structured", "parts"}
    missing = sorted(expected - set(data))
    if missing:
        raise bad(f"field {missing[0]!r} is missing")
    unknown = sorted(set(data) - expected)
    if unknown:
        raise bad(f"field {unknown[0][:80]!r} is not part of a job reference")
    if data["format"] != FORMAT:
        raise bad(f"field 'format' is {str(data['format'])[:40]!r}, not {FORMAT}")
    _check_model(data["model"], bad)
    parts = _check_parts(data["parts"], part_fields, bad)
    count = data["count"]
    if not _count(count) or count > MAX_INPUTS:
        raise bad(f"field 'count' is {str(count)[:40]!r}, not a number of inputs")
    lines = sum(p["lines"] for p in parts)
    if count != lines:
        raise bad(f"field 'count' is {count} but the batches hold {lines} lines")
    indices = data["indices"]
    if indices is not None:
        if not isinstance(indices, list) or not all(_count(i) for i in indices):
            raise bad("field 'indices' is not a list of input positions")
        if len(indices) != count or len(set(indices)) != count:
            raise bad("field 'indices' does not list 'count' distinct input positions")
    reasons = data["reasons"]
    if not isinstance(reasons, dict) or not all(
        api in endpoints()
        and isinstance(sets, list)
        and all(isinstance(r, list) and all(isinstance(x, str) for x in r) for r in sets)
        for api, sets in reasons.items()
    ):
        raise bad("field 'reasons' is not a map of API to lists of routing reasons")
    tools = data["tools"]
    if tools is not None and not (
        isinstance(tools, list) and all(isinstance(t, dict) for t in tools)
    ):
        raise bad("field 'tools' is not a list of tool objects")
    structured = data["structured"]
    if structured is not None and not (
        isinstance(structured, dict)
        and set(structured) == {"tool_name"}
        and isinstance(structured["tool_name"], str | None)
    ):
        raise bad("field 'structured' is not {'tool_name': ...}")
    return data


def _check_model(model: Any, bad: Any) -> None:
    if not isinstance(model, dict) or not set(model) <= set(_MODEL_KEYS):
        raise bad(f"field 'model' is not an object with keys among {', '.join(_MODEL_KEYS)}")
    for key, value in model.items():
        if value is not None and (not isinstance(value, str) or len(value) > 2048):
            raise bad(f"field 'model.{key}' is not a string")


def _check_parts(parts: Any, names: frozenset[str], bad: Any) -> list[dict[str, Any]]:
    if not isinstance(parts, list):
        raise bad("field 'parts' is not a list")
    for number, part in enumerate(parts):
        where = f"parts[{number}]"
        if not isinstance(part, dict) or set(part) != names:
            raise bad(f"field {where!r} does not hold exactly the fields of a BatchPart")
        if not isinstance(part["api"], str) or endpoints().get(part["api"]) != part["endpoint"]:
            raise bad(f"field '{where}.endpoint' does not match its api")
        for key in ("input_file_id", "batch_id", "output_file_id", "error_file_id"):
            value = part[key]
            if value is None and key in ("output_file_id", "error_file_id"):
                continue
            problem = plain_id_problem(value)
            if problem is not None:
                raise bad(f"field '{where}.{key}' {problem}")
        if not isinstance(part["status"], str) or part["status"] not in STATUSES:
            raise bad(f"field '{where}.status' is not a batch status")
        for key in ("lines", "completed", "failed"):
            if not _count(part[key]) or part[key] > _MAX_LINES:
                raise bad(f"field '{where}.{key}' is not an integer from 0 to {_MAX_LINES}")
        errors = part["errors"]
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise bad(f"field '{where}.errors' is not a list of objects")
    return parts
