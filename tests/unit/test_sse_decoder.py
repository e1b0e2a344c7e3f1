"""The SSE decoder on its own, without sockets: line endings, fields, comments, the line cap."""

from __future__ import annotations

import pytest

from langchain_paramchat.errors import ResponseFormatError
from langchain_paramchat.transport import SSEDecoder


def decode(*chunks: bytes, max_line: int = 1 << 20) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder(max_line=max_line)
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_standard_line_ending_ends_lines_and_events(ending: bytes) -> None:
    wire = ending.join([b"event: a", b"data: 1", b"", b"data: 2", b"data: 3", b"", b""])
    assert decode(wire) == [("a", b"1"), (None, b"2\n3")]


def test_a_final_bare_cr_completes_the_last_event_at_once() -> None:
    # Nothing comes after the last CR: the event is complete without waiting for more bytes.
    assert decode(b"data: [DONE]\r\r") == [(None, b"[DONE]")]


def test_a_crlf_split_across_chunks_is_one_line_ending() -> None:
    assert decode(b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n") == [(None, b"x"), (None, b"y")]


def test_a_cr_then_a_chunk_that_does_not_start_with_lf() -> None:
    assert decode(b"data: x\r", b"\rdata: y\r\r") == [(None, b"x"), (None, b"y")]


def test_bytes_split_anywhere_decode_the_same() -> None:
    wire = b'event: e\r\ndata: {"a": "\xe2\x80\xa8"}\r\n\r\n: comment\n\ndata: 2\r\r'
    whole = decode(wire)
    for cut in range(1, len(wire)):
        assert decode(wire[:cut], wire[cut:]) == whole
    assert decode(*(wire[i : i + 1] for i in range(len(wire)))) == whole


def test_comments_ids_and_retry_are_skipped_and_events_need_data() -> None:
    wire = b": keep-alive\n\nid: 3\nretry: 10\nevent: lonely\n\ndata:no-space\n\n"
    assert decode(wire) == [(None, b"no-space")]


def test_a_bare_colon_and_one_byte_lines_are_read_like_any_other() -> None:
    # ":" alone is a comment (a keep-alive some proxies send); "x" is a field with no value.
    assert decode(b":\nx\ndata: 1\n\n") == [(None, b"1")]


def test_an_event_without_its_blank_line_is_never_dispatched() -> None:
    assert decode(b"data: cut off") == []
    assert decode(b"data: cut off\n") == []


def test_an_unterminated_line_longer_than_the_cap_fails_clearly() -> None:
    decoder = SSEDecoder(max_line=64)
    with pytest.raises(ResponseFormatError, match="longer than 64 bytes without a line ending"):
        for _ in range(10):
            decoder.feed(b"x" * 16)


def test_a_long_tail_after_a_line_ending_is_capped_too() -> None:
    decoder = SSEDecoder(max_line=64)
    with pytest.raises(ResponseFormatError, match="longer than 64 bytes"):
        decoder.feed(b"data: ok\n\n" + b"y" * 100)


def test_lines_up_to_the_cap_are_fine() -> None:
    assert decode(b"data: " + b"z" * 58, b"\n\n", max_line=64) == [(None, b"z" * 58)]
    # The same for a line at the cap that follows a line ending in its chunk.
    wire = b"data: a\ndata: " + b"z" * 58
    assert decode(wire, b"\n\n", max_line=64) == [(None, b"a\n" + b"z" * 58)]


def test_after_an_over_long_line_the_decoder_starts_clean() -> None:
    decoder = SSEDecoder(max_line=8)
    with pytest.raises(ResponseFormatError):
        decoder.feed(b"data: 0123456789")
    # Nothing of the refused line is kept: a full-length line fits again, and events flow.
    assert decoder.feed(b"data: 12") == []
    assert decoder.feed(b"\n\n") == [(None, b"12")]
