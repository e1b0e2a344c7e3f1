"""Pickle support for ``ParamChat``, so models ship to Dask, Ray and Spark workers.

A pickle holds the model's settings and options, never its transport (SDK clients, pools and
locks are per process: the worker builds its own on the first call) and never the API key:
the unpickled model reads ``OPENAI_API_KEY`` from the worker's environment, as a model built
there would. Give workers the key the way each engine passes secrets (Dask: the environment
the workers start with; Ray: ``runtime_env={"env_vars": ...}``; Spark:
``spark.executorEnv.OPENAI_API_KEY``).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

__all__ = ["KEY_VARIABLE", "restore_state", "shippable_state", "without_transports"]

KEY_VARIABLE = "OPENAI_API_KEY"


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
    fields["api_key"] = None
    private = dict(state.get("__pydantic_private__") or {})
    for name in private:
        if name.endswith("_transport"):  # the transport and the flex transport
            private[name] = None
    return {**state, "__dict__": fields, "__pydantic_private__": private}


def restore_state(state: dict[str, Any]) -> dict[str, Any]:
    """Return ``state`` with the API key read from this process's ``OPENAI_API_KEY``."""
    import os

    key = os.environ.get(KEY_VARIABLE)
    fields = dict(state["__dict__"])
    fields["api_key"] = SecretStr(key) if key else None
    return {**state, "__dict__": fields}


def without_transports(
    private: dict[str, Any] | None, memo: dict[int, Any] | None
) -> dict[int, Any]:
    """Return a ``deepcopy`` memo that copies each transport in ``private`` as None."""
    memo = {} if memo is None else memo
    for name, value in (private or {}).items():
        if name.endswith("_transport") and value is not None:
            memo[id(value)] = None
    return memo
