"""What an id may look like before it goes into a URL path: ``resp_...``, ``batch_...``.

Ids given by the caller (``resume_response``) or read from a saved job or a server reply
become URL path segments. A ``/``, ``..``, a query or a megabyte of text there would reach
another endpoint or be sent as is; OpenAI's ids are short runs of letters, digits, ``_``
and ``-``, which is all this accepts.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_ID_CHARS", "plain_id_problem"]

MAX_ID_CHARS = 256
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def plain_id_problem(value: Any) -> str | None:
    """Return why ``value`` is not a plain id (a non-empty, bounded, URL-safe string), or None."""
    if not isinstance(value, str):
        return f"is not a string id ({type(value).__name__})"
    if not value or len(value) > MAX_ID_CHARS:
        return f"is not an id of 1 to {MAX_ID_CHARS} characters ({len(value)})"
    if not _PLAIN.fullmatch(value) or ".." in value:
        return f"{value[:80]!r} is not a plain id (letters, digits, '_', '-', '.', ':')"
    return None
