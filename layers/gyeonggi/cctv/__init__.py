"""The registry of the province's CCTV cameras (issue 12, section 2).

Every camera of the 31 cities' and counties' control centres in one place: what it is and why it
films (``models``), how long its video is kept (``retention``), the public data format it is
imported from and exported to (``standard_data``), who may see and manage it (``access``), its
health (``health``; ``segment_watch``: each segment arriving, ``tamper`` statistics against a
``references`` frame; ``health_checks``: the sweep for silent cameras), and an audit of every
view (``audit``). ``registry`` holds the use cases the API calls; ``ports`` the stores as
``typing.Protocol``s; ``store``, ``health``, ``audit``, ``videos`` and ``references`` their
DynamoDB and S3 implementations. The import and export commands are ``gyeonggi_tools.cctv``'s.
"""
