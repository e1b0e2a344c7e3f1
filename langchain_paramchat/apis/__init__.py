"""One adapter package per OpenAI API (pure request building and reply parsing, no I/O)."""
