"""Scripted replies and faults for the fake OpenAI server, independent of which API serves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Audio", "Fault", "FaultKind", "RecordedRequest", "Reply", "ToolCall", "Usage"]

FaultKind = Literal[
    "status",
    "reset",
    "drop_mid_stream",
    "truncated",
    "malformed",
    "missing_fields",
    "stall",
    "slow",
    "stream_error",
]

# A stall never outlives this, so a forgotten fault cannot hang a test run.
MAX_STALL_SECONDS = 60.0


@dataclass
class ToolCall:
    """Describe one tool call the model makes; ``arguments`` given as a str is sent verbatim."""

    name: str
    arguments: str | dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    custom: bool = False


@dataclass
class Audio:
    """Describe an audio answer (Chat Completions only): base64 data plus its transcript."""

    data_b64: str
    transcript: str
    id: str | None = None
    expires_at: int | None = None


@dataclass
class Usage:
    """Give exact token counts for a reply instead of the ones computed from text lengths."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0
    cache_write_tokens: int = 0
    # Cache writes by lifetime (Responses' ``cache_write_tokens_details``), sent when given.
    cache_write_30m_tokens: int | None = None
    cache_write_12h_tokens: int | None = None


@dataclass
class Reply:
    """Script one model answer; the server renders it for whichever API the request used.

    ``audio``, ``choices`` and ``name`` (a speaker name, as some OpenAI-compatible servers
    send) apply to Chat Completions only; reasoning, ``output_items`` and
    ``encrypted_content`` (sent when the request's ``include`` asks) to Responses only.
    ``text``, ``refusal`` and tool-call arguments stream in pieces of ``chunk_size`` characters.

    Raises ``ValueError`` for a ``chunk_size`` below 1.
    """

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    refusal: str | None = None
    reasoning_summary: list[str] = field(default_factory=list)
    reasoning_text: str | None = None
    encrypted_content: str | None = None
    audio: Audio | None = None
    logprobs: bool = False
    citations: list[dict[str, Any]] = field(default_factory=list)
    output_items: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    choices: list[Reply] | None = None
    model: str | None = None
    name: str | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = "fp_test"
    id: str | None = None
    chunk_size: int = 4
    fault: Fault | None = None
    # Extra top-level reply fields (e.g. ``tool_usage``), on the response / completion and
    # on the streamed chunk that carries usage.
    response_fields: dict[str, Any] = field(default_factory=dict)
    # Extra HTTP response headers sent with this answer (e.g. a gateway's metadata header).
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size={self.chunk_size} must be at least 1")


@dataclass
class Fault:
    """Script a failure; build one with the classmethods, then queue it like a reply.

    Raises ``ValueError`` for ``times``, ``after_events`` or stall ``seconds`` out of range.
    """

    kind: FaultKind
    status_code: int = 200
    message: str = ""
    error_code: str | None = None
    error_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    after_events: int = 0
    seconds: float = 0.0
    reply: Reply | None = None
    body: str = ""
    content_type: str = "application/json"
    event: Literal["response.failed", "error"] = "response.failed"

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError(f"times={self.times} must be at least 1")
        if self.after_events < 0:
            raise ValueError(f"after_events={self.after_events} must not be negative")
        if not 0 <= self.seconds <= MAX_STALL_SECONDS:
            raise ValueError(f"seconds={self.seconds} must be between 0 and {MAX_STALL_SECONDS}")

    @classmethod
    def status(
        cls,
        code: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> Fault:
        """Answer HTTP ``code`` with an OpenAI-shaped error body, ``times`` requests in a row."""
        return cls(
            kind="status",
            status_code=code,
            message=message or f"Scripted error with status {code}",
            error_code=error_code,
            error_type=error_type or _default_error_type(code, error_code),
            headers=dict(headers or {}),
            times=times,
        )

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection before sending any response bytes."""
        return cls(kind="reset")

    @classmethod
    def drop_mid_stream(cls, after_events: int = 1, reply: Reply | None = None) -> Fault:
        """Send ``after_events`` SSE events (or half a JSON body), then abort the connection."""
        return cls(kind="drop_mid_stream", after_events=after_events, reply=reply)

    @classmethod
    def truncated(cls, after_events: int = 1, reply: Reply | None = None) -> Fault:
        """End the stream cleanly after ``after_events`` events, never sending the last one.

        A JSON answer is cut in half (with a matching Content-Length).
        """
        return cls(kind="truncated", after_events=after_events, reply=reply)

    @classmethod
    def malformed(cls, body: str = "{not json", content_type: str = "application/json") -> Fault:
        """Answer 200 with a body that is not JSON."""
        return cls(kind="malformed", body=body, content_type=content_type)

    @classmethod
    def missing_fields(cls) -> Fault:
        """Answer 200 with a JSON object that lacks ``choices`` / ``output``."""
        return cls(kind="missing_fields")

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Read the request, send nothing for ``seconds`` (at most 60), then close the connection.

        The stall ends early when the client hangs up or the server stops.
        """
        return cls(kind="stall", seconds=seconds)

    @classmethod
    def slow(cls, per_event_seconds: float, reply: Reply | None = None) -> Fault:
        """Serve ``reply`` with a pause before each SSE event (or before the JSON body)."""
        return cls(kind="slow", seconds=per_event_seconds, reply=reply)

    @classmethod
    def stream_error(
        cls,
        code: str = "server_error",
        message: str = "The model failed to generate a response.",
        *,
        event: Literal["response.failed", "error"] = "response.failed",
        after_events: int = 0,
    ) -> Fault:
        """End a stream with a failure after ``after_events`` events; use as ``Reply(fault=...)``.

        Responses streams end with ``response.failed`` or an ``error`` event; Chat Completions
        streams end with a ``data: {"error": ...}`` line; non-streamed Responses answer
        ``status: "failed"``, non-streamed Chat Completions a 500.
        """
        return cls(
            kind="stream_error",
            error_code=code,
            message=message,
            event=event,
            after_events=after_events,
        )


@dataclass(frozen=True)
class RecordedRequest:
    """Hold one request the server received, for assertions."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    api: Literal["chat_completions", "responses"] | None


def _default_error_type(code: int, error_code: str | None) -> str:
    if error_code == "insufficient_quota":
        return "insufficient_quota"
    if code == 429:
        return "requests"
    if code >= 500:
        return "server_error"
    return "invalid_request_error"
