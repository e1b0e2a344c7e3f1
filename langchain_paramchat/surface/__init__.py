"""What ``ParamChat`` offers besides calling: connection settings, token counts, pickling.

Owns: ``connection`` (client settings and the model's transport, built once), ``token_count``
(local and server-side token counts), ``pickling`` (what a pickled model carries),
``compaction`` (``compact()``: send a conversation to the compact endpoint), ``sdk_objects``
(ChatOpenAI's ``client``/``root_client`` SDK objects, and whether user code replaced or
patched ``create``), ``overrides`` (the subclass override points ``_get_request_payload``
and ``_create_chat_result``) and ``api_choice`` (ChatOpenAI's ``use_responses_api`` and
``_use_responses_api``, answered by the router).
May import: ``apis`` (the adapter lookup), ``compat``, ``errors``, ``options``, ``secrets``,
``tools``, ``transport`` and its retry and pacing policies; ``call`` for its ``Prepared``
type only.
"""
