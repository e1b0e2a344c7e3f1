"""``ModelSurface``: the mixins of ``surface`` as the one base class ``ParamChat`` takes."""

from __future__ import annotations

from langchain_paramchat.surface.api_choice import ApiChoice
from langchain_paramchat.surface.compaction import Compactor
from langchain_paramchat.surface.connection import Connected
from langchain_paramchat.surface.overrides import Overridable
from langchain_paramchat.surface.pickling import Picklable
from langchain_paramchat.surface.token_count import TokenCounting

__all__ = ["ModelSurface"]


class ModelSurface(Connected, TokenCounting, Compactor, Overridable, Picklable, ApiChoice):
    """Connection and SDK objects, token counts, compaction, override points, pickling, and
    where requests go in ChatOpenAI's terms."""
