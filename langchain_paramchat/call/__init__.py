"""One call's life after its options are known: made ready, sent, relayed and finished.

Owns: ``prepared`` (one call made ready: route, payload, adapter, options, finishing step),
``stream_relay`` (a stream's chunks to the caller; a break before content starts over),
``finish`` (the one finishing step for invoke, every stream and batch results),
``reply_fields`` (ChatOpenAI's reply fields on both APIs) and ``background`` (polling a
background response, or resuming one by id).
May import: ``apis``, ``bounds``, ``errors``, ``routing``, ``tools``.
"""
