"""Prepare every input as ``invoke`` would and write batch lines to JSONL files, streaming.

Each line's ``body`` is ``model.preview_request(input, **options).payload``: the model's own
prepare step, so options, bound tools, schemas and routing match a real-time call exactly.
Lines go to one file per endpoint, a new file every 50,000 lines or 200 MB (OpenAI's
limits); only the open file's buffer is held, so memory does not grow with the input count.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import IO, Any

from langchain_paramchat.apis.adapter import APIS, adapter_for
from langchain_paramchat.batch.errors import BatchInputError
from langchain_paramchat.errors import ParamChatError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINES",
    "InputFile",
    "LineWriter",
    "copy_lines",
    "custom_id",
    "endpoints",
    "input_indices",
    "line_index",
    "parse_custom_id",
    "write_lines",
]

MAX_LINES = 50_000
MAX_FILE_BYTES = 200 * 1024 * 1024
# custom_id is digits (and "~"), url an adapter's path: neither needs JSON escaping.
_HEAD = '{{"custom_id":"{}","method":"POST","url":"{}","body":'
_encode = json.JSONEncoder(separators=(",", ":")).encode
# What custom_id() writes: no sign, no leading zero, no "~0", at most 18 digits each.
_CUSTOM_ID = re.compile(r"(0|[1-9][0-9]{0,17})(?:~([1-9][0-9]{0,17}))?")


@cache
def endpoints() -> dict[str, str]:
    """Return each API's Batch API ``url`` for its lines: ``/v1`` and its adapter's path."""
    return {api: f"/v1{adapter_for(api).path}" for api in APIS}


@dataclass
class InputFile:
    """One JSONL file ready to upload: its endpoint, path on disk and line count."""

    api: str
    endpoint: str
    path: str
    lines: int = 0
    size: int = 0


@dataclass
class Written:
    """What ``write_lines`` produced: the files and, per API, the distinct routing reasons."""

    files: list[InputFile] = field(default_factory=list)
    reasons: dict[str, list[list[str]]] = field(default_factory=dict)
    count: int = 0


def custom_id(index: int, reasons: int) -> str:
    """Return a line's ``custom_id``: the input index, plus which reason set routed it if not 0."""
    return str(index) if reasons == 0 else f"{index}~{reasons}"


def parse_custom_id(value: str) -> tuple[int, int] | None:
    """Return ``(input index, reason set)`` from a ``custom_id`` made by :func:`custom_id`.

    None for anything :func:`custom_id` never writes (``"0_2"``, ``"01"``, ``"1~0"``, ``" 1"``).
    """
    match = _CUSTOM_ID.fullmatch(value)
    if match is None:
        return None
    return int(match[1]), int(match[2] or 0)


class LineWriter:
    """Write JSONL lines to one file per API, starting a new file at the line or byte limit."""

    def __init__(self, directory: str, max_lines: int, max_bytes: int) -> None:
        self.directory = directory
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.files: list[InputFile] = []
        self._open: dict[str, tuple[InputFile, IO[bytes]]] = {}

    def add(self, api: str, data: bytes) -> None:
        """Append one encoded line (ending in a newline) to ``api``'s current file."""
        current = self._open.get(api)
        if current is not None:
            info, _ = current
            if info.lines >= self.max_lines or info.size + len(data) > self.max_bytes:
                self._close(api)
                current = None
        if current is None:
            path = os.path.join(self.directory, f"{api}-{len(self.files)}.jsonl")
            info = InputFile(api, endpoints()[api], path)
            current = (info, open(path, "wb"))  # noqa: SIM115 - closed by _close
            self._open[api] = current
            self.files.append(info)
        info, handle = current
        handle.write(data)
        info.lines += 1
        info.size += len(data)

    def _close(self, api: str) -> None:
        _, handle = self._open.pop(api)
        handle.close()

    def close(self) -> None:
        """Close every open file."""
        for api in list(self._open):
            self._close(api)


def write_lines(
    model: Any,
    inputs: Iterable[Any],
    options: Mapping[str, Any],
    directory: str,
    *,
    max_lines: int | None = None,
    max_bytes: int | None = None,
) -> Written:
    """Prepare and write every input; a bad one raises ``BatchInputError`` naming its index."""
    writer = LineWriter(directory, max_lines or MAX_LINES, max_bytes or MAX_FILE_BYTES)
    written = Written()
    seen: dict[str, dict[tuple[str, ...], int]] = {}
    try:
        for index, item in enumerate(inputs):
            if "stream" in options:
                raise BatchInputError(index, ValueError("stream= cannot be used in a batch"))
            try:
                preview = model.preview_request(item, **options)
            except (ParamChatError, ValueError, TypeError) as exc:
                raise BatchInputError(index, exc) from exc
            known = seen.setdefault(preview.api, {})
            reasons = known.setdefault(preview.reasons, len(known))
            # The same object as {"custom_id", "method", "url", "body"}, without a dict per line.
            head = _HEAD.format(custom_id(index, reasons), endpoints()[preview.api])
            writer.add(preview.api, (head + _encode(preview.payload) + "}\n").encode())
            written.count += 1
    finally:
        writer.close()
    written.files = writer.files
    written.reasons = {api: [list(r) for r in known] for api, known in seen.items()}
    return written


def line_index(raw: bytes) -> int | None:
    """Return the input index of one line of an input file, or None when it names none."""
    try:
        line = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    found = line.get("custom_id") if isinstance(line, dict) else None
    parsed = parse_custom_id(found) if isinstance(found, str) else None
    return parsed[0] if parsed is not None else None


def input_indices(data: bytes) -> list[int]:
    """Return the input index of every line of an input file that names one."""
    found = (line_index(raw) for raw in data.splitlines() if raw.strip())
    return [index for index in found if index is not None]


def copy_lines(data: bytes, wanted: set[int], api: str, writer: LineWriter) -> None:
    """Write the lines of an input file whose input index is in ``wanted`` to ``writer``."""
    for raw in data.splitlines():
        if raw.strip() and line_index(raw) in wanted:
            writer.add(api, raw + b"\n")
