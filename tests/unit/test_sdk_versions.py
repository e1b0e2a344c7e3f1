"""Options whose SDK types an older openai lacks are refused on use, saying which version."""

from __future__ import annotations

import types
from pathlib import Path

import openai
import pytest
from openai.types.responses import response_create_params

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import OptionError
from langchain_paramchat.options.sdk_versions import needed_openai, require_sdk, sdk_type

ROOT = Path(__file__).resolve().parents[2]
HAS_BACKGROUND_OPTIONS = hasattr(response_create_params, "BackgroundOptions")


def test_a_missing_sdk_type_becomes_a_marked_stand_in() -> None:
    old_sdk = types.ModuleType("response_create_params")
    stand_in = sdk_type(old_sdk, "FancyOptions", "9.1.0")
    assert needed_openai(stand_in | None) == "9.1.0"
    assert needed_openai(list[stand_in]) == "9.1.0"
    with pytest.raises(OptionError, match=r"needs openai>=9\.1\.0") as info:
        require_sdk("fancy", {"a": 1}, stand_in | None)
    assert "pip install 'openai>=9.1.0'" in str(info.value)
    assert openai.__version__ in str(info.value)


def test_a_present_sdk_type_is_the_sdks_own() -> None:
    assert sdk_type(response_create_params, "Conversation", "3.0.0") is (
        response_create_params.Conversation
    )
    assert needed_openai(response_create_params.Conversation) is None
    require_sdk("conversation", "conv_1", response_create_params.Conversation)


@pytest.mark.skipif(not HAS_BACKGROUND_OPTIONS, reason="this openai lacks BackgroundOptions")
def test_background_options_work_on_an_sdk_that_has_them() -> None:
    model = ParamChat(api_key="sk-test", background_options={"completion_window": "2h"})
    preview = model.preview_request("hi")
    assert preview.api == "responses"


@pytest.mark.skipif(HAS_BACKGROUND_OPTIONS, reason="this openai has BackgroundOptions")
def test_background_options_need_openai_3_53_on_an_older_sdk() -> None:
    with pytest.raises(OptionError, match=r"background_options.*needs openai>=3\.53\.0"):
        ParamChat(api_key="sk-test", background_options={"completion_window": "2h"})
    with pytest.raises(OptionError, match=r"needs openai>=3\.53\.0"):
        ParamChat(api_key="sk-test").preview_request("hi", background_options={})


def test_ci_pins_the_declared_floors() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("lowest", ROOT / ".ci" / "lowest_versions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pins = module.lowest_pins()
    assert {p.split("==")[0] for p in pins} == {"langchain-core", "openai", "pydantic", "tenacity"}
    assert "openai==2.45.0" in pins
    assert "lowest_versions.py" in (ROOT / ".ci" / "run").read_text()


def test_the_http_library_is_the_one_the_sdks_clients_use() -> None:
    from langchain_paramchat._sdk.http import hx

    assert issubclass(openai.DefaultHttpxClient, hx.Client)
    assert issubclass(openai.DefaultAsyncHttpxClient, hx.AsyncClient)
    assert hx.__name__ == ("httpx2" if openai.__version__.startswith("3.") else "httpx")
