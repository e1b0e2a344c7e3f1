"""Execute notebooks top to bottom and save them with their outputs, for GitHub readers.

    python notebooks/execute.py                       # every notebook, one at a time
    python notebooks/execute.py 02_routing_and_preview.ipynb

Each runs in a fresh ``python3`` kernel started in ``notebooks/`` with this checkout first on
``PYTHONPATH`` (as nbmake runs them in CI). One at a time, because the local-model notebooks
keep the CPU busy. ``tests/unit/test_notebooks_saved.py`` checks what gets committed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_S = 300


def execute(path: Path) -> None:
    """Run ``path`` in a fresh kernel and write it back with outputs; raise on a failing cell."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
        # Outputs only: no per-cell timestamps, so re-running changes only what the cells show.
        record_timing=False,
    )
    client.execute()
    coalesce_streams(notebook)
    nbformat.write(notebook, path)


def coalesce_streams(notebook: nbformat.NotebookNode) -> None:
    """Merge consecutive stdout (or stderr) pieces of a cell into one output.

    A streamed reply arrives in many writes; saved one output each they read the same on
    GitHub but make every re-run a long diff.
    """
    for cell in notebook.cells:
        merged: list[nbformat.NotebookNode] = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == output.name
            ):
                last.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def main(argv: list[str]) -> int:
    """Execute the named notebooks (default: all) and report how long each took."""
    paths = [HERE / name for name in argv] or sorted(HERE.glob("*.ipynb"))
    paths_env = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths_env)
    for path in paths:
        started = time.monotonic()
        print(f"{path.name} ...", end=" ", flush=True)
        execute(path)
        print(f"saved with outputs ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
