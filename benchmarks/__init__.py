"""Benchmarks: ParamChat against the raw openai SDK, ChatOpenAI and a plain-HTTP floor."""
