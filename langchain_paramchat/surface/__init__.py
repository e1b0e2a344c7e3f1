"""What ``ParamChat`` offers besides calling: connection settings, token counts, pickling.

Owns: ``connection`` (client settings and the model's transport, built once), ``token_count``
(local and server-side token counts), ``pickling`` (what a pickled model carries) and
``compaction`` (``compact()``: send a conversation to the compact endpoint).
May import: ``apis`` (the adapter lookup), ``compat``, ``errors``, ``options``, ``secrets``,
``tools``, ``transport`` and its retry and pacing policies.
"""
