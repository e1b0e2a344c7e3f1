"""SSE framing: any bytes, cut anywhere, decode to the same events or a ResponseFormatError."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from langchain_paramchat.errors import ResponseFormatError
from langchain_paramchat.transport.sse import SSEDecoder
from tests.fuzz.profiles import fuzz_settings

# Bytes built from SSE's own syntax, so most examples are near-valid streams.
PIECES = st.sampled_from(
    [
        *(b"data:", b"data: ", b"event:", b"event: x", b"id: 1", b"retry: 5", b":", b" ", b"{}"),
        *(b"\n", b"\r", b"\r\n", b"\n\n", b"[DONE]", b"\xff", b"\xc3", b"\x00", b"\xe2\x80\xa8"),
    ]
)
STREAMS = st.one_of(
    st.binary(max_size=200),
    st.lists(st.one_of(PIECES, st.binary(max_size=6)), max_size=40).map(b"".join),
)
NAMES = st.text(st.characters(blacklist_characters="\r\n", codec="utf-8"), min_size=1, max_size=8)
DATA_LINES = st.lists(
    st.binary(max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b),
    min_size=1,
    max_size=3,
)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """Return ``data`` split at ``points`` (positions taken modulo its length)."""
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]


def decode(chunks: list[bytes], max_line: int | None = None) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder() if max_line is None else SSEDecoder(max_line)
    events: list[tuple[str | None, bytes]] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events


@fuzz_settings(scale=2)
@given(data=STREAMS, points=st.lists(st.integers(0, 400), max_size=12))
def test_events_do_not_depend_on_where_the_bytes_were_cut(data: bytes, points: list[int]) -> None:
    whole = decode([data])
    assert decode(cut(data, points)) == whole
    assert decode([bytes([b]) for b in data]) == whole


@fuzz_settings()
@given(
    events=st.lists(st.tuples(st.one_of(st.none(), NAMES), DATA_LINES), max_size=5),
    newline=st.sampled_from([b"\n", b"\r", b"\r\n"]),
    space=st.booleans(),
    points=st.lists(st.integers(0, 400), max_size=8),
)
def test_written_events_come_back_as_written(
    events: list[tuple[str | None, list[bytes]]],
    newline: bytes,
    space: bool,
    points: list[int],
) -> None:
    sep = b": " if space else b":"
    wire = b""
    for name, lines in events:
        wire += b": a comment" + newline
        if name is not None:
            wire += b"event" + sep + name.encode() + newline
        for line in lines:
            wire += b"data" + sep + line + newline
        wire += newline
    expected = [(name, b"\n".join(lines)) for name, lines in events]
    if space:
        # One space after the colon is syntax; a value that starts with one keeps the rest.
        assert decode(cut(wire, points)) == expected
    else:
        got = decode(cut(wire, points))
        strip = [(n, b"\n".join(x[1:] if x[:1] == b" " else x for x in d)) for n, d in events]
        assert got == strip


@fuzz_settings()
@given(
    line=st.binary(min_size=1, max_size=64).filter(lambda b: b"\r" not in b and b"\n" not in b),
    max_line=st.integers(1, 32),
    points=st.lists(st.integers(0, 64), max_size=6),
)
def test_a_line_past_the_limit_is_a_format_error_never_a_buffer(
    line: bytes, max_line: int, points: list[int]
) -> None:
    try:
        decode(cut(b"data: " + line, points), max_line=max_line)
    except ResponseFormatError as exc:
        assert str(max_line) in str(exc)
        assert len(b"data: " + line) > max_line
    else:
        assert len(b"data: " + line) <= max_line


@fuzz_settings()
@given(data=STREAMS, points=st.lists(st.integers(0, 400), max_size=12))
def test_an_incomplete_last_event_is_never_dispatched(data: bytes, points: list[int]) -> None:
    # Whatever follows the last blank line is an unfinished event.
    events = decode(cut(data, points))
    complete = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    head = complete[: complete.rfind(b"\n\n") + 2] if b"\n\n" in complete else b""
    assert decode([head]) == events
