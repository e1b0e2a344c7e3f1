"""Run a real local model (SmolLM2-135M-Instruct) behind llama.cpp's own OpenAI-compatible server.

    with LocalServer() as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="local")

Owns the local model: ``download`` fetches and verifies the GGUF file into the user cache
(``fetch_model``, ``default_cache_dir``); ``server`` runs llama.cpp's server in a child process
(``LocalServer``). Nothing else in the package imports it. May import: ``errors`` and the
standard library (``xllamacpp`` only in the child process).
"""

from langchain_paramchat.local.download import (
    MODEL_FILENAME,
    MODEL_SHA256,
    MODEL_SIZE,
    default_cache_dir,
    fetch_model,
)
from langchain_paramchat.local.server import LocalServer, default_threads

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "LocalServer",
    "default_cache_dir",
    "default_threads",
    "fetch_model",
]
