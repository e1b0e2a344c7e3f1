"""Tool and tool_choice normalization: every input form, both API shapes, checked by SDK types."""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, NotRequired

import pydantic.v1 as pydantic_v1
import pytest
from langchain_core.tools import BaseTool, StructuredTool, tool
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_paramchat.apis.chat_completions.request import render_tool as to_chat_tool
from langchain_paramchat.apis.chat_completions.request import (
    render_tool_choice as to_chat_tool_choice,
)
from langchain_paramchat.apis.chat_completions.request import (
    unsupported_tools as requires_responses,
)
from langchain_paramchat.apis.responses.request import render_tool as to_responses_tool
from langchain_paramchat.apis.responses.request import (
    render_tool_choice as to_responses_tool_choice,
)
from langchain_paramchat.errors import IncompatibleOptionsError, OptionError, ToolSchemaError
from langchain_paramchat.options.typecheck import find_error
from langchain_paramchat.tools.normalize import (
    BuiltinTool,
    CustomTool,
    FunctionTool,
    normalize_tool,
    normalize_tools,
)
from langchain_paramchat.tools.tool_choice import (
    ToolChoiceAllowed,
    ToolChoiceMode,
    ToolChoiceNamed,
    normalize_tool_choice,
)

CHAT_HINTS = typing.get_type_hints(CompletionCreateParamsBase)
RESPONSES_HINTS = typing.get_type_hints(ResponseCreateParamsBase)
CHAT_TOOL = typing.get_args(CHAT_HINTS["tools"])[0]
RESPONSES_TOOL = typing.get_args(RESPONSES_HINTS["tools"])[0]
CHAT_CHOICE = CHAT_HINTS["tool_choice"]
RESPONSES_CHOICE = RESPONSES_HINTS["tool_choice"]


def chat_ok(value: Any) -> Any:
    assert find_error(value, CHAT_TOOL) is None, find_error(value, CHAT_TOOL)
    return value


def responses_ok(value: Any) -> Any:
    assert find_error(value, RESPONSES_TOOL) is None, find_error(value, RESPONSES_TOOL)
    return value


# --- inputs of every kind --------------------------------------------------------------------


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="City name")
    unit: str | None = None


class Category(BaseModel):
    name: str
    children: list[Category]


class LegacyWeather(pydantic_v1.BaseModel):
    """Get the weather (pydantic v1)."""

    city: str


class WeatherDict(TypedDict):
    """Get the weather.

    Args:
        city: City name
    """

    city: Annotated[str, ..., "City name"]


class Lookup(TypedDict):
    """Look a word up."""

    word: str
    language: NotRequired[str]


@dataclasses.dataclass
class Move:
    """Move the robot."""

    x: int
    y: int = 0


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First number
        b: Second number
    """
    return a + b


@tool
def search(query: str) -> str:
    """Search the web."""
    return query


class CategoryTool(BaseTool):
    name: str = "file_category"
    description: str = "File a category tree."
    args_schema: type[BaseModel] = Category

    def _run(self, name: str, children: list[Category]) -> str:
        return name


def _echo(text: str) -> str:
    return text


echo = StructuredTool.from_function(_echo, name="echo", description="Echo the text.")

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
STRICT_CITY = {**CITY, "additionalProperties": False}

FUNCTION_INPUTS: list[tuple[str, Any, FunctionTool]] = [
    (
        "pydantic_v2",
        GetWeather,
        FunctionTool(
            "GetWeather",
            "Get the weather for a city.",
            {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                },
                "required": ["city"],
            },
            False,
        ),
    ),
    (
        "pydantic_v2_recursive",
        Category,
        FunctionTool(
            "Category",
            None,
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#"}},
                },
                "required": ["name", "children"],
            },
            False,
        ),
    ),
    (
        "pydantic_v1",
        LegacyWeather,
        FunctionTool("LegacyWeather", "Get the weather (pydantic v1).", CITY, False),
    ),
    (
        "typeddict_langchain_annotations",
        WeatherDict,
        FunctionTool(
            "WeatherDict",
            "Get the weather.",
            {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
            False,
        ),
    ),
    (
        "typeddict_not_required",
        Lookup,
        FunctionTool(
            "Lookup",
            "Look a word up.",
            {
                "type": "object",
                "properties": {"word": {"type": "string"}, "language": {"type": "string"}},
                "required": ["word"],
            },
            False,
        ),
    ),
    (
        "dataclass",
        Move,
        FunctionTool(
            "Move",
            "Move the robot.",
            {
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer", "default": 0}},
                "required": ["x"],
            },
            False,
        ),
    ),
    (
        "function",
        add,
        FunctionTool(
            "add",
            "Add two numbers.",
            {
                "type": "object",
                "properties": {
                    "a": {"type": "integer", "description": "First number"},
                    "b": {"type": "integer", "description": "Second number"},
                },
                "required": ["a", "b"],
            },
            False,
        ),
    ),
    (
        "langchain_tool_decorator",
        search,
        FunctionTool(
            "search",
            "Search the web.",
            {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
            False,
        ),
    ),
    (
        "langchain_base_tool_recursive_args",
        CategoryTool(),
        FunctionTool(
            "file_category",
            "File a category tree.",
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Category"}},
                },
                "required": ["name", "children"],
                "$defs": {
                    "Category": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "children": {
                                "type": "array",
                                "items": {"$ref": "#/$defs/Category"},
                            },
                        },
                        "required": ["name", "children"],
                    }
                },
            },
            False,
        ),
    ),
    (
        "langchain_structured_tool",
        echo,
        FunctionTool(
            "echo",
            "Echo the text.",
            {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            False,
        ),
    ),
    (
        "chat_function_dict",
        {"type": "function", "function": {"name": "get_city", "parameters": CITY}},
        FunctionTool("get_city", None, CITY, False),
    ),
    (
        "chat_function_dict_strict",
        {
            "type": "function",
            "function": {"name": "get_city", "parameters": CITY, "strict": True},
        },
        FunctionTool("get_city", None, STRICT_CITY, True),
    ),
    (
        "responses_function_dict",
        {"type": "function", "name": "get_city", "description": "Find a city.", "parameters": CITY},
        FunctionTool("get_city", "Find a city.", CITY, False),
    ),
    (
        "responses_function_without_parameters",
        {"type": "function", "name": "ping", "parameters": None, "strict": None},
        FunctionTool("ping", None, {"type": "object", "properties": {}}, False),
    ),
    (
        "legacy_function_dict",
        {"name": "get_city", "description": "Find a city.", "parameters": CITY},
        FunctionTool("get_city", "Find a city.", CITY, False),
    ),
    (
        "json_schema_with_title",
        {"title": "get_city", "description": "Find a city.", **CITY},
        FunctionTool("get_city", "Find a city.", CITY, False),
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"), [c[1:] for c in FUNCTION_INPUTS], ids=[c[0] for c in FUNCTION_INPUTS]
)
def test_function_inputs_normalize_and_render_for_both_apis(
    source: Any, expected: FunctionTool
) -> None:
    neutral = normalize_tool(source, strict=None)

    assert neutral == expected
    chat = chat_ok(to_chat_tool(neutral))
    responses = responses_ok(to_responses_tool(neutral))
    function: dict[str, Any] = {"name": expected.name}
    if expected.description:
        function["description"] = expected.description
    function |= {"parameters": expected.parameters, "strict": expected.strict}
    assert chat == {"type": "function", "function": function}
    assert responses == {"type": "function", **function}


@pytest.mark.parametrize(
    "source", [c[1] for c in FUNCTION_INPUTS], ids=[c[0] for c in FUNCTION_INPUTS]
)
def test_strict_true_compiles_every_function_input(source: Any) -> None:
    neutral = normalize_tool(source, strict=True)

    assert isinstance(neutral, FunctionTool)
    assert neutral.strict is True
    assert neutral.parameters["additionalProperties"] is False
    assert neutral.parameters["required"] == list(neutral.parameters["properties"])
    assert chat_ok(to_chat_tool(neutral))["function"]["strict"] is True
    assert responses_ok(to_responses_tool(neutral))["strict"] is True


def test_strict_is_always_an_explicit_boolean_on_both_apis() -> None:
    # Omitted, Responses would validate strictly and Chat Completions would not.
    neutral = normalize_tool(GetWeather, strict=None)

    assert to_chat_tool(neutral)["function"]["strict"] is False
    assert to_responses_tool(neutral)["strict"] is False


def test_explicit_strict_overrides_the_dicts_own_value() -> None:
    spec = {"type": "function", "name": "get_city", "parameters": CITY, "strict": True}

    assert normalize_tool(spec, strict=False) == FunctionTool("get_city", None, CITY, False)
    assert normalize_tool(spec, strict=None).strict is True


def test_strict_optional_field_becomes_nullable_and_required() -> None:
    neutral = normalize_tool(GetWeather, strict=True)

    assert neutral == FunctionTool(
        "GetWeather",
        "Get the weather for a city.",
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        True,
    )


def test_strict_error_path_names_the_tool() -> None:
    class Filters(BaseModel):
        filters: dict[str, Any]

    def get_weather(city: str, filters: dict[str, Any]) -> str:
        """Get the weather."""
        return city

    for source in (get_weather, {"type": "function", "name": "get_weather", **_params(Filters)}):
        with pytest.raises(ToolSchemaError) as info:
            normalize_tool(source, strict=True)
        assert info.value.path == "tools[get_weather].parameters.properties.filters"
        assert "free-form objects are not allowed in strict mode" in str(info.value)


def _params(model: type[BaseModel]) -> dict[str, Any]:
    return {"parameters": model.model_json_schema()}


def test_normalizing_a_neutral_tool_again_is_a_no_op_or_recompiles() -> None:
    neutral = normalize_tool(GetWeather, strict=False)

    assert normalize_tool(neutral) is neutral
    assert normalize_tool(neutral, strict=True) == normalize_tool(GetWeather, strict=True)


# --- custom tools ----------------------------------------------------------------------------

GRAMMAR_RESPONSES = {"type": "grammar", "syntax": "lark", "definition": "start: NUMBER"}
GRAMMAR_CHAT = {"type": "grammar", "grammar": {"syntax": "lark", "definition": "start: NUMBER"}}


@pytest.mark.parametrize(
    "source",
    [
        {
            "type": "custom",
            "custom": {"name": "calc", "description": "Calculate.", "format": GRAMMAR_CHAT},
        },
        {
            "type": "custom",
            "name": "calc",
            "description": "Calculate.",
            "format": GRAMMAR_RESPONSES,
        },
    ],
    ids=["chat_shape", "responses_shape"],
)
def test_custom_tool_with_grammar_renders_each_apis_format(source: dict[str, Any]) -> None:
    neutral = normalize_tool(source, strict=True)

    assert neutral == CustomTool("calc", "Calculate.", GRAMMAR_RESPONSES)
    assert chat_ok(to_chat_tool(neutral)) == {
        "type": "custom",
        "custom": {"name": "calc", "description": "Calculate.", "format": GRAMMAR_CHAT},
    }
    assert responses_ok(to_responses_tool(neutral)) == {
        "type": "custom",
        "name": "calc",
        "description": "Calculate.",
        "format": GRAMMAR_RESPONSES,
    }


def test_custom_tool_free_text() -> None:
    neutral = normalize_tool({"type": "custom", "name": "note", "format": {"type": "text"}})

    assert chat_ok(to_chat_tool(neutral)) == {
        "type": "custom",
        "custom": {"name": "note", "format": {"type": "text"}},
    }
    assert responses_ok(to_responses_tool(neutral)) == {
        "type": "custom",
        "name": "note",
        "format": {"type": "text"},
    }


def test_custom_tool_with_unknown_grammar_syntax_is_rejected() -> None:
    bad = {**GRAMMAR_RESPONSES, "syntax": "ebnf"}

    with pytest.raises(ToolSchemaError) as info:
        normalize_tool({"type": "custom", "name": "calc", "format": bad})

    assert info.value.path == "tools[calc].format.syntax"
    assert "'ebnf'" in str(info.value)


# --- built-in tools --------------------------------------------------------------------------

BUILTINS = [
    {"type": "web_search"},
    {"type": "web_search_preview"},
    {"type": "file_search", "vector_store_ids": ["vs_1"]},
    {"type": "code_interpreter", "container": {"type": "auto"}},
    {"type": "image_generation", "quality": "low"},
    {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp"},
    {
        "type": "computer_use_preview",
        "display_width": 1024,
        "display_height": 768,
        "environment": "browser",
    },
    {"type": "computer"},
    {"type": "shell"},
    {"type": "local_shell"},
    {"type": "apply_patch"},
]


@pytest.mark.parametrize("spec", BUILTINS, ids=[b["type"] for b in BUILTINS])
def test_builtin_tools_pass_through_to_responses_and_are_refused_by_chat(
    spec: dict[str, Any],
) -> None:
    neutral = normalize_tool(spec, strict=True)

    assert neutral == BuiltinTool(spec)
    assert responses_ok(to_responses_tool(neutral)) == spec
    assert requires_responses([neutral]) == [neutral.label]
    with pytest.raises(ToolSchemaError) as info:
        to_chat_tool(neutral)
    assert str(info.value) == (
        f"tools[{neutral.label}]: the built-in tool {spec['type']!r} needs the Responses API; "
        "Chat Completions only takes function and custom tools. Use the Responses API or "
        "remove the tool"
    )


def test_rendering_returns_copies_the_caller_cannot_corrupt() -> None:
    neutral = normalize_tool(BUILTINS[2])

    to_responses_tool(neutral)["vector_store_ids"].append("vs_2")

    assert to_responses_tool(neutral) == BUILTINS[2]


def test_unknown_builtin_type_is_rejected_with_the_known_types() -> None:
    with pytest.raises(ToolSchemaError) as info:
        normalize_tool({"type": "web_serch"})

    assert info.value.path == "tools[web_serch].type"
    assert "'web_serch' is not one of apply_patch, code_interpreter," in str(info.value)


def test_builtin_missing_a_required_key_is_rejected() -> None:
    with pytest.raises(ToolSchemaError) as info:
        normalize_tool({"type": "file_search"})

    assert str(info.value) == "tools[file_search]: missing required key 'vector_store_ids'"


def test_responses_only_function_keys_route_to_responses() -> None:
    spec = {"type": "function", "name": "lookup", "parameters": CITY, "defer_loading": True}
    neutral = normalize_tool(spec)

    assert responses_ok(to_responses_tool(neutral)) == {**spec, "strict": False}
    assert requires_responses([neutral, normalize_tool(add)]) == ["lookup (defer_loading)"]
    with pytest.raises(ToolSchemaError, match="only the Responses API's tools take defer_loading"):
        to_chat_tool(neutral)


def test_requires_responses_is_empty_for_function_and_custom_tools() -> None:
    tools = normalize_tools([add, GetWeather, {"type": "custom", "name": "note"}])

    assert requires_responses(tools) == []


# --- input errors ----------------------------------------------------------------------------


def test_invalid_function_name_is_rejected_with_the_rule() -> None:
    with pytest.raises(ToolSchemaError) as info:
        normalize_tool({"type": "function", "name": "get weather", "parameters": CITY})

    assert str(info.value) == (
        "tools[get weather]: function name 'get weather' is not allowed: use 1-64 letters, "
        "digits, underscores or dashes; rename the tool"
    )


def test_unknown_key_in_a_chat_function_dict_is_rejected() -> None:
    spec = {"type": "function", "function": {"name": "f", "parameters": CITY, "stict": True}}

    with pytest.raises(ToolSchemaError) as info:
        normalize_tool(spec)

    assert info.value.path == "tools[f].function"
    assert "unknown key 'stict'" in str(info.value)


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ToolSchemaError) as info:
        normalize_tools([add, {"type": "function", "name": "add", "parameters": CITY}])

    assert str(info.value) == (
        "tools[add]: two different tools are named 'add'; tool names must be unique, rename one"
    )


def test_identical_repeats_are_bound_once() -> None:
    assert normalize_tools([add, add]) == normalize_tools([add])


def test_unsupported_objects_are_rejected() -> None:
    with pytest.raises(ToolSchemaError, match="cannot use int 42 as a tool"):
        normalize_tool(42)


def test_json_schema_without_title_is_rejected() -> None:
    with pytest.raises(ToolSchemaError, match="needs a 'title' to name it"):
        normalize_tool(CITY)


# --- tool_choice -----------------------------------------------------------------------------

BOUND = normalize_tools(
    [
        add,
        {"type": "custom", "name": "calc"},
        {"type": "web_search"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp"},
    ]
)
NEEDS_RESPONSES = object()

CHOICES: list[tuple[str, Any, Any, Any]] = [
    ("auto", "auto", "auto", "auto"),
    ("none", "none", "none", "none"),
    ("required", "required", "required", "required"),
    ("any_means_required", "any", "required", "required"),
    ("true_with_several_tools", True, "required", "required"),
    (
        "function_name",
        "add",
        {"type": "function", "function": {"name": "add"}},
        {"type": "function", "name": "add"},
    ),
    (
        "custom_name",
        "calc",
        {"type": "custom", "custom": {"name": "calc"}},
        {"type": "custom", "name": "calc"},
    ),
    (
        "chat_function_dict",
        {"type": "function", "function": {"name": "add"}},
        {"type": "function", "function": {"name": "add"}},
        {"type": "function", "name": "add"},
    ),
    (
        "responses_function_dict",
        {"type": "function", "name": "add"},
        {"type": "function", "function": {"name": "add"}},
        {"type": "function", "name": "add"},
    ),
    (
        "chat_custom_dict",
        {"type": "custom", "custom": {"name": "calc"}},
        {"type": "custom", "custom": {"name": "calc"}},
        {"type": "custom", "name": "calc"},
    ),
    (
        "responses_custom_dict",
        {"type": "custom", "name": "calc"},
        {"type": "custom", "custom": {"name": "calc"}},
        {"type": "custom", "name": "calc"},
    ),
    ("builtin_by_type", {"type": "file_search"}, NEEDS_RESPONSES, {"type": "file_search"}),
    ("builtin_by_name", "file_search", NEEDS_RESPONSES, {"type": "file_search"}),
    (
        # Responses' tool_choice has no {"type": "web_search"}; allowing only it forces it.
        "builtin_without_a_choice_type",
        {"type": "web_search"},
        NEEDS_RESPONSES,
        {"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]},
    ),
    (
        "mcp_server_tool",
        {"type": "mcp", "server_label": "deepwiki", "name": "ask_question"},
        NEEDS_RESPONSES,
        {"type": "mcp", "server_label": "deepwiki", "name": "ask_question"},
    ),
    (
        "allowed_tools_chat_shape",
        {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [
                    {"type": "function", "function": {"name": "add"}},
                    {"type": "custom", "custom": {"name": "calc"}},
                ],
            },
        },
        {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [
                    {"type": "function", "function": {"name": "add"}},
                    {"type": "custom", "custom": {"name": "calc"}},
                ],
            },
        },
        {
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "function", "name": "add"}, {"type": "custom", "name": "calc"}],
        },
    ),
    (
        "allowed_tools_responses_shape_with_builtins",
        {
            "type": "allowed_tools",
            "mode": "auto",
            "tools": [
                {"type": "function", "name": "add"},
                {"type": "mcp", "server_label": "deepwiki"},
                {"type": "web_search"},
            ],
        },
        NEEDS_RESPONSES,
        {
            "type": "allowed_tools",
            "mode": "auto",
            "tools": [
                {"type": "function", "name": "add"},
                {"type": "mcp", "server_label": "deepwiki"},
                {"type": "web_search"},
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("choice", "chat", "responses"), [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES]
)
def test_tool_choice_matrix(choice: Any, chat: Any, responses: Any) -> None:
    neutral = normalize_tool_choice(choice, BOUND)
    assert neutral is not None

    rendered = to_responses_tool_choice(neutral)
    assert rendered == responses
    assert find_error(rendered, RESPONSES_CHOICE) is None
    if chat is NEEDS_RESPONSES:
        with pytest.raises(IncompatibleOptionsError, match="needs the Responses API"):
            to_chat_tool_choice(neutral)
    else:
        rendered = to_chat_tool_choice(neutral)
        assert rendered == chat
        assert find_error(rendered, CHAT_CHOICE) is None


def test_true_with_a_single_tool_forces_that_tool() -> None:
    tools = normalize_tools([GetWeather])

    neutral = normalize_tool_choice(True, tools)

    assert neutral == ToolChoiceNamed(tools[0])
    assert to_chat_tool_choice(neutral) == {
        "type": "function",
        "function": {"name": "GetWeather"},
    }


def test_choice_accepts_raw_tools_as_the_bound_list() -> None:
    assert normalize_tool_choice("add", [add]) == ToolChoiceNamed(normalize_tool(add))


@pytest.mark.parametrize("choice", [None, False])
def test_no_choice_means_send_nothing(choice: Any) -> None:
    assert normalize_tool_choice(choice, BOUND) is None


def test_auto_and_none_need_no_tools() -> None:
    assert normalize_tool_choice("auto", []) == ToolChoiceMode("auto")
    assert normalize_tool_choice("none", []) == ToolChoiceMode("none")


def test_allowed_tools_resolve_to_the_bound_tools() -> None:
    neutral = normalize_tool_choice(
        {"type": "allowed_tools", "mode": "auto", "tools": ["add", "web_search"]}, BOUND
    )

    assert neutral == ToolChoiceAllowed("auto", (BOUND[0], BOUND[2]))


def test_unknown_tool_name_lists_the_bound_tools() -> None:
    with pytest.raises(OptionError) as info:
        normalize_tool_choice("get_weather", BOUND)

    assert info.value.option == "tool_choice"
    assert str(info.value) == (
        "tool_choice='get_weather' is not valid: it names no bound tool; bound tools: 'add', "
        "'calc', 'web_search', 'file_search', 'mcp:deepwiki'. Use one of those names, or "
        "'auto', 'none' or 'required'"
    )


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (
            "required",
            "tool_choice='required' is not valid: it requires a tool call but no tools are "
            "bound. Bind tools first (bind_tools) or use 'auto'",
        ),
        (
            "add",
            "tool_choice='add' is not valid: it names no bound tool; bound tools: none (bind "
            "tools first). Use one of those names, or 'auto', 'none' or 'required'",
        ),
    ],
)
def test_choices_that_need_tools_fail_without_them(choice: str, message: str) -> None:
    with pytest.raises(OptionError) as info:
        normalize_tool_choice(choice, [])

    assert str(info.value) == message


@pytest.mark.parametrize(
    ("choice", "fragment"),
    [
        ({"type": "function", "name": "calc"}, "'calc' is bound as a custom tool, not a function"),
        ({"type": "custom", "name": "add"}, "'add' is bound as a function tool, not a custom"),
        ({"type": "image_generation"}, "no bound tool matches it"),
        ({"type": "mcp", "server_label": "other"}, "no bound tool matches it"),
        ({"type": "allowed_tools", "mode": "sometimes", "tools": ["add"]}, "mode 'auto' or"),
        ({"type": "allowed_tools", "mode": "auto", "tools": []}, "non-empty list of tools"),
        ({"type": "function"}, "a function tool reference needs a name"),
        (3, "expected 'auto', 'none', 'required', 'any', True"),
    ],
)
def test_invalid_choices_name_the_option(choice: Any, fragment: str) -> None:
    with pytest.raises(OptionError, match=r"^tool_choice=") as info:
        normalize_tool_choice(choice, BOUND)

    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"type": "function", "function": "get_city"}, "tools[function].function"),
        ({"type": "custom", "custom": 3}, "tools[custom].custom"),
        ({"type": "function", "name": "f", "parameters": "x"}, "tools[f].parameters"),
    ],
)
def test_malformed_tool_dicts_are_rejected_with_a_path(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(ToolSchemaError) as info:
        normalize_tool(spec)

    assert info.value.path == path
