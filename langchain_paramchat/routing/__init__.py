"""Pick the API for one request, and know the models: the package's routing decisions.

Owns: ``decide`` (``route``/``route_call``: the API from the options in play, what each
adapter cannot carry, the model facts and the ``api``/``websocket`` settings, with the
reasons) and ``model_facts`` (what the installed SDK's model lists and one family table
say about a model: its API, tools needing Responses, developer role, reasoning, rejected
sampling options, limits, profile, shutdown date). Pure, no I/O.
May import: ``errors``, ``options``.
"""

from langchain_paramchat.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, ("decide", "model_facts"))
