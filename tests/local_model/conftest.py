"""One real llama.cpp server (SmolLM2-135M-Instruct) shared by every test in this folder.

The tests here carry ``@pytest.mark.local_model``; they skip when the ``local`` extra
(``xllamacpp``) is not installed. The model is fetched once into the user cache
(``$PARAMCHAT_CACHE`` or ``~/.cache/langchain-paramchat``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2
import openai
import pytest

if TYPE_CHECKING:
    from langchain_paramchat.local import LocalServer

SKIP_REASON = (
    "needs llama.cpp's server from the 'local' extra: pip install 'langchain-paramchat[local]'"
)


@pytest.fixture(scope="session")
def local_model_path() -> Path:
    """Return the cached SmolLM2 GGUF file, fetching it once if needed."""
    pytest.importorskip("xllamacpp", reason=SKIP_REASON)
    from langchain_paramchat.local import fetch_model

    return fetch_model()


@pytest.fixture(scope="session")
def local_server(local_model_path: Path) -> Iterator[LocalServer]:
    """Start one llama.cpp server for the session and stop it at the end."""
    from langchain_paramchat.local import LocalServer

    server = LocalServer(local_model_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_client(local_server: LocalServer) -> Iterator[openai.OpenAI]:
    """Return a raw openai client for the local server, with no retries.

    Keep-alive is off: llama.cpp's server closes the connection right after a streamed
    reply while advertising keep-alive, so a pooled connection reused at once fails now
    and then with "Server disconnected without sending a response" (see docs/servers.md).
    """
    http_client = openai.DefaultHttpx2Client(limits=httpx2.Limits(max_keepalive_connections=0))
    client = openai.OpenAI(
        base_url=local_server.base_url,
        api_key="local",
        max_retries=0,
        timeout=60,
        http_client=http_client,
    )
    yield client
    client.close()
