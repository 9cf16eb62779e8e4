"""Digital Gyeonggi's tools: the ``gyeonggi`` command and everything Lambda never runs.

The device simulator, the CCTV test clips, the classifier's corpus and training, the simulated
complaint history and the admin commands (gateway registration, alert subscriptions, redrive).
They may import the domain (``gyeonggi``) and the local cloud (``localcloud``); neither of those
imports them, which ``lint-imports`` checks.
"""
