"""Request options: the table (``table``), how values are written (``converters``), the rules.

- ``table``: ``RequestOptions`` declares one typed field per option with an ``Opt`` row
  saying where it goes in each API's payload; ``OPTIONS`` is read from it.
- ``converters``: values that need reshaping for one API, with what each writes.
- ``rules``: names and aliases, per-value checks, the one merge of call options over
  defaults, and checks across options.

Routing, payload building, validation and the README's option table all read ``OPTIONS``;
nothing else lists options.

May import: ``errors`` and ``bounds``; everything that builds or checks a request imports
this. What a model's facts mean for options lives in ``routing.model_checks``.
"""

from langchain_paramchat.options.converters import (
    CONVERTER_NOTES,
    Converter,
    Placement,
    Unsupported,
    chat_format_to_text_format,
    text_format_to_chat_format,
)
from langchain_paramchat.options.rules import (
    DEPRECATED_OPTIONS,
    RejectedOptionWarning,
    apply_implied_options,
    callers_stacklevel,
    check_contradictions,
    check_option,
    merge_options,
    resolve_name,
    suggest,
    warn_deprecated_options,
)
from langchain_paramchat.options.table import (
    ALIASES,
    API_LABELS,
    OPTIONS,
    Api,
    Opt,
    OptionSpec,
    RequestOptions,
    place,
    sdk_type,
)

__all__ = [
    "ALIASES",
    "API_LABELS",
    "CONVERTER_NOTES",
    "DEPRECATED_OPTIONS",
    "OPTIONS",
    "Api",
    "Converter",
    "Opt",
    "OptionSpec",
    "Placement",
    "RejectedOptionWarning",
    "RequestOptions",
    "Unsupported",
    "apply_implied_options",
    "callers_stacklevel",
    "chat_format_to_text_format",
    "check_contradictions",
    "check_option",
    "merge_options",
    "place",
    "resolve_name",
    "sdk_type",
    "suggest",
    "text_format_to_chat_format",
    "warn_deprecated_options",
]
