"""In-memory stand-ins for AWS clients and the safety stores, defined once for every tier.

:mod:`.aws` fakes boto3 clients (Lambda, SQS) where a test needs to see the calls;
:mod:`.safety` fakes the stores and gateways of :mod:`gyeonggi.safety.ports`, checked against
those Protocols by mypy and against the real stores by ``tests/unit/test_store_contracts.py``.
"""
