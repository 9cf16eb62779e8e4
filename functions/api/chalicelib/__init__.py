"""The API's routes, one Chalice Blueprint per group, and what the groups share.

``chalicelib`` is Chalice's name for the package it ships beside ``app.py``; SAM ships it too, as
part of the function's ``CodeUri``.
"""
