"""One adapter package per OpenAI API (pure request building and reply parsing, no I/O).

Owns: ``adapter`` (the ``Adapter`` Protocol and the base both APIs share), ``content``
(message content blocks read into one neutral form), ``request_parts`` and ``reply_parts``
(pieces both APIs' builders and parsers share), and one package per API.
May import: ``errors``, ``bounds``, ``options`` (the SDK type checker), ``tools``,
``model_facts``;
never the transport, the model or ``call``.
"""
