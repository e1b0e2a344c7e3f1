"""Compile tool and output schemas to OpenAI's strict JSON-schema subset.

Owns: ``compile`` (the compiler), ``rules`` (what the subset allows), ``refs`` (``$ref``
walking and renaming), ``verify`` (the final check of a compiled schema). Pure, no I/O.
May import: ``errors`` and ``bounds`` only.
"""
