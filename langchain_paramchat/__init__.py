"""LangChain chat model for every OpenAI request option, on either OpenAI API."""

from langchain_paramchat.chat_model import ParamChat, RequestPreview
from langchain_paramchat.errors import (
    IncompatibleOptionsError,
    OptionError,
    ParamChatError,
    UnknownOptionError,
)

__all__ = [
    "IncompatibleOptionsError",
    "OptionError",
    "ParamChat",
    "ParamChatError",
    "RequestPreview",
    "UnknownOptionError",
]
__version__ = "0.1.0"
