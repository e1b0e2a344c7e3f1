"""Responses WebSockets owned safely: per process, per event loop, one response per socket.

A pool hands each call a socket of its own (an idle one, preferring the socket whose cached
response the call continues, or a new one up to ``POOL_SIZE``; past that the call waits).
Sockets are never shared across processes (a forked child forgets its parent's without
closing them), event loops (async sockets belong to the loop that opened them and are let go
when it closes) or concurrent callers. A socket older than ``MAX_AGE`` is closed at the next
turn boundary, before OpenAI's 60-minute limit; every pool is closed with its transport and
at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

from langchain_paramchat.transport.websocket_chain import Record

__all__ = ["MAX_AGE", "POOL_SIZE", "AsyncPool", "Socket", "SyncPool"]

MAX_AGE = 55 * 60.0
"""Seconds a socket is used for new turns: five minutes short of OpenAI's 60-minute limit."""
POOL_SIZE = 16
"""Sockets one model keeps per process (or per event loop) at most; more callers wait."""

C = TypeVar("C")
_LIVE: weakref.WeakSet[SyncPool] = weakref.WeakSet()


class Socket(Generic[C]):
    """One open WebSocket (``conn``), when it opened and what its last turn left cached."""

    __slots__ = ("conn", "headers", "opened_at", "record")

    def __init__(self, conn: C, headers: dict[str, str]) -> None:
        self.conn = conn
        self.headers = headers
        self.opened_at = time.monotonic()
        self.record: Record | None = None


def _is_open(conn: Any) -> bool:
    state = getattr(getattr(conn, "protocol", None), "state", None)
    return getattr(state, "name", "OPEN") == "OPEN"


def _drop_socket(conn: Any) -> None:
    """Close a socket's file descriptor without a close handshake (fork, closed loop)."""
    with contextlib.suppress(Exception):
        transport = getattr(conn, "transport", None)
        raw = transport.get_extra_info("socket") if transport is not None else conn.socket
        getattr(raw, "_sock", raw).close()


class _PoolState(Generic[C]):
    """What the sync and async pools share: idle sockets, the count in use, the rules."""

    def __init__(self, max_age: float, size: int) -> None:
        self.max_age = max_age
        self.size = size
        self.idle: list[Socket[C]] = []
        self.busy = 0
        self.opened = 0

    def take(
        self, prefer: Callable[[Record | None], bool]
    ) -> tuple[Socket[C] | None, bool, list[C]]:
        """Return (an idle socket or None, whether a new one may be opened, sockets to close)."""
        now = time.monotonic()
        stale = [s for s in self.idle if now - s.opened_at > self.max_age or not _is_open(s.conn)]
        if stale:
            self.idle = [s for s in self.idle if s not in stale]
        chosen = next((s for s in reversed(self.idle) if prefer(s.record)), None)
        if chosen is None and self.idle:
            chosen = self.idle[-1]
        if chosen is not None:
            self.idle.remove(chosen)
            self.busy += 1
            return chosen, False, [s.conn for s in stale]
        may_open = self.busy + len(self.idle) < self.size
        if may_open:
            self.busy += 1
        return None, may_open, [s.conn for s in stale]


class SyncPool:
    """Sockets of one model in one process, for blocking calls."""

    def __init__(self, max_age: float = MAX_AGE, size: int = POOL_SIZE) -> None:
        self._state: _PoolState[Any] = _PoolState(max_age, size)
        self._cond = threading.Condition()
        self._pid = os.getpid()
        _LIVE.add(self)

    @property
    def max_age(self) -> float:
        """Seconds a socket takes new turns."""
        return self._state.max_age

    @max_age.setter
    def max_age(self, value: float) -> None:
        self._state.max_age = value

    def _reset_if_forked(self) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's sockets are not ours
            self._state = _PoolState(self._state.max_age, self._state.size)
            self._cond = threading.Condition()
            self._pid = os.getpid()

    def acquire(
        self, prefer: Callable[[Record | None], bool], wait: float | None
    ) -> Socket[Any] | None:
        """Return an idle socket, or None when the caller may open one; wait while all are busy.

        Raises ``TimeoutError`` when none frees up within ``wait`` seconds.
        """
        self._reset_if_forked()
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while True:
                sock, may_open, stale = self._state.take(prefer)
                for conn in stale:
                    _drop_socket(conn)
                if sock is not None or may_open:
                    return sock
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("every WebSocket of this model is busy")
                self._cond.wait(left)

    def release(self, sock: Socket[Any] | None, *, keep: bool) -> None:
        """Give a socket back after a turn (``keep``) or drop it; None frees an unused slot."""
        with self._cond:
            if self._pid != os.getpid():
                return
            self._state.busy -= 1
            kept = sock is not None and keep and _is_open(sock.conn)
            if kept and sock is not None:
                self._state.idle.append(sock)
            self._cond.notify()
        if sock is not None and not kept:
            _close_quietly(sock.conn)

    def opened(self) -> None:
        """Count a socket opened for this pool."""
        self._state.opened += 1

    def close(self) -> None:
        """Close every idle socket (sockets in use close when their turn ends)."""
        with self._cond:
            idle, self._state.idle = self._state.idle, []
        if self._pid == os.getpid():
            for sock in idle:
                _close_quietly(sock.conn)


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()


class AsyncPool:
    """Sockets of one model for one event loop; a new loop gets a new pool."""

    def __init__(self, max_age: float = MAX_AGE, size: int = POOL_SIZE) -> None:
        self._state: _PoolState[Any] = _PoolState(max_age, size)
        self._freed = asyncio.Event()
        self.loop = weakref.ref(asyncio.get_running_loop())
        self._pid = os.getpid()
        self.closer = _close_with_loop(self)

    @property
    def max_age(self) -> float:
        """Seconds a socket takes new turns."""
        return self._state.max_age

    @max_age.setter
    def max_age(self, value: float) -> None:
        self._state.max_age = value

    async def acquire(
        self, prefer: Callable[[Record | None], bool], wait: float | None
    ) -> Socket[Any] | None:
        """Async twin of ``SyncPool.acquire``."""
        async with asyncio.timeout(wait):
            while True:
                sock, may_open, stale = self._state.take(prefer)
                for conn in stale:
                    await _aclose_quietly(conn)
                if sock is not None or may_open:
                    return sock
                self._freed.clear()
                await self._freed.wait()

    async def release(self, sock: Socket[Any] | None, *, keep: bool) -> None:
        """Async twin of ``SyncPool.release``."""
        self._state.busy -= 1
        if sock is not None and keep and _is_open(sock.conn):
            self._state.idle.append(sock)
        elif sock is not None:
            await _aclose_quietly(sock.conn)
        self._freed.set()

    def opened(self) -> None:
        """Count a socket opened for this pool."""
        self._state.opened += 1

    async def aclose(self) -> None:
        """Close every idle socket with a close handshake."""
        idle, self._state.idle = self._state.idle, []
        for sock in idle:
            await _aclose_quietly(sock.conn)

    def drop(self) -> None:
        """Let go of every idle socket without awaiting (the model was collected, its loop is
        gone, or this is a forked child).

        While the pool's loop is open in this process, the loop still watches each socket's
        file descriptor: closing the descriptor under it would let the next socket reuse the
        number ("File descriptor N is used by transport"), so the loop aborts the socket
        itself. Otherwise the descriptor is closed directly.
        """
        idle, self._state.idle = self._state.idle, []
        loop = self.loop()
        live = loop is not None and not loop.is_closed() and self._pid == os.getpid()
        for sock in idle:
            if live and loop is not None:
                _abort_on(loop, sock.conn)
            else:
                _drop_socket(sock.conn)

    def usable(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Return True when this pool belongs to ``loop`` in this process."""
        return self.loop() is loop and self._pid == os.getpid()


def _abort_on(loop: asyncio.AbstractEventLoop, conn: Any) -> None:
    """Abort ``conn``'s transport on ``loop`` (from any thread); close it directly if the
    loop closed meanwhile."""
    transport = getattr(conn, "transport", None)
    if transport is None:
        _drop_socket(conn)
        return
    try:
        loop.call_soon_threadsafe(transport.abort)
    except RuntimeError:  # the loop closed after the check
        _drop_socket(conn)


async def _aclose_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        await conn.close()


async def _closer(pool: AsyncPool) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await pool.aclose()


def _close_with_loop(pool: AsyncPool) -> AsyncGenerator[None, None]:
    """Return a started async generator that closes ``pool`` when its loop shuts down.

    ``asyncio.run`` closes started async generators in ``shutdown_asyncgens()`` while the
    loop still runs, so the sockets get a proper close handshake there.
    """
    closer = _closer(pool)
    with contextlib.suppress(StopIteration):
        closer.__anext__().send(None)
    return closer


class AsyncPools:
    """One ``AsyncPool`` per event loop for one model; pools of closed loops are let go."""

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._by_loop: dict[int, AsyncPool] = {}
        self._lock = threading.Lock()

    def current(self) -> AsyncPool:
        """Return the running loop's pool, creating it on first use."""
        loop = asyncio.get_running_loop()
        pool = self._by_loop.get(id(loop))
        if pool is not None and pool.usable(loop):
            pool.max_age = self.max_age
            return pool
        with self._lock:
            gone = [
                key
                for key, old in self._by_loop.items()
                if (other := old.loop()) is None or other.is_closed() or other is loop
            ]
            released = [self._by_loop.pop(key) for key in gone]
            pool = self._by_loop[id(loop)] = AsyncPool(self.max_age)
        for old in released:
            old.drop()
        return pool

    def drop_all(self) -> None:
        """Let go of every loop's sockets without awaiting."""
        with self._lock:
            pools, self._by_loop = list(self._by_loop.values()), {}
        for pool in pools:
            pool.drop()

    async def aclose(self) -> None:
        """Close the running loop's sockets."""
        pool = self._by_loop.pop(id(asyncio.get_running_loop()), None)
        if pool is not None:
            await pool.aclose()


def _close_all_at_exit() -> None:
    for pool in list(_LIVE):
        pool.close()


atexit.register(_close_all_at_exit)
