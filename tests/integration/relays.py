"""Loopback HTTP relays for integration tests: a forward proxy and a gateway in front of
FakeOpenAI. One request per connection, relayed as is apart from what each one changes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from urllib.parse import urlsplit

__all__ = ["GatewayRelay", "KeyEchoServer", "LoopbackProxy"]


class _Relay:
    """Accept connections on loopback in a thread; ``handle`` answers each one."""

    def __init__(self) -> None:
        self.seen: list[str] = []  # request lines as clients sent them
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                piece = conn.recv(65536)
                if not piece:
                    return
                head += piece
            head, _, body = head.partition(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)
            }
            while len(body) < int(headers.get("content-length", "0")):
                body += conn.recv(65536)
            self.seen.append(request_line)
            self.handle(conn, request_line, lines, headers, body)

    def handle(
        self,
        conn: socket.socket,
        request_line: str,
        lines: list[str],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        raise NotImplementedError

    @staticmethod
    def forward(
        conn: socket.socket,
        host: str,
        port: int,
        request_line: str,
        lines: list[str],
        body: bytes,
        add_to_reply: bytes = b"",
    ) -> None:
        """Send the request upstream (connection closed after it); relay the reply back."""
        kept = [
            line
            for line in lines
            if line.split(":")[0].strip().lower()
            not in ("proxy-authorization", "connection", "proxy-connection")
        ]
        out = "\r\n".join([request_line, *kept, "Connection: close"])
        with socket.create_connection((host, port)) as upstream:
            upstream.sendall(out.encode("latin-1") + b"\r\n\r\n" + body)
            reply = b""
            while b"\r\n\r\n" not in reply:
                piece = upstream.recv(65536)
                if not piece:
                    break
                reply += piece
            status, _, rest = reply.partition(b"\r\n")
            conn.sendall(status + b"\r\n" + add_to_reply + rest)
            while piece := upstream.recv(65536):
                conn.sendall(piece)


class LoopbackProxy(_Relay):
    """A forward HTTP proxy (absolute-form requests), with optional Basic proxy auth."""

    def __init__(self, credentials: tuple[str, str] | None = None, echo: bool = False) -> None:
        self.credentials = credentials
        self.echo = echo  # refuse every request, quoting its head (credentials) back
        self.refused = 0
        super().__init__()

    @property
    def url(self) -> str:
        auth = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def handle(
        self,
        conn: socket.socket,
        request_line: str,
        lines: list[str],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        if self.echo:
            self.refused += 1
            seen = headers.get("proxy-authorization", "").encode()
            quoted = json.dumps({"error": {"message": f"denied: {request_line} {lines}"}})
            conn.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Type: application/json"
                b"\r\nX-Seen: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (seen, len(quoted), quoted.encode())
            )
            return
        if self.credentials is not None:
            token = base64.b64encode(":".join(self.credentials).encode()).decode()
            if headers.get("proxy-authorization") != f"Basic {token}":
                self.refused += 1
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
                return
        method, target, version = request_line.split(" ")
        url = urlsplit(target)
        path = url.path + (f"?{url.query}" if url.query else "")
        assert url.hostname is not None and url.port is not None
        self.forward(conn, url.hostname, url.port, f"{method} {path} {version}", lines, body)


class GatewayRelay(_Relay):
    """A LangSmith-style gateway: serves ``/openai/v1/...`` from FakeOpenAI's ``/v1/...``,
    records each request's ``Authorization`` and answers with a gateway metadata header."""

    def __init__(self, upstream_port: int, metadata: str = '{"provider": "openai"}') -> None:
        self.upstream_port = upstream_port
        self.metadata = metadata
        self.keys: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(
        self,
        conn: socket.socket,
        request_line: str,
        lines: list[str],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        self.keys.append(headers.get("authorization", ""))
        method, target, version = request_line.split(" ")
        target = target.removeprefix("/openai")
        extra = f"X-LangSmith-Gateway-Metadata: {self.metadata}\r\n".encode()
        self.forward(
            conn,
            "127.0.0.1",
            self.upstream_port,
            f"{method} {target} {version}",
            lines,
            body,
            extra,
        )


class KeyEchoServer(_Relay):
    """Answer every request with a 401 quoting the key it carried, as OpenAI does, once
    ``together`` requests are in (or after 5 s): so many requests hold their keys at once."""

    def __init__(self, together: int) -> None:
        self._together = threading.Barrier(together, timeout=5)
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handle(
        self,
        conn: socket.socket,
        request_line: str,
        lines: list[str],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        key = headers.get("authorization", "").removeprefix("Bearer ")
        with contextlib.suppress(threading.BrokenBarrierError):
            self._together.wait()
        error = {"message": f"Incorrect API key provided: {key}.", "code": "invalid_api_key"}
        reply = json.dumps({"error": {**error, "type": "invalid_request_error"}}).encode()
        conn.sendall(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(reply), reply)
        )
