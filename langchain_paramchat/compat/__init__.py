"""ChatOpenAI's names and meanings, translated at the edges into ParamChat's.

Owns: ``names`` (the table of ChatOpenAI constructor and call names, what each becomes and
why) and ``translate`` (constructor and call kwargs translated by that table, ChatOpenAI's
settings fields, the README's migration table). Used only where a call enters (the model's
constructor and each call's kwargs), never inside the pipeline.
May import: ``_sdk``, ``errors``, ``options``, ``tools``.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("translate", "names")


def __getattr__(name: str) -> Any:
    for submodule in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{submodule}")
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
