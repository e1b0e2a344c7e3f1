"""What ``ParamChat`` offers besides calling: connection settings, token counts, pickling.

Owns: ``connection`` (client settings and the model's transport, built once), ``token_count``
(local and server-side token counts) and ``pickling`` (what a pickled model carries).
May import: ``compat``, ``errors``, ``options``, ``secrets``, ``tools``, ``transport`` and its
retry and
pacing policies.
"""
