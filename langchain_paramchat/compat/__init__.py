"""ChatOpenAI's names and meanings, translated at the edges into ParamChat's.

Owns: ``names`` (the table of ChatOpenAI constructor and call names, what each becomes and
why) and ``translate`` (constructor and call kwargs translated by that table, ChatOpenAI's
settings fields, the README's migration table) and ``gateway`` (LangSmith gateway routing
at construction). Used only where a call enters (the model's
constructor and each call's kwargs), never inside the pipeline.
May import: ``_sdk``, ``errors``, ``options``, ``secrets``, ``tools``.
"""

from langchain_paramchat.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, ("translate", "names"))
