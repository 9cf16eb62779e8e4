"""An in-memory session store for the forms dialogue, held to :class:`SessionStore` by mypy
and to :class:`DynamoSessionStore` by ``tests/unit/test_forms_sessions.py``."""

from __future__ import annotations

import copy

from gyeonggi.forms.sessions import FormSession, SessionConflict, SessionStore


class FakeSessionStore:
    """Sessions in a dictionary, with the DynamoDB store's conditional writes."""

    def __init__(self) -> None:
        self.items: dict[str, FormSession] = {}

    def create(self, session: FormSession) -> None:
        if session.session_id in self.items:
            raise SessionConflict("a session with this id exists")
        self.items[session.session_id] = copy.deepcopy(session)

    def get(self, session_id: str) -> FormSession | None:
        found = self.items.get(session_id)
        return copy.deepcopy(found) if found else None

    def save(self, session: FormSession, expected_version: int) -> None:
        stored = self.items.get(session.session_id)
        if stored is None or stored.version != expected_version:
            raise SessionConflict("the session changed while this message was read; send it again")
        self.items[session.session_id] = copy.deepcopy(session)


_port: SessionStore = FakeSessionStore()
