"""Digital Gyeonggi: the shared domain package, shipped to every function as a Lambda layer.

One subpackage per bounded context: ``complaints``, ``auth``, ``safety``; ``common`` holds what
they all share (configuration, errors, observability). Domain code never imports a handler,
the local cloud or the tools (``gyeonggi_tools``); ``lint-imports`` checks it.
"""

__version__ = "0.1.0"
