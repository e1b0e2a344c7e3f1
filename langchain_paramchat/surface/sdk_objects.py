"""ChatOpenAI's ``client``, ``async_client``, ``root_client`` and ``root_async_client``.

Code written for ChatOpenAI reads these openai SDK objects, replaces them (a mock in a test,
a configured ``openai.OpenAI``) or patches their methods. ParamChat builds them only when
read (its own sends never need them), each model its own objects over the shared connection
pool. A call goes through them (``transport/sdk_route.py``) only when something was replaced
or patched: a given object, an instance attribute set on one handed out, or the SDK class's
``create`` itself (``create_is_patched``). Otherwise the direct send runs as before.
"""

from __future__ import annotations

import asyncio
import os
import sys
from types import FunctionType
from typing import Any

import openai

from langchain_paramchat import transport
from langchain_paramchat.compat.gateway import is_gateway_key

__all__ = [
    "NAMES",
    "SDKObjects",
    "copy_sdk_objects",
    "create_is_patched",
    "give_sdk_objects",
    "sdk_property",
    "sdk_route_for",
    "take_sdk_objects",
]

NAMES = ("client", "async_client", "root_client", "root_async_client")
_CHAT_PATH = "/chat/completions"
_RESPONSES_PATH = "/responses"


class SDKObjects:
    """The SDK objects one model was given or has handed out."""

    __slots__ = ("built", "given", "loop")

    def __init__(self) -> None:
        self.given: dict[str, Any] = {}
        self.built: dict[str, Any] = {}
        self.loop: int | None = None  # id of the loop the built async client belongs to

    def get(self, model: Any, name: str) -> Any:
        """Return the object ``name`` of ``model``: the one given, else one built now."""
        if name in self.given:
            return self.given[name]
        if name.endswith("async_client"):
            self._forget_other_loop()
        obj = self.built.get(name)
        if obj is None:
            obj = self.built[name] = self._build(model, name)
        return obj

    def _forget_other_loop(self) -> None:
        """Drop built async objects of another event loop: their pool belongs to it."""
        try:
            loop: int | None = id(asyncio.get_running_loop())
        except RuntimeError:
            loop = None
        if loop != self.loop:
            self.built.pop("root_async_client", None)
            self.built.pop("async_client", None)
            self.loop = loop

    def _build(self, model: Any, name: str) -> Any:
        if name == "client":
            return self.get(model, "root_client").chat.completions
        if name == "async_client":
            return self.get(model, "root_async_client").chat.completions
        retries = model.max_retries
        if name == "root_client":
            return model.transport.client.copy(max_retries=retries)
        if self.loop is not None:  # the running loop's pool, shared with the direct send
            return model.transport.async_client.copy(max_retries=retries)
        return _standalone_async(model.transport.settings, retries)

    def give(self, name: str, value: Any) -> None:
        """Use ``value`` as the object ``name`` from now on (None: build one again)."""
        if value is None:
            self.given.pop(name, None)
        else:
            self.given[name] = value
        self.built.pop(name, None)
        if name.startswith("root_"):  # ``client`` is read from the root client, as ChatOpenAI's
            self.built.pop(name[len("root_") :], None)

    def patched(self, path: str) -> bool:
        """Return True when a given object or an instance patch concerns calls to ``path``."""
        given, built = self.given, self.built
        if path == _CHAT_PATH:
            if given:
                return True
            resources: tuple[Any, ...] = (
                built.get("client"),
                built.get("async_client"),
                _cached(_cached(built.get("root_client"), "chat"), "completions"),
                _cached(_cached(built.get("root_async_client"), "chat"), "completions"),
            )
        else:
            if "root_client" in given or "root_async_client" in given:
                return True
            resources = (
                _cached(built.get("root_client"), "responses"),
                _cached(built.get("root_async_client"), "responses"),
            )
        return any(_instance_patched(resource) for resource in resources)


# The SDK resource classes whose ``create`` ParamChat's direct send stands in for, per path.
_RESOURCES = {
    "/chat/completions": (
        "openai.resources.chat.completions.completions",
        ("Completions", "AsyncCompletions"),
    ),
    "/responses": ("openai.resources.responses.responses", ("Responses", "AsyncResponses")),
}
_SDK_DIR = os.path.dirname(openai.__file__) + os.sep
# (path, class name) -> (the create function last looked at, whether it is the SDK's own).
_SEEN: dict[tuple[str, str], tuple[Any, bool]] = {}


def create_is_patched(path: str) -> bool:
    """Return True when user code replaced the SDK's ``create`` for ``path`` (sync or async).

    ``unittest.mock.patch``, an instrumentation wrapper or a plain function all count: the
    call must then go through ``create`` (``sdk_route.py``). Costs two dict lookups per call:
    the SDK imports these modules lazily, so until someone imports one (to patch it, or to use
    the SDK directly) there is nothing to check, and each function is judged once.
    """
    spec = _RESOURCES.get(path)
    if spec is None:
        return False
    module = sys.modules.get(spec[0])
    if module is None:
        return False
    for name in spec[1]:
        fn = getattr(getattr(module, name, None), "create", None)
        seen = _SEEN.get((path, name))
        if seen is None or seen[0] is not fn:
            seen = _SEEN[(path, name)] = (fn, _is_sdk_function(fn, module.__file__ or ""))
        if not seen[1]:
            return True
    return False


def _is_sdk_function(fn: Any, module_file: str) -> bool:
    """Return True for the SDK's own function defined in ``module_file`` (its decorators too).

    A mock, a wrapt proxy or a function from outside the SDK (even ``functools.wraps``-ed)
    is not; an SDK that stops defining ``create`` there reads as patched, which is only slower.
    """
    for _ in range(4):
        if type(fn) is not FunctionType:
            return False
        filename = fn.__code__.co_filename
        if filename == module_file:
            return True
        if not filename.startswith(_SDK_DIR):
            return False
        fn = getattr(fn, "__wrapped__", None)  # the SDK's own decorator (required_args)
    return False


def _cached(obj: Any, attribute: str) -> Any:
    """Return ``obj.attribute`` if it was already built (a cached property), else None."""
    if obj is None:
        return None
    try:
        return vars(obj).get(attribute)
    except TypeError:  # no __dict__
        return None


def _instance_patched(resource: Any) -> bool:
    """Return True when ``create`` or ``with_raw_response`` was set on the resource itself."""
    if resource is None:
        return False
    own = _own(resource)
    if "create" in own:
        return True
    raw = own.get("with_raw_response")
    return raw is not None and not type(raw).__module__.startswith("openai.")


def take_sdk_objects(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove ChatOpenAI's SDK object arguments from constructor ``kwargs``; return them."""
    return {name: kwargs.pop(name) for name in NAMES if name in kwargs}


def give_sdk_objects(model: Any, given: dict[str, Any]) -> None:
    """Use the SDK objects passed to the constructor (None: ChatOpenAI's "build one")."""
    for name, value in given.items():
        if value is not None:
            setattr(model, name, value)


def copy_sdk_objects(source: Any, target: Any) -> None:
    """Give ``target`` (a copy of ``source``) the SDK objects ``source`` was given, in a set
    of its own: replacing one on the copy leaves the original alone, and those built from
    the original's settings are built again from the copy's."""
    objects: SDKObjects | None = source._sdk
    target._sdk = None
    if objects is not None:
        for name, value in objects.given.items():
            _objects(target).give(name, value)


def sdk_property(name: str, doc: str) -> property:
    """Return the model property ``name``: read builds lazily, set replaces, del restores."""

    def read(model: Any) -> Any:
        return _objects(model).get(model, name)

    read.__doc__ = doc

    def write(model: Any, value: Any) -> None:
        _objects(model).give(name, value)

    def delete(model: Any) -> None:
        _objects(model).give(name, None)

    return property(read, write, delete, doc)


def _objects(model: Any) -> SDKObjects:
    objects: SDKObjects | None = model._sdk
    if objects is None:
        objects = model._sdk = SDKObjects()
    return objects


def _resource(model: Any, objects: SDKObjects, path: str, is_async: bool) -> tuple[Any, bool]:
    if path == _CHAT_PATH:
        name = "async_client" if is_async else "client"
        resource = objects.get(model, name)
        given = name in objects.given or f"root_{name}" in objects.given
    else:
        name = "root_async_client" if is_async else "root_client"
        resource = objects.get(model, name).responses
        given = name in objects.given
    raw = _own(resource).get("with_raw_response")
    return resource, given or (raw is not None and not type(raw).__module__.startswith("openai."))


def _own(resource: Any) -> dict[str, Any]:
    try:
        return vars(resource)
    except TypeError:
        return {}


def sdk_route_for(model: Any, objects: SDKObjects | None, path: str) -> Any:
    """Return an ``SDKRoute`` for ``model``'s call to ``path``, or None for the direct send."""
    if not ((objects is not None and objects.patched(path)) or create_is_patched(path)):
        return None
    held = objects if objects is not None else SDKObjects()
    if objects is None:
        model._sdk = held

    def raw_stream(p: str, a: bool) -> Any:
        return _raw_create(model, held, p, a)

    reads_headers = model.include_response_headers or is_gateway_key(model.api_key)
    return transport.SDKRoute(
        model.transport,
        lambda p, a: _resource(model, held, p, a),
        raw_stream=raw_stream if reads_headers else None,
        stream_helper=lambda a: _stream_helper(held, a),
    )


def _raw_create(model: Any, objects: SDKObjects, path: str, is_async: bool) -> Any:
    """Return the raw-response ``create`` ChatOpenAI streams through when it reads headers."""
    if path == _CHAT_PATH:
        return objects.get(model, "async_client" if is_async else "client").with_raw_response.create
    root = objects.get(model, "root_async_client" if is_async else "root_client")
    return root.with_raw_response.responses.create


def _stream_helper(objects: SDKObjects, is_async: bool) -> Any:
    """Return a replaced root client's ``beta.chat.completions`` (its stream helper), or None.

    ChatOpenAI streams structured output through ``root_client.beta.chat.completions.stream``;
    a replaced root client (a test double of that helper) gets the same call.
    """
    root = objects.given.get("root_async_client" if is_async else "root_client")
    return None if root is None else root.beta.chat.completions


def _standalone_async(settings: Any, max_retries: int) -> Any:
    """Return an ``openai.AsyncOpenAI`` for ``settings``, built outside any event loop."""
    import openai

    return openai.AsyncOpenAI(
        api_key=settings.api_key,
        organization=settings.organization,
        project=settings.project,
        base_url=settings.base_url,
        timeout=settings.timeout,
        max_retries=max_retries,
        default_headers=settings.default_headers,
        default_query=settings.default_query,
        http_client=settings.http_async_client,
    )
