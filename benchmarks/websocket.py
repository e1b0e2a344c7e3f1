"""A 20-turn tool loop over the Responses WebSocket mode vs HTTP, both ``store=False``.

Each round runs the same loop once per transport, in alternating order, against one
FakeOpenAI on loopback: the model asks for a tool, gets a 2 KB result back, 20 times, then
answers. It reports the median wall time per loop and the bytes the client sent (request
heads and bodies over HTTP; the upgrade request and frames over the socket), as counted by
the server. Loopback has no network latency, so the wall-time gap here is the client's and
the server's work per turn (encoding, sending and checking the growing history), not the
round trips a real network adds.

    python -m benchmarks.websocket [--rounds 7] [--turns 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall

RESULTS = Path(__file__).resolve().parent / "results"
TOOL_RESULT = "r" * 2048


@tool
def fetch_page(page: int) -> str:
    """Fetch one page of the document."""
    return TOOL_RESULT


def _script(server: FakeOpenAI, turns: int) -> None:
    for turn in range(turns):
        server.add(Reply(tool_calls=[ToolCall("fetch_page", {"page": turn}, id=f"call_{turn}")]))
    server.add("Read every page.")


def _loop(model: Any, turns: int) -> None:
    history: list[BaseMessage] = [HumanMessage("Read the whole document, page by page.")]
    for _ in range(turns + 1):
        reply = model.invoke(history)
        history.append(reply)
        for call in reply.tool_calls:
            history.append(ToolMessage(fetch_page.invoke(call["args"]), tool_call_id=call["id"]))
    assert reply.text == "Read every page.", reply.text


def _sent(server: FakeOpenAI) -> int:
    return server.http_bytes_received + server.websockets.counts.bytes_received


def run(rounds: int, turns: int) -> dict[str, Any]:
    """Run ``rounds`` interleaved rounds; return the measurements per transport."""
    walls: dict[str, list[float]] = {"http": [], "websocket": []}
    sent: dict[str, list[int]] = {"http": [], "websocket": []}
    with FakeOpenAI() as server:
        for i in range(rounds):
            order = ["http", "websocket"] if i % 2 == 0 else ["websocket", "http"]
            for transport in order:
                model = ParamChat(
                    model="gpt-4o",
                    base_url=server.base_url,
                    api_key="sk-bench",
                    api="responses",
                    store=False,
                    websocket=transport == "websocket",
                    pace=False,
                ).bind_tools([fetch_page])
                server.reset()
                _script(server, turns)
                start = time.perf_counter()
                _loop(model, turns)
                walls[transport].append(time.perf_counter() - start)
                sent[transport].append(_sent(server))
                assert server.errors == [], server.errors
    http_wall = statistics.median(walls["http"])
    ws_wall = statistics.median(walls["websocket"])
    http_sent = statistics.median(sent["http"])
    ws_sent = statistics.median(sent["websocket"])
    return {
        "turns": turns,
        "tool_result_bytes": len(TOOL_RESULT),
        "rounds": rounds,
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "median_wall_s": {"http": round(http_wall, 4), "websocket": round(ws_wall, 4)},
        "median_bytes_sent": {"http": int(http_sent), "websocket": int(ws_sent)},
        "wall_ratio": round(ws_wall / http_wall, 3),
        "bytes_ratio": round(ws_sent / http_sent, 3),
        "walls_s": walls,
        "bytes_sent": sent,
    }


def summary(result: dict[str, Any]) -> str:
    """Return the result as a short Markdown table."""
    wall, sent = result["median_wall_s"], result["median_bytes_sent"]
    return (
        f"{result['turns']}-turn tool loop, {result['tool_result_bytes']} B tool results, "
        f"store=False, median of {result['rounds']} interleaved rounds "
        f"(load average {result['load_average']}):\n\n"
        "| transport | wall time per loop | bytes sent |\n|---|---|---|\n"
        f"| HTTP | {wall['http'] * 1000:.0f} ms | {sent['http']:,} |\n"
        f"| WebSocket | {wall['websocket'] * 1000:.0f} ms | {sent['websocket']:,} |\n"
        f"| ratio | {result['wall_ratio']:.2f}x | {result['bytes_ratio']:.2f}x |\n"
    )


def main() -> None:
    """Run the benchmark and write ``results/websocket.json`` and ``results/websocket.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args.rounds, args.turns)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "websocket.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "websocket.md").write_text(summary(result))
    print(summary(result))


if __name__ == "__main__":
    main()
