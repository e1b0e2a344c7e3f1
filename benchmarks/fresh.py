"""Time one target's import + construct (and first call) in this fresh process; print JSON.

Run by ``benchmarks.run`` as ``python -m benchmarks.fresh TARGET BASE_URL``, one process per
target and repetition. Only the standard library is imported before the clock starts.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TARGETS", "main"]

_KEY = "sk-bench-0000"
_MODEL = "gpt-4o-mini"
_PROMPT = "Say hello in one short sentence."


def _python(base_url: str) -> tuple[Any, Callable[[], str]]:
    return None, lambda: ""


def _floor(base_url: str) -> tuple[Any, Callable[[], str]]:
    import httpx2

    client = httpx2.Client(base_url=base_url)
    body = json.dumps({"model": _MODEL, "messages": [{"role": "user", "content": _PROMPT}]})
    headers = {"content-type": "application/json", "authorization": f"Bearer {_KEY}"}

    def call() -> str:
        reply = client.post("/chat/completions", content=body.encode(), headers=headers)
        return str(json.loads(reply.content)["choices"][0]["message"]["content"])

    return client, call


def _raw(base_url: str) -> tuple[Any, Callable[[], str]]:
    import openai

    client = openai.OpenAI(api_key=_KEY, base_url=base_url, max_retries=0)

    def call() -> str:
        messages: Any = [{"role": "user", "content": _PROMPT}]
        return (
            client.chat.completions.create(model=_MODEL, messages=messages)
            .choices[0]
            .message.content
            or ""
        )

    return client, call


def _chat_openai(base_url: str) -> tuple[Any, Callable[[], str]]:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model=_MODEL, api_key=_KEY, base_url=base_url)  # type: ignore[arg-type]
    return model, lambda: str(model.invoke(_PROMPT).text)


def _fake_model() -> Any:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class Fake(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "bench-fake"

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            reply = AIMessage("Hello! How can I help you today?")
            return ChatResult(generations=[ChatGeneration(message=reply)])

    return Fake()


def _lc_core(base_url: str) -> tuple[Any, Callable[[], str]]:
    model = _fake_model()
    return model, lambda: str(model.invoke(_PROMPT).text)


def _lc_core_openai(base_url: str) -> tuple[Any, Callable[[], str]]:
    import openai

    model = _fake_model()
    client = openai.OpenAI(api_key=_KEY, base_url=base_url, max_retries=0)
    return (model, client), lambda: str(model.invoke(_PROMPT).text)


def _paramchat(base_url: str) -> tuple[Any, Callable[[], str]]:
    from langchain_paramchat import ParamChat

    model = ParamChat(model=_MODEL, api_key=_KEY, base_url=base_url)
    return model, lambda: str(model.invoke(_PROMPT).text)


TARGETS: dict[str, Callable[[str], tuple[Any, Callable[[], str]]]] = {
    "python": _python,
    "floor": _floor,
    "raw": _raw,
    "lc-core": _lc_core,
    "lc-core + openai": _lc_core_openai,
    "ChatOpenAI": _chat_openai,
    "ParamChat": _paramchat,
}


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB. It also counts the peak of the process this one was
    # forked from, so benchmarks.run starts this module from a small shell, not from itself.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vm_hwm_mib() -> float | None:
    """Return the kernel's peak-RSS mark for this address space (Linux), as a cross-check."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None) -> None:
    """Measure the target named in ``argv`` and print one JSON object."""
    target, base_url = (argv if argv is not None else sys.argv[1:])[:2]
    started = time.perf_counter()
    _, call = TARGETS[target](base_url)
    constructed = time.perf_counter()
    rss_constructed = _peak_rss_mib()
    text = call()
    called = time.perf_counter()
    print(
        json.dumps(
            {
                "target": target,
                "import_construct_s": constructed - started,
                "first_call_s": called - constructed,
                "peak_rss_mib": rss_constructed,
                "peak_rss_after_call_mib": _peak_rss_mib(),
                "vm_hwm_after_call_mib": _vm_hwm_mib(),
                "text": text,
            }
        )
    )


if __name__ == "__main__":
    main()
