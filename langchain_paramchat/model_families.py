"""Kept for imports from earlier versions: the model facts live in ``model_facts``."""

from langchain_paramchat.model_facts import (
    FAMILIES,
    Family,
    default_responses_only_models,
    is_reasoning_model,
    system_role,
)

__all__ = [
    "FAMILIES",
    "Family",
    "default_responses_only_models",
    "is_reasoning_model",
    "system_role",
]
