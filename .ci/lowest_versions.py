"""Print pip constraints pinning every runtime dependency to its lowest declared version.

CI's lowest-versions job installs with these, so ``pyproject.toml``'s ``>=`` floors are
tested rather than trusted. Read from pyproject, so the pins cannot drift from it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def lowest_pins() -> list[str]:
    """Return ``name==floor`` for each runtime dependency declared with ``>=``."""
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = []
    for dep in deps:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*).*", dep)
        if match is None:
            raise SystemExit(f"runtime dependency without a >= floor: {dep!r}")
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


if __name__ == "__main__":
    print("\n".join(lowest_pins()))
