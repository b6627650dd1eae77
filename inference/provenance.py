"""Who asked for what is being generated, through which interface, and the id that ties an output to it.

An adapter opens `acting(user, interface)` around the work of one request (a UI event, a REST call, a serverless
job); everything generated inside (in this thread, or a context copied from it) sees the same `Caller`: its user
(None without a login), its interface ("ui", "rest", "openai", "serverless", "python") and a fresh `mark_id`, the
id written in the output files' tags and in the audit log, so that a file can be traced to its log lines.

    with acting("ann", "rest") as caller:   # caller.mark_id == "5f0c2a9e41b7d3c8"
        studio.synthesize(request)          # current().mark_id is the same id inside
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

INTERFACES = ("ui", "rest", "openai", "serverless", "python")


def new_mark_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Caller:
    user: str | None = None
    interface: str = "python"
    mark_id: str = field(default_factory=new_mark_id)


_current: ContextVar[Caller | None] = ContextVar("caller", default=None)


def acting(user: str | None, interface: str) -> AbstractContextManager[Caller]:
    """The work inside this block is `interface`'s request for `user`, under one new mark id."""
    if interface not in INTERFACES:
        raise ValueError(f"unknown interface {interface!r}: one of {', '.join(INTERFACES)}")
    return acting_as(Caller(user, interface))


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """The work inside this block is `caller`'s again (a request's later steps, run in other threads)."""
    token = _current.set(caller)
    try:
        yield caller
    finally:
        _current.reset(token)


def current() -> Caller:
    """The Caller of the enclosing `acting` block; outside one (a script using the library), a Python caller with
    its own new mark id."""
    return _current.get() or Caller()
