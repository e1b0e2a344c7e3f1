"""Run a GGUF model behind llama.cpp's own OpenAI-compatible server, in a child process.

Needs the ``local`` extra (``xllamacpp``, llama.cpp's C++ server as a prebuilt wheel). The
server runs in a child process, not in this one: xllamacpp stops an in-process server only by
joining its loop thread, which waits for every request in flight (30 s measured for one
unfinished stream), whereas a child process can always be stopped within a deadline, keeps
llama.cpp's log out of the caller's stderr, and a crash in native code cannot take the caller
down with it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from langchain_paramchat.errors import LocalModelError, OptionError
from langchain_paramchat.local.download import MODEL_FILENAME, fetch_model, last_lines

__all__ = ["LocalServer", "default_threads"]

_INSTALL_HINT = "pip install 'langchain-paramchat[local]'"
_UPGRADE_HINT = "pip install --upgrade 'langchain-paramchat[local]'"


class LocalServer:
    """Serve a GGUF model on loopback with llama.cpp's server, in a child process.

    ``with LocalServer() as base_url`` yields ``"http://127.0.0.1:PORT/v1"``, ready for
    ``openai.OpenAI(base_url=..., api_key=...)`` (any key works unless ``api_key`` is set).
    With no ``model_path`` the SmolLM2 model is fetched into the cache first. ``threads``
    (None: :func:`default_threads`) is how many CPU threads llama.cpp computes with.

    Raises ``OptionError`` for ``threads`` below 1 or a negative ``n_ctx``.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        alias: str = "smollm2",
        n_ctx: int = 4096,
        threads: int | None = None,
        api_key: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if threads is None:
            threads = default_threads()
        elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise OptionError("threads", threads, "must be a whole number, at least 1, or None")
        if n_ctx < 0:
            raise OptionError("n_ctx", n_ctx, "must be 0 (the model's own context size) or more")
        self.model_path = Path(model_path) if model_path is not None else None
        self.model = alias
        self.n_ctx = n_ctx
        self.threads = threads
        self.api_key = api_key
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self._log_path: Path | None = None
        self._address: str | None = None

    @property
    def base_url(self) -> str:
        """Return the OpenAI-style base URL (``http://127.0.0.1:PORT/v1``) of the running server.

        Raises ``LocalModelError`` when the server is not running.
        """
        if self._address is None:
            raise LocalModelError(
                "the local server is not running: use 'with LocalServer() as base_url:' "
                "or call start() first"
            )
        return f"{self._address}/v1"

    @property
    def log_path(self) -> Path | None:
        """Return the file that receives llama.cpp's log while the server runs."""
        return self._log_path

    def start(self) -> str:
        """Start the server, wait until ``/health`` answers, and return the base URL.

        Raises ``LocalModelError`` when the ``local`` extra is missing, the model file is not
        GGUF, or the server exits or is not healthy within ``startup_timeout``.
        """
        if self._process is not None:
            return self.base_url
        if importlib.util.find_spec("xllamacpp") is None:
            raise LocalModelError(
                f"LocalServer needs llama.cpp's server from the 'local' extra: {_INSTALL_HINT}"
            )
        model_path = self.model_path if self.model_path is not None else fetch_model()
        _check_gguf(model_path)
        deadline = time.monotonic() + self.startup_timeout
        self._spawn(model_path)
        try:
            self._address = self._await_address(deadline)
            self._await_health(deadline)
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the server: ask politely (close its stdin), then terminate, then kill."""
        process, self._process = self._process, None
        self._address = None
        if process is not None:
            _close_quietly(process.stdin)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            _close_quietly(process.stdout)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self._address or "stopped"
        return f"LocalServer(model={self.model!r}, {state})"

    def _spawn(self, model_path: Path) -> None:
        config = {
            "model": str(model_path),
            "alias": self.model,
            "n_ctx": self.n_ctx,
            "threads": self.threads,
            "api_key": self.api_key,
            "upgrade": _UPGRADE_HINT,
        }
        fd, log_name = tempfile.mkstemp(prefix="paramchat-llama-", suffix=".log")
        self._log_path = Path(log_name)
        with os.fdopen(fd, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_SCRIPT, json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                # Ctrl+C in a terminal reaches the whole foreground group; the parent owns the
                # child's lifetime and stops it from its own exit path instead.
                start_new_session=True,
            )

    def _await_address(self, deadline: float) -> str:
        process = self._process
        assert process is not None and process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=_pump_lines, args=(process.stdout, lines), daemon=True, name="paramchat-llama"
        ).start()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failure(f"did not start within {self.startup_timeout:g} s")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line == "":
                code = process.wait()
                raise self._failure(f"exited with code {code} before it was ready")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if "error" in message:
                raise self._failure(f"could not start: {message['error']}")
            if "address" in message:
                return str(message["address"])

    def _await_health(self, deadline: float) -> None:
        url = f"{self._address}/health"
        # Loopback only: a proxy from the environment must never see these requests.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        last = "no answer"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise self._failure("exited while loading the model")
            try:
                with opener.open(url, timeout=2.0) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:  # 503 while the model is still loading
                last = f"HTTP {exc.code}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise self._failure(f"{url} was not healthy within {self.startup_timeout:g} s ({last})")

    def _failure(self, what: str) -> LocalModelError:
        tail = _tail(self._log_path)
        message = f"llama.cpp's server for {self.model_path or MODEL_FILENAME} {what}"
        if tail:
            message += "\n--- server log (last lines) ---\n" + tail
        return LocalModelError(message)


def default_threads() -> int:
    """Return how many threads llama.cpp should use here: the cores no one else is using.

    llama.cpp's threads meet at a barrier after every step, so one thread that loses its core
    to another process stalls them all: on a busy 2-core machine with one more CPU-bound
    process, a 32-token reply took 2.7 s on one thread and did not finish within 120 s on
    two. With two cores or fewer that is 1; with more, the cores the last minute's load
    average leaves idle, between 1 and 4 (a small model gains little beyond that).
    """
    cores = os.cpu_count() or 1
    if cores <= 2:
        return 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        busy = 0.0
    return max(1, min(4, int(cores - busy)))


def _check_gguf(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise LocalModelError(f"cannot read the model file {path}: {exc}") from exc
    if magic != b"GGUF":
        raise LocalModelError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'); "
            "llama.cpp's server loads GGUF files only"
        )


def _pump_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    # stop() may close the pipe under this thread; that only ends the pumping.
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.put(line.strip())
    lines.put("")


def _tail(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    # llama.cpp marks errors with " E " after the timestamp; they say more than the last lines.
    errors = [line for line in text.splitlines() if " E " in line[:20]]
    return last_lines("\n".join(errors) if errors else text)


def _close_quietly(stream: IO[Any] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


# The child runs this script with nothing but xllamacpp imported: importing this package
# would load langchain-core and openai first (about 2 s) for nothing.
_CHILD_SCRIPT = """
import json, sys
import xllamacpp

config = json.loads(sys.argv[1])
try:
    params = xllamacpp.CommonParams()
    params.model.path = config["model"]
    params.model_alias = {config["alias"]}
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.n_ctx = config["n_ctx"]
    params.cpuparams.n_threads = config["threads"]
    params.cpuparams_batch.n_threads = config["threads"]
    params.use_jinja = True
    params.offline = True
    params.ui = False
    if config["api_key"]:
        params.api_keys = [config["api_key"]]
except AttributeError as exc:
    message = "xllamacpp %s is too old (%s): %s" % (xllamacpp.__version__, exc, config["upgrade"])
    print(json.dumps({"error": message}), flush=True)
    sys.exit(1)
try:
    server = xllamacpp.Server(params)
except RuntimeError as exc:
    print(json.dumps({"error": "failed to load the model: %s" % exc}), flush=True)
    sys.exit(1)
print(json.dumps({"address": server.listening_address}), flush=True)
# EOF on stdin means stop: the parent closed it, or the parent is gone.
sys.stdin.read()
del server
"""
