"""The ``paramchat`` command's helpers: the README's generated tables.

Owns: ``readme`` (the option table and migration table rendered from their single sources).
May import: ``compat``, ``options``.
"""
