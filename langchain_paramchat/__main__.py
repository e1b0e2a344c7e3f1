"""Run the ``paramchat`` command: ``python -m langchain_paramchat demo`` and ``options-table``."""

from langchain_paramchat.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
