"""Strict-mode schema compilation: a corpus built from real Python types, plus properties."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import ipaddress
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal, NotRequired

import pydantic.v1 as pydantic_v1
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, RootModel, TypeAdapter, conlist
from typing_extensions import TypedDict

from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.strict.compile import (
    MAX_ENUM_VALUES,
    MAX_NESTING_DEPTH,
    MAX_PROPERTIES,
    make_strict,
    strict_errors,
)


def schema_of(tp: Any) -> dict[str, Any]:
    if isinstance(tp, dict):
        return tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp.model_json_schema()
    if isinstance(tp, type) and issubclass(tp, pydantic_v1.BaseModel):
        return tp.schema()
    return TypeAdapter(tp).json_schema()


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Return the strict object schema with ``properties`` (all required, closed)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        **extra,
    }


NULL = {"type": "null"}

# --- the corpus's Python types ---------------------------------------------------------------


class Flat(BaseModel):
    name: str
    age: int
    score: float
    active: bool


class WithDefaults(BaseModel):
    city: str = Field(description="The city")
    days: int = 3
    note: str | None = None


class Address(BaseModel):
    street: str


class Person(BaseModel):
    """A person."""

    home: Address
    work: Address = Field(description="Where they work")
    holiday: Address | None = Field(None, description="Where they rest")
    previous: list[Address]


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode]
    parent: TreeNode | None = None


class Employee(BaseModel):
    name: str
    team: Team | None = None


class Team(BaseModel):
    members: list[Employee]


Employee.model_rebuild()


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Paint(BaseModel):
    color: Color
    second: Color | None = None
    level: Level = Level.LOW


class Literals(BaseModel):
    mode: Literal["fast", "slow"]
    unit: Literal["C", "F"] = "C"
    kind: Literal["paint"]
    mixed: Literal[1, "one"]


class Unions(BaseModel):
    value: int | str
    maybe: int | str | None = None


class Cat(BaseModel):
    pet_type: Literal["cat"]
    lives: int


class Dog(BaseModel):
    pet_type: Literal["dog"]
    barks: bool


class Owner(BaseModel):
    pet: Cat | Dog = Field(discriminator="pet_type")


class Formats(BaseModel):
    when: datetime.datetime
    day: datetime.date
    at: datetime.time
    span: datetime.timedelta
    id: uuid.UUID
    ip: ipaddress.IPv4Address
    email: Annotated[str, Field(json_schema_extra={"format": "email"})]


class DroppedFormats(BaseModel):
    url: AnyUrl
    blob: bytes


class Constrained(BaseModel):
    code: str = Field(min_length=2, max_length=8, pattern=r"^[A-Z]+$")
    n: int = Field(ge=1, lt=10, multiple_of=3)
    ratio: float = Field(gt=0, le=1)
    tags: conlist(str, min_length=1, max_length=3)  # type: ignore[valid-type]


class Collections(BaseModel):
    labels: set[str]
    numbers: tuple[int, ...]
    price: decimal.Decimal


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0
    label: str | None = None


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")

    a: int


class Annotated_(BaseModel):
    title: str = Field(title="Headline", examples=["Hello"], deprecated=True)
    default: int = 3


class Empty(BaseModel):
    pass


class LegacyInner(pydantic_v1.BaseModel):
    a: int


class Legacy(pydantic_v1.BaseModel):
    inner: LegacyInner
    note: str | None = None


# --- expected results ------------------------------------------------------------------------

ADDRESS = obj({"street": {"type": "string"}})

SUCCESSES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "flat_required_scalars",
        Flat,
        obj(
            {
                "name": {"type": "string"},
                "age": {"type": "integer"},
                "score": {"type": "number"},
                "active": {"type": "boolean"},
            }
        ),
    ),
    (
        "defaults_become_nullable_and_disappear",
        WithDefaults,
        obj(
            {
                "city": {"type": "string", "description": "The city"},
                "days": {"type": ["integer", "null"]},
                "note": {"anyOf": [{"type": "string"}, NULL]},
            }
        ),
    ),
    (
        "nested_models_refs_and_descriptions",
        Person,
        obj(
            {
                "home": {"$ref": "#/$defs/Address"},
                "work": {**ADDRESS, "description": "Where they work"},
                "holiday": {
                    "anyOf": [{"$ref": "#/$defs/Address"}, NULL],
                    "description": "Where they rest",
                },
                "previous": {"type": "array", "items": {"$ref": "#/$defs/Address"}},
            },
            description="A person.",
            **{"$defs": {"Address": ADDRESS}},
        ),
    ),
    (
        "recursive_model_uses_root_recursion",
        TreeNode,
        obj(
            {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#"}},
                "parent": {"anyOf": [{"$ref": "#"}, NULL]},
            }
        ),
    ),
    (
        "mutually_recursive_models",
        Employee,
        obj(
            {
                "name": {"type": "string"},
                "team": {"anyOf": [{"$ref": "#/$defs/Team"}, NULL]},
            },
            **{
                "$defs": {
                    "Team": obj({"members": {"type": "array", "items": {"$ref": "#"}}}),
                }
            },
        ),
    ),
    (
        "enums_in_defs_optional_enum_wrapped",
        Paint,
        obj(
            {
                "color": {"$ref": "#/$defs/Color"},
                "second": {"anyOf": [{"$ref": "#/$defs/Color"}, NULL]},
                "level": {"anyOf": [{"$ref": "#/$defs/Level"}, NULL]},
            },
            **{
                "$defs": {
                    "Color": {"type": "string", "enum": ["red", "blue"]},
                    "Level": {"type": "integer", "enum": [1, 2]},
                }
            },
        ),
    ),
    (
        "literals_enum_const_and_mixed",
        Literals,
        obj(
            {
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "unit": {"anyOf": [{"type": "string", "enum": ["C", "F"]}, NULL]},
                "kind": {"type": "string", "const": "paint"},
                "mixed": {"enum": [1, "one"]},
            }
        ),
    ),
    (
        "unions_stay_anyof",
        Unions,
        obj(
            {
                "value": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "maybe": {"anyOf": [{"type": "integer"}, {"type": "string"}, NULL]},
            }
        ),
    ),
    (
        "discriminated_union_oneof_becomes_anyof",
        Owner,
        obj(
            {"pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]}},
            **{
                "$defs": {
                    "Cat": obj(
                        {
                            "pet_type": {"type": "string", "const": "cat"},
                            "lives": {"type": "integer"},
                        }
                    ),
                    "Dog": obj(
                        {
                            "pet_type": {"type": "string", "const": "dog"},
                            "barks": {"type": "boolean"},
                        }
                    ),
                }
            },
        ),
    ),
    (
        "supported_formats_kept",
        Formats,
        obj(
            {
                "when": {"type": "string", "format": "date-time"},
                "day": {"type": "string", "format": "date"},
                "at": {"type": "string", "format": "time"},
                "span": {"type": "string", "format": "duration"},
                "id": {"type": "string", "format": "uuid"},
                "ip": {"type": "string", "format": "ipv4"},
                "email": {"type": "string", "format": "email"},
            }
        ),
    ),
    (
        "unsupported_formats_dropped_lengths_kept",
        DroppedFormats,
        obj({"url": {"type": "string", "minLength": 1}, "blob": {"type": "string"}}),
    ),
    (
        "constrained_strings_numbers_arrays",
        Constrained,
        obj(
            {
                "code": {
                    "type": "string",
                    "minLength": 2,
                    "maxLength": 8,
                    "pattern": "^[A-Z]+$",
                },
                "n": {
                    "type": "integer",
                    "minimum": 1,
                    "exclusiveMaximum": 10,
                    "multipleOf": 3,
                },
                "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 3,
                },
            }
        ),
    ),
    (
        "sets_lose_unique_items_variadic_tuples_are_lists",
        Collections,
        obj(
            {
                "labels": {"type": "array", "items": {"type": "string"}},
                "numbers": {"type": "array", "items": {"type": "integer"}},
                "price": {"anyOf": [{"type": "number"}, {"type": "string"}]},
            }
        ),
    ),
    (
        "dataclass_with_defaults",
        Point,
        obj(
            {
                "x": {"type": "number"},
                "y": {"type": ["number", "null"]},
                "label": {"anyOf": [{"type": "string"}, NULL]},
            }
        ),
    ),
    (
        "typeddict_not_required",
        Movie,
        obj({"title": {"type": "string"}, "year": {"type": ["integer", "null"]}}),
    ),
    (
        "extra_allow_is_narrowed_to_closed",
        Loose,
        obj({"a": {"type": "integer"}}),
    ),
    (
        "annotations_dropped_property_names_kept",
        Annotated_,
        obj({"title": {"type": "string"}, "default": {"type": ["integer", "null"]}}),
    ),
    ("empty_model_is_an_empty_closed_object", Empty, obj({})),
    (
        "pydantic_v1_definitions_become_defs",
        Legacy,
        obj(
            {
                "inner": {"$ref": "#/$defs/LegacyInner"},
                "note": {"type": ["string", "null"]},
            },
            **{"$defs": {"LegacyInner": obj({"a": {"type": "integer"}})}},
        ),
    ),
    (
        "optional_list_of_models",
        dict(
            type="object",
            properties={
                "items": {"type": "array", "items": {"$ref": "#/$defs/Address"}, "default": []}
            },
            **{"$defs": {"Address": Address.model_json_schema()}},
        ),
        obj(
            {
                "items": {
                    "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Address"}}, NULL],
                }
            },
            **{"$defs": {"Address": ADDRESS}},
        ),
    ),
    (
        "openai_doc_nullable_enum_gets_null_member",
        {
            "type": "object",
            "properties": {"unit": {"type": ["string", "null"], "enum": ["F", "C"]}},
        },
        obj({"unit": {"type": ["string", "null"], "enum": ["F", "C", None]}}),
    ),
    (
        "single_entry_allof_is_flattened",
        {
            "type": "object",
            "properties": {
                "home": {"allOf": [{"$ref": "#/$defs/Address"}], "description": "Home"},
            },
            "required": ["home"],
            "$defs": {"Address": Address.model_json_schema()},
        },
        obj({"home": {**ADDRESS, "description": "Home"}}),
    ),
    (
        "optional_const_is_wrapped_with_description_outside",
        {
            "type": "object",
            "properties": {"v": {"const": 1, "description": "always one"}},
        },
        obj({"v": {"anyOf": [{"const": 1}, NULL], "description": "always one"}}),
    ),
    (
        "vendor_extensions_dropped",
        {
            "type": "object",
            "properties": {"q": {"type": "string", "x-order": 1, "$comment": "internal"}},
            "required": ["q"],
            "$schema": "https://json-schema.org/draft/2020-12/schema",
        },
        obj({"q": {"type": "string"}}),
    ),
    (
        "object_without_type_keyword",
        {"properties": {"q": {"type": "string"}}, "required": ["q"]},
        obj({"q": {"type": "string"}}),
    ),
    (
        "unused_defs_are_dropped",
        {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
            "$defs": {"Unused": {"type": "object", "additionalProperties": True}},
        },
        obj({"q": {"type": "string"}}),
    ),
]


class Meta(BaseModel):
    data: dict[str, Any]


class Holder(BaseModel):
    meta: Meta


FREE_FORM = (
    "free-form objects are not allowed in strict mode; give it fixed properties or use strict=False"
)
MAPPING = (
    "objects with arbitrary keys (additionalProperties: <schema>, e.g. dict[str, int]) are not "
    "allowed in strict mode; give it fixed properties (a model) or use strict=False"
)


def model_with(tp: Any, default: Any = ...) -> type[BaseModel]:
    fields: dict[str, Any] = {"__annotations__": {"f": tp}}
    if default is not ...:
        fields["f"] = default
    return type("M", (BaseModel,), fields)


def nested_models(depth: int) -> type[BaseModel]:
    model: type[BaseModel] = type("L0", (BaseModel,), {"__annotations__": {"leaf": str}})
    for i in range(1, depth):
        model = type(f"L{i}", (BaseModel,), {"__annotations__": {"child": model}})
    return model


FAILURES: list[tuple[str, Any, str, str]] = [
    ("dict_str_any", model_with(dict[str, Any]), "$.properties.f", FREE_FORM),
    ("bare_dict", model_with(dict), "$.properties.f", FREE_FORM),
    ("dict_str_int", model_with(dict[str, int]), "$.properties.f", MAPPING),
    ("optional_dict", model_with(dict | None, None), "$.properties.f.anyOf[0]", FREE_FORM),
    ("list_of_dicts", model_with(list[dict[str, Any]]), "$.properties.f.items", FREE_FORM),
    ("free_form_inside_a_definition", Holder, "$.$defs.Meta.properties.data", FREE_FORM),
    (
        "fixed_tuple",
        model_with(tuple[int, str]),
        "$.properties.f",
        "prefixItems is not supported in strict mode, so tuples cannot be expressed; use a list "
        "(list[X]) or a model with named fields, or use strict=False",
    ),
    (
        "any",
        model_with(Any),
        "$.properties.f",
        "a schema without a type accepts any value, which strict mode does not allow; "
        "give it a type (e.g. str, int, a model) or use strict=False",
    ),
    (
        "root_is_a_list",
        RootModel[list[int]],
        "$",
        "the root of a strict schema must be an object (type: object), got type 'array'; wrap "
        "the value in an object with one field or use strict=False",
    ),
    (
        "root_is_a_union",
        Cat | Dog,
        "$",
        "the root of a strict schema must not be anyOf (a union); wrap the union in an object "
        "with one field or use strict=False",
    ),
    (
        "too_deep",
        nested_models(MAX_NESTING_DEPTH + 1),
        "$" + ".properties.child" * MAX_NESTING_DEPTH,
        "objects nest more than 10 levels deep here; OpenAI allows at most 10 in a strict "
        "schema. Flatten the model or use strict=False",
    ),
    (
        "too_many_enum_values",
        model_with(enum.Enum("Big", {f"V{i}": f"v{i}" for i in range(MAX_ENUM_VALUES + 1)})),
        "$",
        "the schema has 1001 enum values; OpenAI allows at most 1000 across a strict schema. "
        "Use a plain string or strict=False",
    ),
    (
        "too_many_properties",
        {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5001)}},
        "$",
        "the schema has 5001 object properties; OpenAI allows at most 5000 in a strict schema. "
        "Split the tool or use strict=False",
    ),
    (
        "long_large_enum",
        {
            "type": "object",
            "properties": {"e": {"type": "string", "enum": [f"{i:060d}" for i in range(251)]}},
            "required": ["e"],
        },
        "$.properties.e",
        "this enum has 251 values totalling 15060 characters; OpenAI allows at most 15000 "
        "characters in one string enum of more than 250 values. Shorten or split it, or use "
        "strict=False",
    ),
    (
        "total_string_length",
        {
            "type": "object",
            "properties": {("k" * 100 + str(i)): {"type": "string"} for i in range(1200)},
        },
        "$",
        "property names, definition names, enum and const values total 123690 characters; "
        "OpenAI allows at most 120000 in a strict schema. Shorten them or use strict=False",
    ),
    (
        "several_allof",
        {"type": "object", "properties": {"a": {"allOf": [{"type": "string"}, {"minLength": 1}]}}},
        "$.properties.a",
        "allOf with several schemas is not supported in strict mode (OpenAI lists allOf, not, "
        "dependentRequired, dependentSchemas, if, then and else as unsupported); simplify the "
        "schema or use strict=False",
    ),
    (
        "not_keyword",
        {"type": "object", "properties": {"a": {"type": "string", "not": {"const": "x"}}}},
        "$.properties.a",
        "not is not supported in strict mode (OpenAI lists allOf, not, dependentRequired, "
        "dependentSchemas, if, then and else as unsupported); simplify the schema or use "
        "strict=False",
    ),
    (
        "oneof_without_discriminator",
        {
            "type": "object",
            "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
        },
        "$.properties.a",
        "oneOf is not supported in strict mode; use anyOf (a Union) or strict=False",
    ),
    (
        "remote_ref",
        {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}},
        "$.properties.a",
        "$ref 'https://example.com/a.json' is not supported in strict mode; only '#' and "
        "'#/$defs/<name>' references are",
    ),
    (
        "unknown_keyword",
        {"type": "object", "properties": {"a": {"type": "string", "nullable": True}}},
        "$.properties.a",
        "keyword 'nullable' is not supported in strict mode; remove it or use strict=False",
    ),
    (
        "required_names_a_missing_property",
        {"type": "object", "properties": {}, "required": ["ghost"]},
        "$",
        "required lists 'ghost', which is not in properties; add the property or remove it "
        "from required",
    ),
    (
        "array_without_items",
        {"type": "object", "properties": {"a": {"type": "array"}}},
        "$.properties.a",
        "an array needs an items schema in strict mode; use list[<type>] or strict=False",
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"), [c[1:] for c in SUCCESSES], ids=[c[0] for c in SUCCESSES]
)
def test_compiles_to_the_exact_strict_schema(source: Any, expected: dict[str, Any]) -> None:
    schema = schema_of(source)
    before = copy.deepcopy(schema)

    out = make_strict(schema)

    assert out == expected
    assert strict_errors(out) == []
    assert schema == before, "make_strict must not mutate its input"


@pytest.mark.parametrize(
    ("source", "path", "message"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES]
)
def test_rejects_with_path_and_fix(source: Any, path: str, message: str) -> None:
    with pytest.raises(ToolSchemaError) as info:
        make_strict(schema_of(source))

    assert info.value.path == path
    assert str(info.value) == f"{path}: {message}"


def test_corpus_is_large_enough() -> None:
    assert len(SUCCESSES) + len(FAILURES) >= 25


def test_error_path_carries_the_callers_prefix() -> None:
    with pytest.raises(ToolSchemaError) as info:
        make_strict(schema_of(model_with(dict[str, Any])), path="tools[get_weather].parameters")

    assert info.value.path == "tools[get_weather].parameters.properties.f"


def test_nesting_at_the_limit_is_accepted() -> None:
    out = make_strict(schema_of(nested_models(MAX_NESTING_DEPTH)))

    assert strict_errors(out) == []


def test_property_count_at_the_limit_is_accepted() -> None:
    schema = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5000)}}

    assert len(make_strict(schema)["required"]) == MAX_PROPERTIES


def test_odd_property_names_get_quoted_paths() -> None:
    schema = {"type": "object", "properties": {"a.b c": {"type": "object"}}}

    with pytest.raises(ToolSchemaError) as info:
        make_strict(schema)

    assert info.value.path == '$.properties["a.b c"]'


def test_strict_errors_lists_every_violation() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "default": "x"},
            "b": {"type": "object", "properties": {}},
            "c": {"$ref": "#/$defs/Missing", "description": "dangling"},
        },
        "required": ["a"],
    }

    assert strict_errors(schema) == [
        "$: object must set additionalProperties: false",
        "$: required must list every property",
        "$.properties.a: keyword 'default' is not allowed in strict mode",
        "$.properties.b: object must set additionalProperties: false",
        "$.properties.b: required must list every property",
        "$.properties.c: $ref '#/$defs/Missing' does not resolve to '#' or a $defs entry",
        "$.properties.c: $ref must not have sibling keywords",
    ]


def test_strict_errors_rejects_a_non_object_root() -> None:
    assert strict_errors({"anyOf": [{"type": "string"}]}) == [
        "$: the root of a strict schema must not be anyOf",
        "$: the root of a strict schema must be an object (type: object)",
    ]


# --- properties ------------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "title", "default", "type", "items", "x-y", "with space"])
SCALARS = st.one_of(
    st.sampled_from(["string", "integer", "number", "boolean"]).map(lambda t: {"type": t}),
    st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=4, unique=True).map(
        lambda vs: {"type": "string", "enum": vs}
    ),
    st.just({"const": "fixed"}),
    st.just({"type": "string", "format": "uri"}),
    st.just({"$ref": "#/$defs/Leaf"}),
    st.just({"type": ["string", "null"]}),
)


def _annotated(schema_strategy: st.SearchStrategy[dict[str, Any]]) -> Any:
    extras = st.fixed_dictionaries(
        {},
        optional={
            "title": st.just("T"),
            "description": st.just("d"),
            "default": st.none(),
            "examples": st.just([1]),
        },
    )
    return st.tuples(schema_strategy, extras).map(lambda p: {**p[0], **p[1]})


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> Any:
    props = st.dictionaries(NAMES, children, max_size=4)
    return props.flatmap(
        lambda ps: st.lists(st.sampled_from(sorted(ps)) if ps else st.nothing(), unique=True).map(
            lambda req: {"type": "object", "properties": ps, "required": req}
        )
    )


SCHEMAS = st.recursive(
    _annotated(SCALARS),
    lambda children: st.one_of(
        _annotated(_objects(children)),
        _annotated(children.map(lambda c: {"type": "array", "items": c})),
        _annotated(st.lists(children, min_size=2, max_size=3).map(lambda bs: {"anyOf": bs})),
    ),
    max_leaves=12,
)
ROOTS = _objects(SCHEMAS).map(
    lambda root: {
        **root,
        "$defs": {"Leaf": {"type": "object", "properties": {"v": {"type": "integer"}}}},
    }
)


def schema_nodes(schema: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from schema_nodes(sub)
    for key in ("items",):
        if key in schema:
            yield from schema_nodes(schema[key])
    for sub in schema.get("anyOf", []):
        yield from schema_nodes(sub)
    for sub in schema.get("$defs", {}).values():
        yield from schema_nodes(sub)


@settings(max_examples=100, deadline=None)
@given(ROOTS)
def test_compiling_twice_changes_nothing(schema: dict[str, Any]) -> None:
    once = make_strict(schema)

    assert make_strict(once) == once
    assert strict_errors(once) == []


@settings(max_examples=100, deadline=None)
@given(ROOTS)
def test_output_never_has_a_default_and_keeps_every_property(schema: dict[str, Any]) -> None:
    before = copy.deepcopy(schema)

    out = make_strict(schema)

    assert all("default" not in node for node in schema_nodes(out))
    assert list(out["properties"]) == list(schema["properties"])
    assert schema == before
