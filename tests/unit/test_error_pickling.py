"""Every ParamChatError pickles as the same class with the same message and fields.

Process pools, Ray and Dask send a worker's exception to the parent by pickling it; an error
that cannot round-trip breaks the pool (``BrokenProcessPool``) or reaches the caller as
another class, so ``except RateLimitError`` no longer catches it.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import langchain_paramchat
from langchain_paramchat import errors as E
from langchain_paramchat.batch import errors as B

BODY = {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}
HEADERS = {"retry-after": "2", "x-request-id": "req_1"}


def _status(cls: type[E.APIStatusError]) -> E.APIStatusError:
    return cls(
        "slow down",
        status_code=429,
        headers=HEADERS,
        code="rate_limit_exceeded",
        request_id="req_1",
        error_type="requests",
        body=BODY,
        param="model",
    )


def _api(cls: type[E.APIError]) -> E.APIError:
    return cls("broke", status_code=None, code="c1", request_id="req_2", body=BODY, param="p")


# How to build one instance of each class whose constructor takes more than a message.
BUILDERS: dict[type[E.ParamChatError], Callable[[], E.ParamChatError]] = {
    E.OptionError: lambda: E.OptionError("temperature", 9, "0..2", fix="lower it"),
    E.UnknownOptionError: lambda: E.UnknownOptionError("temprature", "temperature"),
    E.ToolSchemaError: lambda: E.ToolSchemaError("no refs", path="$.a"),
    E.RefusalError: lambda: E.RefusalError("I cannot"),
    B.BatchInputError: lambda: B.BatchInputError(3, E.OptionError("n", 0, ">= 1")),
    B.BatchItemError: lambda: B.BatchItemError(
        "failed", index=2, custom_id="2", status_code=500, code="server_error", body=BODY
    ),
    E.StreamInterruptedError: lambda: E.StreamInterruptedError(
        "cut", received="Alpha", status_code=None, code="x"
    ),
    E.StreamStalledError: lambda: E.StreamStalledError("silent", received="Al"),
}

FIELDS = (
    "status_code",
    "code",
    "param",
    "option",
    "value",
    "allowed",
    "suggestion",
    "body",
    "headers",
    "request_id",
    "error_type",
    "type",
    "index",
    "custom_id",
    "path",
    "refusal",
    "received",
    "message",
    "is_retryable",
)


def _all_classes() -> Iterator[type[E.ParamChatError]]:
    for info in pkgutil.walk_packages(langchain_paramchat.__path__, "langchain_paramchat."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional extra's module
            continue
    seen: set[type[Any]] = set()
    todo: list[type[Any]] = [E.ParamChatError]
    while todo:
        cls = todo.pop()
        # Leave out the classes made to be also langchain-openai's: they pickle as ours.
        if cls not in seen and "_paramchat_class" not in vars(cls):
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    yield from sorted(seen, key=lambda c: (c.__module__, c.__name__))


def _build(cls: type[E.ParamChatError]) -> E.ParamChatError:
    if cls in BUILDERS:
        return BUILDERS[cls]()
    if issubclass(cls, E.APIStatusError):
        return _status(cls)
    if issubclass(cls, E.APIError):
        return _api(cls)
    return cls("plain message")


@pytest.mark.parametrize("cls", list(_all_classes()), ids=lambda c: c.__name__)
def test_every_error_round_trips_as_itself(cls: type[E.ParamChatError]) -> None:
    error = _build(cls)
    if isinstance(error, E.APIStatusError):
        error.is_retryable = True
    copy = pickle.loads(pickle.dumps(error))
    # A refusal is of a subclass that is also langchain-openai's class when that is imported.
    assert type(copy) is type(error) and isinstance(copy, cls)
    assert str(copy) == str(error) and copy.args == error.args
    for name in FIELDS:
        if hasattr(error, name):
            expected = getattr(error, name)
            if name == "headers":
                expected = dict(expected)
            assert getattr(copy, name) == expected, name


def test_live_http_objects_stay_behind_and_unpicklable_values_become_text() -> None:
    from langchain_paramchat._sdk.http import hx

    request = hx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = hx.Response(429, request=request, headers=HEADERS)
    error = E.RateLimitError("slow", status_code=429, headers=response.headers, response=response)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.response is None and copy.request is None
    assert copy.headers == HEADERS
    bad = pickle.loads(pickle.dumps(E.OptionError("callbacks", lambda: 1, "a list")))
    assert isinstance(bad.value, str) and "lambda" in bad.value
    assert bad.option == "callbacks"


def test_a_copied_error_is_still_the_sdk_and_langchain_class() -> None:
    import openai
    from langchain_core.exceptions import ModelRateLimitError

    copy = pickle.loads(pickle.dumps(_status(E.RateLimitError)))
    assert isinstance(copy, openai.RateLimitError)
    assert isinstance(copy, ModelRateLimitError)
    assert copy.status_code == 429 and copy.body == BODY
