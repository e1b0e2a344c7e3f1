"""One call's life after its options are known: made ready, sent, relayed and finished.

Owns: ``prepared`` (one call made ready: route, payload, adapter, options, finishing step),
``stream_relay`` (a stream's chunks to the caller; a break before content starts over),
``finish`` (the one finishing step for invoke, every stream and batch results),
``reply_fields`` (ChatOpenAI's reply fields on both APIs) and ``background`` (polling a
background response, or resuming one by id).
May import: ``apis``, ``bounds``, ``errors``, ``routing``, ``tools``.
"""

from typing import TYPE_CHECKING

from langchain_paramchat.lazy import lazy_exports

if TYPE_CHECKING:
    from langchain_paramchat.call.background import (
        RESUMED,
        apoll,
        check_schedule,
        checked_id,
        poll,
    )
    from langchain_paramchat.call.finish import Finish, FinishedStream, result_of_stream
    from langchain_paramchat.call.stream_relay import Relay

__all__ = [
    "RESUMED",
    "Finish",
    "FinishedStream",
    "Relay",
    "apoll",
    "check_schedule",
    "checked_id",
    "poll",
    "result_of_stream",
]

# Loaded on first use: building a model needs none of them; a plain call loads ``finish``,
# a stream ``stream_relay``, a background response ``background``.
__getattr__ = lazy_exports(__name__, ("finish", "stream_relay", "background"))
