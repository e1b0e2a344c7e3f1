"""Hypothesis profiles for tests/fuzz, registered as a pytest plugin by tests/conftest.py.

``fuzz`` (the default) keeps the whole folder within about a minute on a busy 2-core
machine: few examples, derandomized so the README's test command is repeatable run to run.
``long`` searches deeper with fresh random examples each run:

    python -m pytest -o addopts="" tests/fuzz --hypothesis-profile=long

The profiles are registered here, at plugin load, because hypothesis reads
``--hypothesis-profile`` before pytest collects tests/fuzz. Loading a profile changes the
defaults of every hypothesis test in the run; the fuzz tests take their settings from
:func:`fuzz_settings`, so the default run leaves the rest of the suite's settings alone.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

_COMMON: dict[str, Any] = {
    "deadline": None,  # a busy machine stalls any example now and then
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile(
    "fuzz", max_examples=40, derandomize=True, database=None, print_blob=True, **_COMMON
)
settings.register_profile("long", max_examples=2000, print_blob=True, **_COMMON)


def fuzz_settings(scale: float = 1.0, **overrides: Any) -> settings:
    """Return the settings for one fuzz test: the active profile, ``scale`` times its examples.

    The ``long`` profile applies when it was chosen with ``--hypothesis-profile=long``; any
    other choice (or none) runs the bounded ``fuzz`` profile.
    """
    name = "long" if settings.get_current_profile_name() == "long" else "fuzz"
    base = settings.get_profile(name)
    examples = max(1, round(base.max_examples * scale))
    return settings(base, max_examples=examples, **overrides)
