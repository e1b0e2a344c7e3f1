"""Turn Batch API output and error files into result entries, with invoke's own parser.

Each output line's body goes through the adapter's ``parse_reply`` and the ``Finish`` step
invoke uses (route metadata, strict-null fix-up), plus what ``BaseChatModel.invoke`` adds
(generation info and ``llm_output`` merged into ``response_metadata``), so an entry equals
the ``AIMessage`` invoke returns for that reply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage

from langchain_paramchat.apis.adapter import adapter_for
from langchain_paramchat.batch.errors import BatchItemError
from langchain_paramchat.batch.lines import parse_custom_id
from langchain_paramchat.call.finish import Finish
from langchain_paramchat.routing.decide import Route
from langchain_paramchat.secrets import Scrubber, scrub_json, snippet
from langchain_paramchat.transport.errors import MESSAGE_LIMIT

__all__ = ["Outcome", "ReplyReader", "read_line"]


class ReplyReader:
    """Build invoke's ``AIMessage`` from one reply body of one API."""

    def __init__(
        self,
        model: Any,
        api: str,
        reasons: Sequence[Sequence[str]],
        tools: Any,
        parser: Any = None,
    ) -> None:
        self._model = model
        self._parse = adapter_for(api).parse_reply  # type: ignore[arg-type]
        self._finish = [
            Finish(Route(api, tuple(r)), tools)  # type: ignore[arg-type]
            for r in (reasons or [[]])
        ]
        self._parser = parser
        self.scrub: Scrubber = model.transport.errors.scrub

    def knows(self, reasons: int) -> bool:
        """Return True when ``reasons`` names one of this API's routing reason sets."""
        return 0 <= reasons < len(self._finish)

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


@dataclass
class Outcome:
    """What reading output lines found besides answers: lines no input can be given."""

    problems: list[str] = field(default_factory=list)
    duplicates: set[int] = field(default_factory=set)

    def report(self, problem: str) -> None:
        """Keep one problem (the first hundred; a broken file is not held in memory)."""
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)


_MAX_PROBLEMS = 100


def read_line(
    raw: str,
    where: str,
    reader: ReplyReader,
    positions: dict[int, int] | None,
    entries: list[AIMessage | BatchItemError | None],
    outcome: Outcome,
) -> None:
    """Fill the entry (by input position) that one output or error line answers.

    A line is applied only to the input its ``custom_id`` names exactly; a line that is not
    a JSON object, has no such ``custom_id`` or names no input of this job is reported in
    ``outcome`` (``where`` names the line) and applied to none. A second line for one input
    makes that input a ``batch_duplicate`` error: which answer counts cannot be known.
    """
    if raw.strip():
        try:
            line = json.loads(raw)
        except (ValueError, RecursionError):
            outcome.report(f"{where} is not JSON: {snippet(raw, reader.scrub)!r}")
            return
        if not isinstance(line, dict):
            outcome.report(f"{where} is JSON but not an object ({type(line).__name__})")
            return
        found = line.get("custom_id")
        parsed = parse_custom_id(found) if isinstance(found, str) else None
        if parsed is None or not isinstance(found, str):
            shown = snippet(repr(found), reader.scrub)
            outcome.report(f"{where} has no custom_id this job wrote: {shown}")
            return
        index, reasons = parsed
        position = index if positions is None else positions.get(index)
        if position is None or not 0 <= position < len(entries) or not reader.knows(reasons):
            outcome.report(f"{where} answers custom_id {found!r}, which is no input of this job")
            return
        entry = _entry(line, index, found, reasons, reader)
        if entries[position] is not None or position in outcome.duplicates:
            outcome.duplicates.add(position)
            outcome.report(f"{where} answers custom_id {found!r} a second time")
            entries[position] = BatchItemError(
                "two output lines answer this input; which one counts cannot be known",
                index=index,
                custom_id=found,
                code="batch_duplicate",
            )
            return
        entries[position] = entry


def _entry(
    line: dict[str, Any], index: int, custom_id: str, reasons: int, reader: ReplyReader
) -> AIMessage | BatchItemError:
    scrub = reader.scrub
    response = line.get("response")
    response = response if isinstance(response, dict) else {}
    error: Any = line.get("error")
    status = response.get("status_code")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    body = response.get("body")
    request_id = _string(response.get("request_id"))
    if error:
        info = error if isinstance(error, dict) else {"message": str(error)}
        return BatchItemError(
            snippet(str(info.get("message") or "the request failed"), scrub, MESSAGE_LIMIT),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=_string(info.get("code")),
            request_id=request_id,
            body=scrub_json(info, scrub),
        )
    if status != 200 or not isinstance(body, dict):
        found: Any = body.get("error") if isinstance(body, dict) else None
        info = found if isinstance(found, dict) else {}
        return BatchItemError(
            snippet(
                str(info.get("message") or f"the request answered HTTP {status}"),
                scrub,
                MESSAGE_LIMIT,
            ),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=_string(info.get("code")),
            error_type=_string(info.get("type")),
            request_id=request_id,
            body=scrub_json(body, scrub),
        )
    try:
        return reader.message(body, reasons)
    except Exception as exc:  # the same errors invoke raises, kept per item
        return BatchItemError(
            snippet(str(exc), scrub, MESSAGE_LIMIT),
            index=index,
            custom_id=custom_id,
            status_code=status,
            code=_string(getattr(exc, "code", None)) or type(exc).__name__,
            request_id=request_id,
            body=scrub_json(body, scrub),
        )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
