"""After a stream's terminal event, the transport knows when the body's end is already here.

When it is, the connection goes back to the pool at once; when it is not, the transport
waits a short linger for it. A Content-Length body whose last byte has arrived must count
as ended: before this, every such stream (the benchmark server's, for one) waited out the
linger and then dropped its connection.
"""

from __future__ import annotations

from types import SimpleNamespace

import h11

from langchain_paramchat.transport.fastpath import _end_is_buffered


def _client_reading(head: bytes, body: bytes) -> h11.Connection:
    conn = h11.Connection(our_role=h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/v1/chat/completions", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(head + body)
    assert isinstance(conn.next_event(), h11.Response)
    assert isinstance(conn.next_event(), h11.Data)  # the whole body, up to [DONE]
    return conn


def test_a_content_length_body_read_to_its_last_byte_has_ended() -> None:
    body = b"data: [DONE]\n\n"
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    conn = _client_reading(head + f"content-length: {len(body)}\r\n\r\n".encode(), body)
    assert _end_is_buffered(SimpleNamespace(_h11_state=conn))


def test_a_chunked_body_without_its_last_chunk_has_not_ended() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    head += b"transfer-encoding: chunked\r\n\r\n"
    conn = _client_reading(head, b"e\r\ndata: [DONE]\n\n\r\n")
    assert not _end_is_buffered(SimpleNamespace(_h11_state=conn))
    conn.receive_data(b"0\r\n\r\n")
    assert _end_is_buffered(SimpleNamespace(_h11_state=conn))
