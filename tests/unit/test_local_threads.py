"""LocalServer computes with as many threads as the machine can spare (langchain_paramchat.local).

llama.cpp's threads wait for each other after every step, so a thread that loses its core
to another process stalls the reply; on small or busy machines one thread is the fast choice.
"""

from __future__ import annotations

import os

import pytest

from langchain_paramchat.errors import OptionError
from langchain_paramchat.local import LocalServer, default_threads


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [
        (1, 0.0, 1),
        (2, 0.0, 1),
        (2, 5.0, 1),
        (4, 0.0, 4),
        (4, 1.5, 2),
        (4, 9.0, 1),
        (16, 2.0, 4),
    ],
)
def test_default_threads_leaves_busy_cores_alone(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert default_threads() == expected


def test_default_threads_without_a_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load() -> tuple[float, float, float]:
        raise OSError("no load average here")

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "getloadavg", no_load)
    assert default_threads() == 4


def test_local_server_uses_the_default_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert LocalServer().threads == 1
    assert LocalServer(threads=3).threads == 3


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_threads_are_refused_with_the_option_name(threads: object) -> None:
    with pytest.raises(OptionError, match="threads"):
        LocalServer(threads=threads)  # type: ignore[arg-type]
