"""pytest plugin for the peer run: write each test's outcome to ``$PARAMCHAT_PEER_REPORT``.

One JSON object ``{"outcomes": {test id: "passed" | "failed" | "other"}, "errors": {test id:
first line of the error}}``; "other" is skipped, xfailed or xpassed, which count neither
way. A test fails when any phase (setup, call, teardown) fails.
"""

from __future__ import annotations

import json
import os
from typing import Any

_OUTCOMES: dict[str, str] = {}
_ERRORS: dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    """Record a phase's outcome; a failure in any phase makes the test failed."""
    if hasattr(report, "wasxfail"):
        _OUTCOMES[report.nodeid] = "other"
    elif report.failed:
        _OUTCOMES[report.nodeid] = "failed"
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        _ERRORS.setdefault(report.nodeid, (message.strip().splitlines() or [""])[0][:300])
    elif report.skipped:
        _OUTCOMES.setdefault(report.nodeid, "other")
    elif report.when == "call":
        _OUTCOMES.setdefault(report.nodeid, "passed")


def pytest_sessionfinish(session: Any) -> None:
    """Write the outcomes collected during the session."""
    with open(os.environ["PARAMCHAT_PEER_REPORT"], "w") as f:
        json.dump({"outcomes": _OUTCOMES, "errors": _ERRORS}, f, indent=0, sort_keys=True)
