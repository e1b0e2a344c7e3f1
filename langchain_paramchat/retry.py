"""Kept import path: the retry policy lives in ``langchain_paramchat.transport.retry``."""

from langchain_paramchat.transport.retry import (
    MAX_RETRY_AFTER,
    RetryPolicy,
    capped_retry_after,
    is_retryable,
    parse_retry_after,
    retry_reason,
)

__all__ = [
    "MAX_RETRY_AFTER",
    "RetryPolicy",
    "capped_retry_after",
    "is_retryable",
    "parse_retry_after",
    "retry_reason",
]
