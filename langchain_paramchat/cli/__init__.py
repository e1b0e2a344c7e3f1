"""The ``paramchat`` command: the demo and the README's generated tables.

Owns: ``main`` (the command line and the demo: the OpenAI API, a real local model, or the
scripted server) and ``readme`` (the option and migration tables rendered from their single
sources). Nothing else in the package imports it.
May import: anything (it is the top of the graph).
"""
