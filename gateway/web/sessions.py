"""Browser sessions and one-time sign-in codes, for the web pages.

A browser never holds a bearer token in script-readable storage: it signs in once (with a
token from `wbx tokens issue`, or a one-time code that `wbx up --demo` prints) and then holds
an opaque session id in an HttpOnly, SameSite=Strict cookie. Each session has its own CSRF
token, required by every state-changing form. A session ends at sign-out or when its token
expires, whichever comes first.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.auth import Principal

# pragma: allowlist nextline secret
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a desk
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Session:
    """One signed-in browser."""

    id: str
    principal: Principal
    expires_at: datetime
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def csrf_ok(self, offered: str | None) -> bool:
        """True when a form carries this session's CSRF token (compared in constant time)."""
        return offered is not None and hmac.compare_digest(offered, self.csrf)


class Sessions:
    """Sessions by id. Bound: `capacity` sessions; past it, the oldest are signed out."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, principal: Principal, expires_at: datetime) -> Session:
        """A new session for `principal`, ending at `expires_at` (the token's expiry)."""
        session = Session(secrets.token_urlsafe(32), principal, expires_at)
        self._sessions[session.id] = session
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None, now: datetime) -> Session | None:
        """The live session with this id; an expired one is ended on sight."""
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[session.id]
            return None
        return session

    def end(self, session_id: str | None) -> None:
        """Sign a session out."""
        self._sessions.pop(session_id or "", None)


class SignInCodes:
    """One-time codes standing for a token. Single use; expire after CODE_TTL.

    Bound: `capacity` codes waiting; past it, the oldest are dropped.
    """

    def __init__(self, capacity: int = 1_000) -> None:
        self.capacity = capacity
        self._codes: OrderedDict[str, tuple[str, datetime]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._codes)

    def issue(self, token: str, now: datetime) -> str:
        """A fresh code for `token`, valid for CODE_TTL from `now`."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        self._codes[code] = (token, now + CODE_TTL)
        while len(self._codes) > self.capacity:
            self._codes.popitem(last=False)
        return code

    def redeem(self, code: str, now: datetime) -> str | None:
        """The token of a valid code, which is then spent; None for unknown, spent or expired."""
        normalised = code.strip().upper().replace("-", "").replace(" ", "")
        found = self._codes.pop(normalised, None)
        if found is None or found[1] <= now:
            return None
        return found[0]
