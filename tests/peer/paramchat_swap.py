"""pytest plugin for the peer run: langchain-openai's tests get ``ParamChat`` as ``ChatOpenAI``.

Loaded with ``-p`` before any upstream test module is imported, so every
``from langchain_openai import ChatOpenAI`` (and the ``chat_models`` / ``chat_models.base``
spellings) hands the test ParamChat itself: no wrapper class, no adapter code here, so what
passes is ParamChat's own behaviour. langchain-openai's other classes (``AzureChatOpenAI``,
its private ``_ChatOpenAICodex``) were built on the real ChatOpenAI at import and stay so.
"""

from __future__ import annotations

import langchain_openai
import langchain_openai.chat_models
import langchain_openai.chat_models.base

from langchain_paramchat import ParamChat

for _module in (langchain_openai, langchain_openai.chat_models, langchain_openai.chat_models.base):
    _module.ChatOpenAI = ParamChat  # type: ignore[attr-defined,misc]
