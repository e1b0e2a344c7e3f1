"""Turn Batch API output and error files into result entries, with invoke's own parser.

Each output line's body goes through the adapter's ``parse_reply`` and the ``Finish`` step
invoke uses (route metadata, strict-null fix-up), plus what ``BaseChatModel.invoke`` adds
(generation info and ``llm_output`` merged into ``response_metadata``), so an entry equals
the ``AIMessage`` invoke returns for that reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.messages import AIMessage

from langchain_paramchat.batch.errors import BatchItemError
from langchain_paramchat.batch.lines import parse_custom_id

__all__ = ["Finisher", "parse_lines"]


class Finisher:
    """Build invoke's ``AIMessage`` from one reply body of one API."""

    def __init__(
        self,
        model: Any,
        api: str,
        reasons: Sequence[Sequence[str]],
        tools: Any,
        parser: Any = None,
    ) -> None:
        from langchain_paramchat.apis.adapter import adapter_for
        from langchain_paramchat.call.finish import Finish
        from langchain_paramchat.routing import Route

        self._model = model
        self._parse = adapter_for(api).parse_reply  # type: ignore[arg-type]
        self._finish = [
            Finish(Route(api, tuple(r)), tools)  # type: ignore[arg-type]
            for r in (reasons or [[]])
        ]
        self._parser = parser

    def message(self, body: dict[str, Any], reasons: int) -> AIMessage:
        """Return the message invoke would return for ``body``; raise as invoke would."""
        finish = self._finish[min(reasons, len(self._finish) - 1)]
        result = finish.result(self._parse(body), body)
        generation = result.generations[0]
        message = generation.message
        llm_output = result.llm_output if len(result.generations) == 1 else None
        message.response_metadata = {
            **(llm_output or {}),
            **(generation.generation_info or {}),
            **message.response_metadata,
        }
        if getattr(self._model, "output_version", None) == "v1":
            from langchain_core.language_models.chat_models import (
                _update_message_content_to_blocks,
            )

            message = _update_message_content_to_blocks(message, "v1")
        if self._parser is not None:
            message.additional_kwargs["parsed"] = self._parser.invoke(message)
        assert isinstance(message, AIMessage)
        return message


def parse_lines(
    lines: Iterable[str | bytes],
    finisher: Finisher,
    positions: dict[int, int] | None,
    entries: list[AIMessage | BatchItemError | None],
) -> None:
    """Fill ``entries`` (by input position) from the lines of an output or error file."""
    for raw in lines:
        if not raw.strip():
            continue
        line = json.loads(raw)
        custom_id = str(line.get("custom_id"))
        index, reasons = parse_custom_id(custom_id)
        position = index if positions is None else positions.get(index)
        if position is None or not 0 <= position < len(entries):
            continue
        entries[position] = _entry(line, index, custom_id, reasons, finisher)


def _entry(
    line: dict[str, Any], index: int, custom_id: str, reasons: int, finisher: Finisher
) -> AIMessage | BatchItemError:
    response = line.get("response") or {}
    error = line.get("error")
    status = response.get("status_code")
    body = response.get("body")
    request_id = response.get("request_id")
    if error:
        return BatchItemError(
            str(error.get("message") or "the request failed"),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=error.get("code"),
            request_id=request_id,
        )
    if status != 200 or not isinstance(body, dict):
        info = body.get("error") if isinstance(body, dict) else None
        info = info if isinstance(info, dict) else {}
        return BatchItemError(
            str(info.get("message") or f"the request answered HTTP {status}"),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=info.get("code"),
            error_type=info.get("type"),
            request_id=request_id,
            body=body,
        )
    try:
        return finisher.message(body, reasons)
    except Exception as exc:  # the same errors invoke raises, kept per item
        return BatchItemError(
            str(exc),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=getattr(exc, "code", None) or type(exc).__name__,
            request_id=request_id,
            body=body,
        )
