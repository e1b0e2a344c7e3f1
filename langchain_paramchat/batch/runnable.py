"""What a runnable handed to ``submit_batch`` holds: the model, bound options, a parser."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableBinding, RunnableSequence

from langchain_paramchat.batch.errors import BatchError
from langchain_paramchat.surface.model_class import model_class
from langchain_paramchat.tools.normalize import bound_tools
from langchain_paramchat.tools.structured import StructuredParser

__all__ = ["bound_tools_of", "unwrap"]


def unwrap(runnable: Any) -> tuple[Any, dict[str, Any], Any]:
    """Return ``(ParamChat, bound kwargs, structured-output parser or None)`` for a runnable.

    Accepts a ``ParamChat``, one bound with ``bind``/``bind_tools``, or the result of
    ``with_structured_output`` (without ``include_raw``); raises ``BatchError`` otherwise.
    """
    parser = None
    if (
        isinstance(runnable, RunnableSequence)
        and len(runnable.steps) == 2
        and isinstance(runnable.last, StructuredParser)
    ):
        parser = runnable.last
        runnable = runnable.first
    options: dict[str, Any] = {}
    while isinstance(runnable, RunnableBinding):
        options = {**runnable.kwargs, **options}
        runnable = runnable.bound
    if not isinstance(runnable, model_class()):
        raise BatchError(
            f"submit_batch needs a ParamChat, a model bound from one (bind, bind_tools) or "
            f"with_structured_output(...) without include_raw, not {type(runnable).__name__}"
        )
    return runnable, options, parser


def bound_tools_of(options: dict[str, Any]) -> Any:
    """Return the neutral tools bound in ``options`` (``tools`` and ``strict``), or None."""
    return bound_tools(options.get("tools"), options.get("strict"))
