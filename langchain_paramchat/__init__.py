"""LangChain chat model for every OpenAI request option, on either OpenAI API."""
