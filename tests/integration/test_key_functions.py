"""Callable API keys, as ChatOpenAI takes them: a sync or async function called per request.

Through the real SDK over loopback: the key each request carries is the one the function
returned for it (rotating keys reach the server in order), on both APIs, invoke and stream,
sync and async; an async-only function refuses sync calls with ChatOpenAI's error before
anything is sent; a function is never called to show the model, and its keys never appear in
errors; pickles carry a module-level function by reference and refuse any other callable;
models share SDK clients only with models using the very same function.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.load import dumps

from langchain_paramchat import OptionError, ParamChat, secrets
from langchain_paramchat.errors import (
    AuthenticationError,
    DeadlineExceededError,
    KeyProviderError,
    ParamChatError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault
from langchain_paramchat.transport import credentials
from tests.integration.relays import KeyEchoServer

APIS = ["chat_completions", "responses"]
MODES = ["invoke", "stream", "ainvoke", "astream"]
_COUNTER = itertools.count()


def rotating_key() -> str:
    """A module-level key function (pickles by reference): a new key on every call."""
    return f"sk-rotating-SECRET-{next(_COUNTER):06d}"


def model(server: FakeOpenAI, api: str, key: Any, **kwargs: Any) -> ParamChat:
    return ParamChat(base_url=server.base_url, api_key=key, api=api, max_retries=0, **kwargs)


async def call(chat: ParamChat, mode: str, text: str = "hi") -> str:
    if mode == "invoke":
        return chat.invoke(text).text
    if mode == "ainvoke":
        return (await chat.ainvoke(text)).text
    if mode == "stream":
        return "".join(chunk.text for chunk in chat.stream(text))
    return "".join([chunk.text async for chunk in chat.astream(text)])


def sent_keys(server: FakeOpenAI) -> list[str]:
    return [r.headers.get("authorization", "") for r in server.requests]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
def test_a_sync_key_function_is_asked_once_per_request_and_its_key_is_sent(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    given: list[str] = []

    def vault() -> str:
        given.append(f"sk-vault-SECRET-{len(given)}-{mode}")
        return given[-1]

    chat = model(fake_openai, api, vault)
    for i in range(3):
        assert asyncio.run(call(chat, mode, f"q{i}")) == f"Echo: q{i}"
    assert sent_keys(fake_openai) == [f"Bearer {key}" for key in given]
    assert len(given) == 3  # rotated on every request, never cached


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["ainvoke", "astream"])
def test_an_async_key_function_is_awaited_per_async_request(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    given: list[str] = []

    async def token_service() -> str:
        await asyncio.sleep(0)
        given.append(f"sk-async-SECRET-{len(given)}")
        return given[-1]

    chat = model(fake_openai, api, token_service)

    async def twice() -> list[str]:
        return [await call(chat, mode, "a"), await call(chat, mode, "b")]

    assert asyncio.run(twice()) == ["Echo: a", "Echo: b"]
    assert sent_keys(fake_openai) == [f"Bearer {key}" for key in given]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_a_sync_call_with_an_async_only_key_function_fails_as_in_chatopenai(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    async def token_service() -> str:
        return "sk-async-SECRET-never"

    chat = model(fake_openai, api, token_service)
    with pytest.raises(ValueError, match="Sync client is not available") as info:
        asyncio.run(call(chat, mode))
    assert isinstance(info.value, KeyProviderError)
    assert fake_openai.requests == []  # refused before anything was sent


@pytest.mark.parametrize(
    ("returned", "described"),
    [(None, "NoneType"), ("", "empty"), ("sk-bad\r\nX-Injected: 1", "line break"), (42, "int")],
)
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_a_key_function_returning_no_usable_key_fails_before_sending(
    fake_openai: FakeOpenAI, returned: object, described: str, mode: str
) -> None:
    chat = model(fake_openai, "chat_completions", lambda: returned)
    with pytest.raises(KeyProviderError, match=described) as info:
        asyncio.run(call(chat, mode))
    assert "sk-bad" not in str(info.value) and "<lambda>" in str(info.value)
    assert fake_openai.requests == []


def test_a_key_function_is_never_called_to_show_the_model(fake_openai: FakeOpenAI) -> None:
    calls: list[int] = []

    class TokenCache:
        """A callable object whose state holds a secret: never shown, never called."""

        refresh_token = "rt-SECRET-in-state"

        def __call__(self) -> str:
            calls.append(1)
            return "sk-object-SECRET"

    chat = model(fake_openai, "chat_completions", TokenCache())
    shown = [
        repr(chat),
        str(chat),
        chat.model_dump_json(),
        str(chat.model_dump()),
        dumps(chat),
        repr(chat.transport),
        repr(chat.transport.settings),
    ]
    assert calls == []
    assert all("SECRET" not in text for text in shown), shown
    assert "<key provider" in repr(chat)


@pytest.mark.parametrize("mode", MODES)
def test_a_key_a_server_echoes_back_never_reaches_the_error(
    fake_openai: FakeOpenAI, mode: str
) -> None:
    key = "sk-echoed-SECRET-0123456789abcdef"
    fake_openai.add(Fault.status(401, message=f"Incorrect API key provided: {key}."))
    chat = model(fake_openai, "responses", lambda: key)
    with pytest.raises(AuthenticationError) as info:
        asyncio.run(call(chat, mode))
    error = info.value
    shown = str(error) + repr(error) + repr(error.body) + repr(pickle.loads(pickle.dumps(error)))
    assert key not in shown and "[redacted]" in shown


def test_a_module_level_key_function_travels_in_a_pickle_by_reference(
    fake_openai: FakeOpenAI,
) -> None:
    chat = model(fake_openai, "chat_completions", rotating_key)
    data = pickle.dumps(chat)
    assert b"SECRET" not in data and b"rotating_key" in data
    copy = pickle.loads(data)
    assert copy.api_key is rotating_key
    assert copy.invoke("from a worker").text == "Echo: from a worker"
    assert sent_keys(fake_openai)[-1].startswith("Bearer sk-rotating-SECRET-")


@pytest.mark.parametrize(
    "make",
    [
        lambda: lambda: "sk-closure-SECRET",
        lambda: (lambda token: lambda: token)("sk-closure-SECRET"),
        lambda: __import__("functools").partial(str, "sk-partial-SECRET"),
    ],
    ids=["lambda", "closure", "partial"],
)
def test_other_key_functions_are_refused_by_pickle_saying_how_workers_get_a_key(
    fake_openai: FakeOpenAI, make: Callable[[], Any]
) -> None:
    chat = model(fake_openai, "chat_completions", make())
    with pytest.raises(OptionError, match="api_key") as info:
        pickle.dumps(chat)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and "module" in message and "SECRET" not in message


def test_models_share_sdk_clients_only_with_the_same_key_function(
    fake_openai: FakeOpenAI,
) -> None:
    def first() -> str:
        return "sk-first-SECRET"

    def second() -> str:
        return "sk-second-SECRET"

    a, b = (model(fake_openai, "chat_completions", first) for _ in range(2))
    c = model(fake_openai, "chat_completions", second)
    d = model(fake_openai, "chat_completions", "sk-first-SECRET")
    clients = [m.transport.clients for m in (a, b, c, d)]
    assert clients[0] is clients[1]
    assert len({id(x) for x in clients[1:]}) == 3
    for chat in (a, c, d):
        chat.invoke("x")
    assert sent_keys(fake_openai) == [
        "Bearer sk-first-SECRET",
        "Bearer sk-second-SECRET",
        "Bearer sk-first-SECRET",
    ]


def test_key_functions_of_dropped_models_are_released(fake_openai: FakeOpenAI) -> None:
    gc.collect()
    before = len(credentials._PROVIDERS)
    for i in range(40):
        key = f"sk-short-lived-{i}"
        model(fake_openai, "chat_completions", lambda key=key: key).transport  # noqa: B018
    gc.collect()
    # The shared-client cache keeps the 16 most recent settings; nothing beyond them stays.
    assert len(credentials._PROVIDERS) - before <= 16


def test_an_authorization_default_header_wins_over_the_key_function(
    fake_openai: FakeOpenAI,
) -> None:
    calls: list[int] = []

    def vault() -> str:
        calls.append(1)
        return "sk-vault-SECRET"

    chat = model(
        fake_openai, "chat_completions", vault, default_headers={"Authorization": "Bearer mine"}
    )
    chat.invoke("x")
    assert sent_keys(fake_openai) == ["Bearer mine"] and calls == []


def test_each_new_websocket_is_opened_with_a_fresh_key(fake_openai: FakeOpenAI) -> None:
    pytest.importorskip("websockets")
    given: list[str] = []

    def vault() -> str:
        given.append(f"sk-socket-SECRET-{len(given)}")
        return given[-1]

    chat = model(fake_openai, "responses", vault, websocket=True, store=False)
    assert chat.invoke("over a socket").text == "Echo: over a socket"
    assert asyncio.run(call(chat, "ainvoke", "async socket")) == "Echo: async socket"
    handshakes = [r for r in fake_openai.requests if r.method == "GET"]
    assert [r.headers.get("authorization") for r in handshakes] == [f"Bearer {k}" for k in given]
    assert len(given) == 2  # one key per socket opened (sync pool, then the loop's pool)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("returned", ["sk-caf\u00e9-SECRET-key", " sk-padded-SECRET-key "])
def test_a_key_a_header_cannot_carry_is_refused_before_sending_without_showing_it(
    fake_openai: FakeOpenAI, api: str, mode: str, returned: str
) -> None:
    # Non-ASCII used to be a raw UnicodeEncodeError whose repr held the whole key; spaces
    # around it a connection error, retried as if the network had failed.
    chat = ParamChat(base_url=fake_openai.base_url, api_key=lambda: returned, api=api)
    with pytest.raises(KeyProviderError, match="printable ASCII") as info:
        asyncio.run(call(chat, mode))
    shown = repr(info.value) + repr(info.value.args) + repr(pickle.loads(pickle.dumps(info.value)))
    assert "SECRET" not in shown
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    "key", ["sk-caf\u00e9-SECRET-key", " sk-padded-SECRET-key ", "sk-\x01SECRET-key"]
)
def test_a_fixed_key_or_credential_header_a_header_cannot_carry_fails_when_built(
    fake_openai: FakeOpenAI, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    for kwargs in ({"api_key": key}, {}, {"default_headers": {"x-api-key": key}}):
        with pytest.raises(OptionError, match="printable ASCII") as info:
            ParamChat(base_url=fake_openai.base_url, **kwargs)
        assert "SECRET" not in repr(info.value) + repr(info.value.args)
    with pytest.raises(OptionError, match="printable ASCII"):
        ParamChat(base_url=fake_openai.base_url, default_headers={"X-Note": "caf\u00e9"})
    assert fake_openai.requests == []


def _calls_at_once(chat: ParamChat, mode: str, inputs: list[str]) -> list[Any]:
    """Run one call per input, all at once, in threads or asyncio tasks; return each outcome."""
    config: Any = {"max_concurrency": len(inputs)}
    if mode == "batch":
        return chat.batch(inputs, config=config, return_exceptions=True)
    if mode == "abatch":
        return asyncio.run(chat.abatch(inputs, config=config, return_exceptions=True))

    def outcome(text: str) -> Any:
        try:
            return asyncio.run(call(chat, mode, text))
        except Exception as exc:  # the outcome under test
            return exc

    if mode == "stream":
        with ThreadPoolExecutor(len(inputs)) as pool:
            return list(pool.map(outcome, inputs))

    async def tasks() -> list[Any]:
        return await asyncio.gather(*(call(chat, mode, t) for t in inputs), return_exceptions=True)

    return asyncio.run(tasks())


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["batch", "abatch", "stream", "astream"])
def test_many_tenants_at_once_never_see_their_echoed_key(
    api: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A multi-tenant server's key function gives each request its own key. A scrubber keeps
    # only the last few keys handed out, so with more requests in flight than that, the
    # first ones' keys used to show in their own 401s.
    tenants = secrets.ADDED + 4
    server = KeyEchoServer(together=tenants)
    numbers = itertools.count()

    def tenant_key() -> str:
        return f"sk-tenant-SECRET-{next(numbers):04d}-0123456789"

    chat = ParamChat(base_url=server.url, api_key=tenant_key, api=api, max_retries=0)
    try:
        with caplog.at_level(logging.DEBUG):
            results = _calls_at_once(chat, mode, [f"q{i}" for i in range(tenants)])
    finally:
        server.close()
    assert all(isinstance(r, AuthenticationError) for r in results), results
    shown = [str(e) + repr(e) + repr(e.body) + repr(pickle.loads(pickle.dumps(e))) for e in results]
    assert [text for text in shown if "SECRET" in text] == []
    assert all("[redacted]" in text for text in shown)
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["ainvoke", "astream"])
def test_total_timeout_bounds_a_token_service_that_never_answers(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    async def hung_token_service() -> str:
        await asyncio.sleep(30)
        return "sk-late-SECRET"

    chat = model(fake_openai, api, hung_token_service, total_timeout=0.5)

    async def bounded() -> str:
        return await asyncio.wait_for(call(chat, mode), 20)  # the test's own bound

    with pytest.raises(DeadlineExceededError, match="total_timeout"):
        asyncio.run(bounded())
    assert fake_openai.requests == []


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
def test_a_copy_with_another_key_or_base_url_sends_it_and_never_shows_it(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    # A multi-tenant server copies one configured model per tenant. Pydantic's copy kept the
    # original's transport: the copy sent the original's key to the original's URL, and its
    # repr showed the new key in clear.
    base = model(fake_openai, api, "sk-base-SECRET-0123456789abcdef")
    assert asyncio.run(call(base, mode, "warm")) == "Echo: warm"
    with FakeOpenAI() as other:
        copies = [
            base.model_copy(update={"api_key": "sk-tenant-SECRET-0123456789abcdef"}),
            base.model_copy(update={"api_key": lambda: "sk-tenantfn-SECRET-0123456789ab"}),
            base.model_copy(update={"base_url": other.base_url, "max_tokens": 50}),
        ]
        for copy in copies:
            assert asyncio.run(call(copy, mode, "copy")) == "Echo: copy"
            assert "SECRET" not in repr(copy) + str(copy.model_dump())
        assert asyncio.run(call(base, mode, "base")) == "Echo: base"
        assert sent_keys(fake_openai) == [
            "Bearer sk-base-SECRET-0123456789abcdef",
            "Bearer sk-tenant-SECRET-0123456789abcdef",
            "Bearer sk-tenantfn-SECRET-0123456789ab",
            "Bearer sk-base-SECRET-0123456789abcdef",
        ]
        assert sent_keys(other) == ["Bearer sk-base-SECRET-0123456789abcdef"]


def test_a_copy_checks_client_settings_as_the_constructor_does(fake_openai: FakeOpenAI) -> None:
    base = model(fake_openai, "chat_completions", "sk-test")
    base.invoke("warm")
    for update in (
        {"timeout": float("nan")},
        {"api": "nope"},
        {"default_headers": {"X-Note": "a\r\nX-Evil: 1"}},
        {"api_key": "sk-caf\u00e9"},
        {"not_an_option": 1},
    ):
        with pytest.raises(ParamChatError):
            base.model_copy(update=update)
    assert len(fake_openai.requests) == 1


def test_an_sdk_client_replaced_on_a_copy_leaves_the_original_alone(
    fake_openai: FakeOpenAI,
) -> None:
    base = model(fake_openai, "chat_completions", "sk-test")
    mine = fake_openai.client(api_key="sk-test").chat.completions
    base.client = mine
    copy = base.model_copy(update={"temperature": 0.2})
    assert copy.client is mine  # given to the original: the copy's too
    other = fake_openai.client(api_key="sk-test").chat.completions
    copy.client = other
    assert base.client is mine and copy.client is other


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_new_keys_although_a_thread_held_the_lock_at_the_fork(
    fake_openai: FakeOpenAI,
) -> None:
    # A pre-fork server forks while its threads serve calls; a child inheriting the key
    # functions' lock held by one of them used to hang at its first new key.
    chat = model(fake_openai, "chat_completions", rotating_key)
    chat.invoke("in the parent")
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with credentials._LOCK:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: one call, then leave without running pytest's teardown
        code = 1
        try:
            code = 0 if chat.invoke("in the child").text == "Echo: in the child" else 1
        finally:
            os._exit(code)
    release.set()
    thread.join(10)
    status = None
    for _ in range(300):  # at most 30 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung asking its key function for a key")
    assert os.waitstatus_to_exitcode(status) == 0
