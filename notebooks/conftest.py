"""Let notebook kernels import this checkout's package, installed or not.

nbmake starts each kernel in this folder, where ``import langchain_paramchat`` finds the
package only if it is installed (``pip install -e .``). The tests find it through the
working directory; the kernels get the same through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if _ROOT not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([_ROOT, *_paths])
