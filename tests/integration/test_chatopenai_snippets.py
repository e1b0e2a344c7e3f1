"""ChatOpenAI code, with only the import swapped, runs on ParamChat against the fake server.

Each snippet is the kind of code ChatOpenAI's own documentation shows. The test replaces
``from langchain_openai import ChatOpenAI`` with ``from langchain_paramchat import ParamChat
as ChatOpenAI`` (and nothing else), runs it with ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``
pointing at a fresh FakeOpenAI (``BASE_URL`` is also in scope for code that passes it), and
checks what the snippet got back and what reached the API.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall, Usage

IMPORT = "from langchain_openai import ChatOpenAI"
SWAPPED = "from langchain_paramchat import ParamChat as ChatOpenAI"

Check = Callable[[dict[str, Any], FakeOpenAI], None]


@dataclass
class Snippet:
    """One ChatOpenAI usage example, the replies to script, and what to check."""

    name: str
    code: str
    check: Check
    replies: tuple[Reply | Fault | str, ...] = ()
    extra_keys: tuple[str, ...] = field(default=())


SNIPPETS: list[Snippet] = []


def snippet(
    code: str, *replies: Reply | Fault | str, extra_keys: tuple[str, ...] = ()
) -> Callable[[Check], Check]:
    """Register the decorated check for ``code`` (named after the check function)."""

    def register(check: Check) -> Check:
        name = check.__name__.removeprefix("check_")
        SNIPPETS.append(Snippet(name, textwrap.dedent(code), check, replies, extra_keys))
        return check

    return register


def bodies(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.body for r in server.requests]


def paths(server: FakeOpenAI) -> list[str]:
    return [r.path for r in server.requests]


# --- construction, invoke, stream, batch, async ---------------------------------------------


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o", temperature=0, max_tokens=None, timeout=None, max_retries=2)
    messages = [
        ("system", "You are a helpful assistant that translates English to French."),
        ("human", "I love programming."),
    ]
    ai_msg = llm.invoke(messages)
    """,
    Reply(text="J'adore la programmation."),
)
def check_construct_and_invoke(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["ai_msg"].content == "J'adore la programmation."
    (body,) = bodies(server)
    assert body["model"] == "gpt-4o" and body["temperature"] == 0
    assert body["messages"][-1] == {"role": "user", "content": "I love programming."}


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    full = None
    for chunk in llm.stream("Tell me a joke"):
        full = chunk if full is None else full + chunk
    """,
    Reply(text="Why did the chicken cross the road?", usage=Usage(5, 8), chunk_size=4),
)
def check_stream(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["full"].content == "Why did the chicken cross the road?"
    assert ns["full"].usage_metadata["total_tokens"] == 13
    assert bodies(server)[0]["stream"] is True


@snippet(
    """
    import asyncio

    from langchain_openai import ChatOpenAI

    async def main():
        llm = ChatOpenAI(model="gpt-4o-mini")
        first = await llm.ainvoke("hi")
        parts = [chunk.content async for chunk in llm.astream("hi again")]
        return first, parts

    first, parts = asyncio.run(main())
    """,
)
def check_async_invoke_and_stream(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["first"].content == "Echo: hi"
    assert "".join(ns["parts"]) == "Echo: hi again"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    results = llm.batch(["red", "green", "blue"])
    """,
)
def check_batch(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert sorted(m.content for m in ns["results"]) == ["Echo: blue", "Echo: green", "Echo: red"]
    assert len(server.requests) == 3


@snippet(
    """
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI

    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{topic}")])
    chain = prompt | ChatOpenAI(model="gpt-4o-mini") | StrOutputParser()
    answer = chain.invoke({"topic": "bears"})
    """,
)
def check_lcel_chain(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["answer"] == "Echo: bears"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", streaming=True)
    msg = llm.invoke("hello")
    """,
    Reply(text="Hello!", chunk_size=2),
)
def check_streaming_flag(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["msg"].content == "Hello!"
    assert bodies(server)[0]["stream"] is True


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    msg = llm.invoke("Count: one, two", stop=["\\n", "three"])
    """,
)
def check_stop(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert bodies(server)[0]["stop"] == ["\n", "three"]


# --- tools and structured output ---------------------------------------------------------------

TOOLS = """
    from pydantic import BaseModel, Field

    from langchain_openai import ChatOpenAI

    class GetWeather(BaseModel):
        '''Get the current weather in a given location'''

        location: str = Field(..., description="The city and state, e.g. San Francisco, CA")

    class GetPopulation(BaseModel):
        '''Get the current population in a given location'''

        location: str = Field(..., description="The city and state, e.g. San Francisco, CA")

    llm = ChatOpenAI(model="gpt-4o-mini")
"""


@snippet(
    TOOLS
    + """
    llm_with_tools = llm.bind_tools([GetWeather, GetPopulation])
    ai_msg = llm_with_tools.invoke("Which city is hotter today and which is bigger: LA or NY?")
    """,
    Reply(tool_calls=[ToolCall("GetWeather", {"location": "Los Angeles, CA"}, id="call_1")]),
)
def check_bind_tools(ns: dict[str, Any], server: FakeOpenAI) -> None:
    (call,) = ns["ai_msg"].tool_calls
    assert call["name"] == "GetWeather" and call["args"] == {"location": "Los Angeles, CA"}
    names = [t["function"]["name"] for t in bodies(server)[0]["tools"]]
    assert names == ["GetWeather", "GetPopulation"]


@snippet(
    TOOLS
    + """
    forced = llm.bind_tools([GetWeather], tool_choice="any", strict=True)
    ai_msg = forced.invoke("Weather in Paris?")
    """,
    Reply(tool_calls=[ToolCall("GetWeather", {"location": "Paris"}, id="call_1")]),
)
def check_tool_choice_any_and_strict(ns: dict[str, Any], server: FakeOpenAI) -> None:
    body = bodies(server)[0]
    assert body["tool_choice"] == "required"
    assert body["tools"][0]["function"]["strict"] is True
    assert ns["ai_msg"].tool_calls[0]["args"] == {"location": "Paris"}


@snippet(
    TOOLS
    + """
    from langchain_core.messages import HumanMessage, ToolMessage

    llm_with_tools = llm.bind_tools([GetWeather])
    messages = [HumanMessage("Weather in Paris?")]
    ai_msg = llm_with_tools.invoke(messages)
    messages.append(ai_msg)
    for call in ai_msg.tool_calls:
        messages.append(ToolMessage("Sunny, 24 C", tool_call_id=call["id"]))
    final = llm_with_tools.invoke(messages)
    """,
    Reply(tool_calls=[ToolCall("GetWeather", {"location": "Paris"}, id="call_9")]),
    Reply(text="It is sunny in Paris."),
)
def check_tool_result_round_trip(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["final"].content == "It is sunny in Paris."
    sent = bodies(server)[1]["messages"]
    assert sent[-1] == {"role": "tool", "tool_call_id": "call_9", "content": "Sunny, 24 C"}


@snippet(
    TOOLS
    + """
    llm = ChatOpenAI(model="gpt-4o-mini", disabled_params={"parallel_tool_calls": None})
    ai_msg = llm.bind_tools([GetWeather], parallel_tool_calls=False).invoke("Weather?")
    """,
)
def check_disabled_params(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert "parallel_tool_calls" not in bodies(server)[0]


JOKE = """
    from typing import Optional

    from pydantic import BaseModel, Field

    from langchain_openai import ChatOpenAI

    class Joke(BaseModel):
        '''Joke to tell user.'''

        setup: str = Field(description="The setup of the joke")
        punchline: str = Field(description="The punchline to the joke")
        rating: Optional[int] = Field(description="How funny the joke is, from 1 to 10")

    llm = ChatOpenAI(model="gpt-4o-mini")
"""
JOKE_JSON = '{"setup": "Why cats?", "punchline": "Purr-fect.", "rating": 7}'


@snippet(
    JOKE
    + """
    structured_llm = llm.with_structured_output(Joke)
    joke = structured_llm.invoke("Tell me a joke about cats")
    """,
    Reply(text=JOKE_JSON),
)
def check_structured_output(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["joke"].punchline == "Purr-fect." and ns["joke"].rating == 7
    assert bodies(server)[0]["response_format"]["type"] == "json_schema"


@snippet(
    JOKE
    + """
    structured_llm = llm.with_structured_output(Joke, method="function_calling", include_raw=True)
    out = structured_llm.invoke("Tell me a joke about cats")
    """,
    Reply(tool_calls=[ToolCall("Joke", JOKE_JSON, id="call_j")]),
)
def check_structured_function_calling_include_raw(ns: dict[str, Any], server: FakeOpenAI) -> None:
    out = ns["out"]
    assert out["parsing_error"] is None and out["parsed"].setup == "Why cats?"
    assert out["raw"].tool_calls[0]["name"] == "Joke"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    json_llm = llm.with_structured_output(method="json_mode", schema=None)
    data = json_llm.invoke("Return a JSON object with a 'color' key.")
    """,
    Reply(text='{"color": "teal"}'),
)
def check_json_mode(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["data"] == {"color": "teal"}
    assert bodies(server)[0]["response_format"] == {"type": "json_object"}


@snippet(
    JOKE
    + """
    ai_msg = llm.invoke("Tell me a joke about cats", response_format=Joke)
    joke = ai_msg.additional_kwargs["parsed"]
    """,
    Reply(text=JOKE_JSON),
)
def check_response_format_class(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["joke"].setup == "Why cats?"
    assert bodies(server)[0]["response_format"]["json_schema"]["name"] == "Joke"


@snippet(
    JOKE
    + """
    jokes = list(llm.with_structured_output(Joke).stream("Tell me a joke about cats"))
    """,
    Reply(text=JOKE_JSON, chunk_size=5),
)
def check_structured_stream(ns: dict[str, Any], server: FakeOpenAI) -> None:
    # As with ChatOpenAI's json_schema method: only the finished, validated object.
    assert [j.punchline for j in ns["jokes"]] == ["Purr-fect."]


# --- Responses API, chaining, reasoning -------------------------------------------------------


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", use_responses_api=True)
    tool = {"type": "web_search_preview"}
    llm_with_tools = llm.bind_tools([tool])
    response = llm_with_tools.invoke("What was a positive news story from today?")
    """,
    Reply(text="A city planted 10,000 trees."),
)
def check_responses_builtin_tool(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["response"].text == "A city planted 10,000 trees."
    assert paths(server) == ["/v1/responses"]
    assert bodies(server)[0]["tools"] == [{"type": "web_search_preview"}]


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", output_version="responses/v1")
    response = llm.invoke("Hi")
    text_blocks = [b for b in response.content if b["type"] == "text"]
    """,
)
def check_output_version_responses(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert paths(server) == ["/v1/responses"]
    assert [b["text"] for b in ns["text_blocks"]] == ["Echo: Hi"]


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", output_version="v1")
    response = llm.invoke("Hi")
    """,
)
def check_output_version_v1(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["response"].content == [{"type": "text", "text": "Echo: Hi"}]


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", use_responses_api=True)
    response = llm.invoke("Hi, I'm Bob.")
    second = llm.invoke(
        "What is my name?", previous_response_id=response.response_metadata["id"]
    )
    """,
    Reply(text="Hi Bob!"),
    Reply(text="Your name is Bob."),
)
def check_previous_response_id(ns: dict[str, Any], server: FakeOpenAI) -> None:
    _, second = bodies(server)
    assert second["previous_response_id"] == ns["response"].response_metadata["id"]
    assert len(second["input"]) == 1
    assert ns["second"].text == "Your name is Bob."


@snippet(
    """
    from langchain_core.messages import HumanMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", use_previous_response_id=True)
    history = [HumanMessage("Hi, I'm Bob.")]
    history.append(llm.invoke(history))
    history.append(HumanMessage("What is my name?"))
    second = llm.invoke(history)
    """,
    Reply(text="Hi Bob!"),
    Reply(text="Your name is Bob."),
)
def check_use_previous_response_id(ns: dict[str, Any], server: FakeOpenAI) -> None:
    first, second = bodies(server)
    assert "previous_response_id" not in first
    assert second["previous_response_id"] == ns["history"][1].response_metadata["id"]
    assert len(second["input"]) == 1


@snippet(
    """
    from langchain_openai import ChatOpenAI

    reasoning = {"effort": "medium", "summary": "auto"}
    llm = ChatOpenAI(model="o4-mini", reasoning=reasoning)
    response = llm.invoke("What is 3^3?")
    summaries = [
        s["text"]
        for block in response.content
        if block["type"] == "reasoning"
        for s in block["summary"]
    ]
    """,
    Reply(text="27", reasoning_summary=["Cube 3: 3*3*3."]),
)
def check_reasoning_summary(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert paths(server) == ["/v1/responses"]
    assert bodies(server)[0]["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert ns["summaries"] == ["Cube 3: 3*3*3."]
    assert ns["response"].text == "27"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="o4-mini", reasoning_effort="low")
    response = llm.invoke("What is 3^3?")
    """,
    Reply(text="27", usage=Usage(10, 20, reasoning_tokens=12)),
)
def check_reasoning_effort(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert paths(server) == ["/v1/chat/completions"]
    assert bodies(server)[0]["reasoning_effort"] == "low"
    assert ns["response"].usage_metadata["output_token_details"]["reasoning"] == 12


# --- logprobs, usage, service tier, caching, headers -------------------------------------------


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    logprobs_llm = llm.bind(logprobs=True)
    msg = logprobs_llm.invoke("Say hi")
    first_tokens = msg.response_metadata["logprobs"]["content"][:5]
    """,
    Reply(text="Hi there", chunk_size=3),
)
def check_logprobs(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert "".join(t["token"] for t in ns["first_tokens"]) == "Hi there"
    assert bodies(server)[0]["logprobs"] is True


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", stream_usage=True)
    aggregate = None
    for chunk in llm.stream("hi"):
        aggregate = chunk if aggregate is None else aggregate + chunk
    ai_msg = llm.invoke("hi")
    """,
    Reply(text="Hello", usage=Usage(9, 2), chunk_size=2),
    Reply(text="Hello", usage=Usage(9, 2)),
)
def check_usage(ns: dict[str, Any], server: FakeOpenAI) -> None:
    want = {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11}
    for message in (ns["aggregate"], ns["ai_msg"]):
        assert {k: message.usage_metadata[k] for k in want} == want
    assert ns["ai_msg"].response_metadata["token_usage"]["total_tokens"] == 11
    assert bodies(server)[0]["stream_options"] == {"include_usage": True}


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="o4-mini", service_tier="flex")
    response = llm.invoke("hi")
    tier = response.response_metadata["service_tier"]
    """,
    Reply(text="ok", service_tier="flex"),
)
def check_service_tier(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert bodies(server)[0]["service_tier"] == "flex"
    assert ns["tier"] == "flex"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini")
    messages = [("system", "A long, shared system prompt. " * 50), ("human", "hi")]
    response = llm.invoke(messages, prompt_cache_key="example-key-a")
    cached = response.usage_metadata["input_token_details"]["cache_read"]
    """,
    Reply(text="ok", usage=Usage(1200, 3, cached_tokens=1024)),
)
def check_prompt_caching(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert bodies(server)[0]["prompt_cache_key"] == "example-key-a"
    assert ns["cached"] == 1024


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", include_response_headers=True)
    msg = llm.invoke("hi")
    request_id = msg.response_metadata["headers"]["x-request-id"]
    """,
)
def check_include_response_headers(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["request_id"].startswith("req_")


# --- names, extra parameters, other servers, errors, persistence -----------------------------


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", model_kwargs={"seed": 42, "user": "user-123"})
    msg = llm.invoke("hi")
    """,
)
def check_model_kwargs(ns: dict[str, Any], server: FakeOpenAI) -> None:
    body = bodies(server)[0]
    assert (body["seed"], body["user"]) == (42, "user-123")


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model="meta-llama/Llama-3.1-8B-Instruct",
        base_url=BASE_URL,
        api_key="EMPTY",
        extra_body={"top_k": 10, "repetition_penalty": 1.1},
    )
    msg = llm.invoke("hi")
    """,
    extra_keys=("top_k", "repetition_penalty"),
)
def check_openai_compatible_server_with_extra_body(ns: dict[str, Any], server: FakeOpenAI) -> None:
    body = bodies(server)[0]
    assert (body["top_k"], body["repetition_penalty"]) == (10, 1.1)
    assert server.requests[0].headers["authorization"] == "Bearer EMPTY"
    assert ns["msg"].content == "Echo: hi"


@snippet(
    """
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model_name="gpt-3.5-turbo",
        openai_api_key="sk-legacy-name",
        openai_api_base=BASE_URL,
        request_timeout=30,
        max_completion_tokens=64,
        stop_sequences=["END"],
    )
    msg = llm.invoke("hi")
    """,
)
def check_legacy_constructor_names(ns: dict[str, Any], server: FakeOpenAI) -> None:
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer sk-legacy-name"
    assert request.body["model"] == "gpt-3.5-turbo"
    assert (request.body["max_completion_tokens"], request.body["stop"]) == (64, ["END"])


@snippet(
    """
    import openai

    from langchain_openai import ChatOpenAI

    primary = ChatOpenAI(model="gpt-4o", max_retries=0)
    backup = ChatOpenAI(model="gpt-4o-mini", max_retries=0)
    chain = primary.with_fallbacks([backup], exceptions_to_handle=(openai.RateLimitError,))
    result = chain.invoke("hi")
    try:
        primary.invoke("hi")
    except openai.BadRequestError as exc:
        caught = exc
    """,
    Fault.status(429),
    Reply(text="from the backup"),
    Fault.status(400, message="bad input"),
)
def check_openai_exceptions_and_fallbacks(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["result"].content == "from the backup"
    assert [b["model"] for b in bodies(server)] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]
    assert ns["caught"].status_code == 400


@snippet(
    TOOLS
    + """
    from langchain_core.messages import HumanMessage, trim_messages

    history = [HumanMessage("Weather in Paris? " * 20), HumanMessage("And in Rome?")]
    n = llm.get_num_tokens_from_messages(history, tools=[GetWeather])
    trimmed = trim_messages(history, max_tokens=30, token_counter=llm, strategy="last")
    """,
)
def check_token_counting(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["n"] > 60
    assert [m.content for m in ns["trimmed"]] == ["And in Rome?"]
    assert server.requests == []


@snippet(
    """
    from langchain_core.load import dumpd, load
    from langchain_paramchat import ParamChat
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", temperature=0.2)
    restored = load(
        dumpd(llm),
        secrets_from_env=True,
        valid_namespaces=["langchain_paramchat"],
        allowed_objects=[ParamChat],
    )
    msg = restored.invoke("hi")
    """,
)
def check_dumpd_and_load(ns: dict[str, Any], server: FakeOpenAI) -> None:
    assert ns["restored"].temperature == 0.2
    assert ns["msg"].content == "Echo: hi"


def test_the_corpus_covers_what_chatopenai_users_write() -> None:
    assert len(SNIPPETS) >= 25
    assert all(s.code.count(IMPORT) == 1 for s in SNIPPETS)


@pytest.mark.parametrize("item", SNIPPETS, ids=[s.name for s in SNIPPETS])
def test_chatopenai_snippet_runs_with_only_the_import_changed(
    item: Snippet, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = item.code.replace(IMPORT, SWAPPED)
    assert "langchain_openai" not in code
    with FakeOpenAI(extra_keys=item.extra_keys) as server:
        server.add(*item.replies)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-snippet-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        namespace: dict[str, Any] = {"BASE_URL": server.base_url, "__name__": "snippet"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # load() is beta; token counts may be estimated
            # dont_inherit: the snippet runs without this module's `from __future__` imports.
            exec(compile(code, f"<snippet {item.name}>", "exec", dont_inherit=True), namespace)
        item.check(namespace, server)
        assert server.errors == []
