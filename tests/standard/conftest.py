"""Tell fixtures whether their test passed, so checks after a test run only on a pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

_CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed


@pytest.fixture
def call_passed(request: pytest.FixtureRequest) -> Callable[[], bool]:
    """Return a function that says, during teardown, whether the test body passed."""
    return lambda: request.node.stash.get(_CALL_PASSED, False)
