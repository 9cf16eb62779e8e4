"""The Gyeonggi Data Dam (issue 13): every system's records, pseudonymised, in one lake.

``datasets`` is the catalogue (pure dataclasses, read on request paths too); ``privacy`` the
per-dataset policies applied before a write. The lake itself (``lake``, ``records``,
``ingestion``, ``imports``) needs pyarrow and pyiceberg, which only the ingestion functions ship.
"""
