"""Every public name says what it does (and what it raises); ``--help`` lists every command.

Public means: each module of the package not named with a leading underscore, the names in
its ``__all__`` (or, without one, the classes and functions it defines without a leading
underscore), the public methods and properties those classes define themselves, every
option of the option table, and every field ``ParamChat`` declares. A function whose own
body has a ``raise`` statement must say so in its docstring ("Raise ...", "raises ..."),
and so must a class whose own ``__init__`` or ``__post_init__`` raises.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import langchain_paramchat
from langchain_paramchat.__main__ import build_parser


def _modules() -> Iterator[ModuleType]:
    yield langchain_paramchat
    prefix = langchain_paramchat.__name__ + "."
    for info in pkgutil.walk_packages(langchain_paramchat.__path__, prefix):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") and part != "__main__" for part in parts):
            continue
        yield importlib.import_module(info.name)


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    ]


def _members(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Yield the public methods and property getters ``cls`` defines itself."""
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        func = attr.fget if isinstance(attr, property) else getattr(attr, "__func__", attr)
        if inspect.isfunction(func):
            yield name, func


def _public_objects() -> Iterator[tuple[str, Any]]:
    for module in _modules():
        yield module.__name__, module
        for name in _public_names(module):
            obj = getattr(module, name)
            # Re-exports are checked where they are defined.
            defined_here = getattr(obj, "__module__", None) == module.__name__
            if not defined_here or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            qualname = f"{module.__name__}.{name}"
            yield qualname, obj
            if inspect.isclass(obj):
                for member, func in _members(obj):
                    yield f"{qualname}.{member}", func


def _own_doc(obj: Any) -> str:
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__") or ""
    return inspect.getdoc(obj) or ""


def _raises_itself(func: Callable[..., Any]) -> bool:
    """Return whether the function's own body (not a nested function) raises an exception."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return False
    tree = ast.parse(source).body[0]

    def walk(node: ast.AST) -> Iterator[ast.AST]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            yield child
            yield from walk(child)

    # A bare ``raise`` re-raises what a callee raised; only new exceptions count.
    return any(isinstance(n, ast.Raise) and n.exc is not None for n in walk(tree))


PUBLIC = sorted(_public_objects(), key=lambda item: item[0])


def test_the_walk_finds_the_public_api() -> None:
    names = {name for name, _ in PUBLIC}
    assert {
        "langchain_paramchat.chat_model.ParamChat",
        "langchain_paramchat.chat_model.ParamChat.preview_request",
        "langchain_paramchat.testing.server.FakeOpenAI",
        "langchain_paramchat.local.download.fetch_model",
        "langchain_paramchat.errors.OptionError",
    } <= names
    assert len(PUBLIC) > 100


def test_every_public_name_has_a_docstring() -> None:
    missing = [name for name, obj in PUBLIC if not _own_doc(obj).strip()]
    assert missing == [], "add a docstring saying what it does"


def test_every_public_function_that_raises_says_so() -> None:
    silent = [
        name
        for name, obj in PUBLIC
        if inspect.isfunction(obj) and _raises_itself(obj) and "rais" not in _own_doc(obj).lower()
    ]
    assert silent == [], "say what these raise, and when, in their docstrings"


def test_every_public_class_whose_constructor_raises_says_so() -> None:
    silent = []
    for name, obj in PUBLIC:
        if not inspect.isclass(obj):
            continue
        for method in ("__init__", "__post_init__"):
            func = obj.__dict__.get(method)
            # Protocols and other inherited machinery bring functions from other modules.
            if not inspect.isfunction(func) or func.__module__ != obj.__module__:
                continue
            doc = _own_doc(obj) + (inspect.getdoc(func) or "")
            if _raises_itself(func) and "rais" not in doc.lower():
                silent.append(f"{name}.{method}")
    assert silent == [], "say in the class docstring what building one raises, and when"


def test_every_option_says_what_it_does() -> None:
    from langchain_paramchat.options import OPTIONS

    assert len(OPTIONS) > 40
    assert [name for name, spec in OPTIONS.items() if len(spec.opt.doc.strip()) < 10] == []


def _field_docstrings(cls: type) -> dict[str, str]:
    """Return each annotated field of ``cls``'s own body with the string right after it."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    statements = body.body
    for index, node in enumerate(statements):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            after = statements[index + 1] if index + 1 < len(statements) else None
            is_doc = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            )
            docs[node.target.id] = after.value.value if is_doc else ""  # type: ignore[union-attr]
    return docs


def test_every_paramchat_setting_has_a_docstring() -> None:
    from langchain_paramchat import ParamChat

    docs = _field_docstrings(ParamChat)
    assert "model" in docs and "api_key" in docs
    missing = [name for name, doc in docs.items() if not name.startswith("_") and not doc.strip()]
    assert missing == []


def test_help_lists_every_command_with_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    commands = next(
        action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"
    )
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    assert {"demo", "options-table"} <= set(helps)
    for name, text in helps.items():
        assert text, f"command {name!r} has no help line"
        assert name in shown and text.split()[0] in shown
