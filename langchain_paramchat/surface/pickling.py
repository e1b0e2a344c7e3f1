"""Pickle support for ``ParamChat``, so models ship to Dask, Ray and Spark workers.

A pickle holds the model's settings and options, never its transport (SDK clients, pools and
locks are per process: the worker builds its own on the first call) and never a credential:
the unpickled model reads ``OPENAI_API_KEY`` from the worker's environment, as a model built
there would (a model given a LangSmith gateway key reads ``LANGSMITH_GATEWAY_API_KEY``, else
``LANGSMITH_API_KEY``), and each credential header of ``default_headers``
(``Authorization``, ``api-key``, ``x-...-token``: names ``secrets.is_credential_header``
matches) from ``PARAMCHAT_HEADER_<NAME>`` (the name upper-cased, ``-`` as ``_``:
``api-key`` is read from ``PARAMCHAT_HEADER_API_KEY``); a header whose variable is unset is
left out, with a warning. Give workers these variables the way the README's "Bulk jobs"
section shows for each engine. A key function (``api_key=get_key``) travels by reference
when it is a module-level function of an importable module (the worker imports it and
calls its own copy); any other callable is refused with ``OptionError``, since its state
would travel. A proxy URL with credentials travels without them; the worker reads
``OPENAI_PROXY``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import types
from typing import Any

from pydantic import SecretStr

from langchain_paramchat.compat.gateway import is_gateway_key, key_for
from langchain_paramchat.errors import OptionError
from langchain_paramchat.secrets import is_credential_header, redact_url, url_secrets
from langchain_paramchat.transport.credentials import describe_provider

__all__ = [
    "KEY_VARIABLE",
    "PROXY_VARIABLE",
    "Picklable",
    "check_key_function",
    "header_variable",
    "restore_state",
    "shippable_state",
    "without_transports",
]

logger = logging.getLogger("langchain_paramchat")

KEY_VARIABLE = "OPENAI_API_KEY"
PROXY_VARIABLE = "OPENAI_PROXY"
_HEADERS = "paramchat_credential_headers"
_KEY_FUNCTION = "paramchat_key_function"
_PROXY = "paramchat_proxy_credentials"
_LANGSMITH_KEY = "paramchat_langsmith_key"


def header_variable(name: str) -> str:
    """Return the environment variable an unpickled model reads header ``name`` from."""
    return "PARAMCHAT_HEADER_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def shippable_state(model: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Return pydantic's pickle ``state`` without the transport and the key.

    Raises ``TypeError`` when the model holds its own ``http_client``/``http_async_client``:
    a live connection pool cannot travel to another process.
    """
    if model.http_client is not None or model.http_async_client is not None:
        raise TypeError(
            "a ParamChat with http_client/http_async_client cannot be pickled: a live HTTP "
            "client cannot move to another process. Leave them unset (each process then "
            "builds its own pool), or build the model inside the worker"
        )
    fields = dict(state["__dict__"])
    key = fields.get("api_key")
    key_function = callable(key)
    if key_function:
        check_key_function(key)  # pickled by reference: the worker imports and calls it
    else:
        fields["api_key"] = None
    proxy = fields.get("openai_proxy")
    if proxy and url_secrets(proxy):
        fields["openai_proxy"] = redact_url(proxy)  # the worker reads OPENAI_PROXY instead
    headers = fields.get("default_headers") or {}
    dropped = [k for k in headers if is_credential_header(k)]
    if dropped:
        fields["default_headers"] = {k: v for k, v in headers.items() if k not in dropped}
    private = dict(state.get("__pydantic_private__") or {})
    for name in private:
        if name.endswith("_transport") or name == "_sdk":  # transports, SDK client objects
            private[name] = None
    return {
        **state,
        "__dict__": fields,
        "__pydantic_private__": private,
        _HEADERS: dropped,
        _KEY_FUNCTION: key_function,
        _PROXY: fields.get("openai_proxy") != proxy,
        _LANGSMITH_KEY: not key_function and is_gateway_key(key),
    }


def check_key_function(function: Any) -> None:
    """Raise ``OptionError`` unless ``function`` pickles by reference (module and name only).

    A lambda, closure, bound method, ``functools.partial`` or callable object would carry
    its state (a refresh token, a cached key) into the pickle, and a function of
    ``__main__`` is pickled by value by Dask's and Ray's cloudpickle, with the globals it
    reads; a function importable from a module travels as its name.
    """
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    qualname = getattr(function, "__qualname__", "")
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if (
        isinstance(function, types.FunctionType | types.BuiltinFunctionType)
        and module is not None
        and module.__name__ != "__main__"
        and found is function
    ):
        return
    raise OptionError(
        "api_key",
        describe_provider(function),
        "a key function pickles only as a module-level function of an importable module "
        "(its state would otherwise travel in the pickle)",
        fix="define the key function in a module the workers import and pass that function, "
        f"or leave api_key unset so each worker reads {KEY_VARIABLE} from its environment "
        "(see the README's Distributed workers)",
    )


def restore_state(state: dict[str, Any]) -> dict[str, Any]:
    """Return ``state`` with the key and credential headers read from this environment."""
    state = dict(state)
    dropped = state.pop(_HEADERS, None) or []
    key_function = state.pop(_KEY_FUNCTION, False)
    proxy_hidden = state.pop(_PROXY, False)
    langsmith_key = state.pop(_LANGSMITH_KEY, False)
    fields = dict(state["__dict__"])
    if not key_function:
        key = key_for(langsmith=langsmith_key)
        fields["api_key"] = SecretStr(key) if key else None
    if proxy_hidden:
        proxy = os.environ.get(PROXY_VARIABLE)
        if proxy:
            fields["openai_proxy"] = proxy
        else:  # keep the URL without credentials: the proxy refuses the call, visibly
            logger.warning(
                "the unpickled model's proxy has no credentials: pickles carry none and %s "
                "is not set in this process",
                PROXY_VARIABLE,
            )
    if dropped:
        headers = dict(fields.get("default_headers") or {})
        for name in dropped:
            value = os.environ.get(header_variable(name))
            if value:
                headers[name] = value
            else:
                logger.warning(
                    "the unpickled model sends no %r header: pickles carry no credentials "
                    "and %s is not set in this process",
                    name,
                    header_variable(name),
                )
        fields["default_headers"] = headers
    return {**state, "__dict__": fields}


def without_transports(
    private: dict[str, Any] | None, memo: dict[int, Any] | None
) -> dict[int, Any]:
    """Return a ``deepcopy`` memo that copies each transport (and SDK objects) as None."""
    memo = {} if memo is None else memo
    for name, value in (private or {}).items():
        if (name.endswith("_transport") or name == "_sdk") and value is not None:
            memo[id(value)] = None
    return memo


class Picklable:
    """``ParamChat``'s pickling and deep copy: settings and options, never a transport."""

    __pydantic_private__: dict[str, Any] | None

    def __getstate__(self) -> dict[Any, Any]:
        """Return the pickle state: settings and options, no transport, no API key."""
        state: dict[str, Any] = super().__getstate__()  # type: ignore[assignment]
        return shippable_state(self, state)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Any:
        """Deep-copy settings and options (key included); the copy builds its own transport."""
        return super().__deepcopy__(  # type: ignore[misc]
            without_transports(self.__pydantic_private__, memo)
        )

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Restore a pickled model; it reads ``OPENAI_API_KEY`` here, builds a transport lazily."""
        super().__setstate__(restore_state(state))  # type: ignore[misc]
