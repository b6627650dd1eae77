"""Failed sign-ins, slowed down: a token bucket per client address and per account.

Each failure takes one token from both buckets; a bucket refills at a steady rate up to its size. While either bucket
is empty, attempts are refused (429) before any credential is checked, so a guesser gets about `refill` tries a
second per address instead of hundreds, and spreading over many addresses still meets the account's bucket. The
account's bucket is larger than an address's: a visitor typing the right password from elsewhere is not locked out
by one noisy address.

    >>> t = Throttle(per_client=(2, 1.0), per_account=(5, 1.0), clock=lambda: 0.0)
    >>> t.failed("1.2.3.4", "ann"); t.failed("1.2.3.4", "ann"); t.wait("1.2.3.4", "ann")
    1
    >>> t.wait("5.6.7.8", "ann")
    0
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger("studio.auth")
PER_CLIENT = (5, 5.0)  # (failures in a burst, seconds to earn one more) for one client address
PER_ACCOUNT = (20, 3.0)  # the same for one account (a user name, or "token" for Bearer), whatever the address
MAX_KEYS = 10_000  # buckets kept at most (full ones are dropped first): a flood of addresses cannot fill memory


class Throttle:
    def __init__(
        self,
        per_client: tuple[int, float] = PER_CLIENT,
        per_account: tuple[int, float] = PER_ACCOUNT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"client": per_client, "account": per_account}
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # (kind, key) -> (tokens, at)
        self._logged: set[tuple[str, str]] = set()  # buckets whose current lockout was logged
        self._lock = threading.Lock()

    def _tokens(self, kind: str, key: str, now: float) -> float:
        size, every_s = self.limits[kind]
        tokens, at = self._buckets.get((kind, key), (size, now))
        return min(size, tokens + (now - at) / every_s)

    def wait(self, client: str, account: str) -> int:
        """Seconds before `client` may try `account` again (0: now). Each lockout is logged once."""
        now = self.clock()
        with self._lock:
            waits = []
            for kind, key in (("client", client), ("account", account)):
                tokens = self._tokens(kind, key, now)
                if tokens >= 1:
                    self._logged.discard((kind, key))
                    continue
                waits.append(math.ceil((1 - tokens) * self.limits[kind][1]))
                if (kind, key) not in self._logged:
                    self._logged.add((kind, key))
                    log.warning("sign-in throttled: too many failures for %s %r; refusing (429)", kind, key[:40])
            return max(waits, default=0)

    def failed(self, client: str, account: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            for kind, key in (("client", client), ("account", account)):
                self._buckets[(kind, key)] = (self._tokens(kind, key, now) - 1, now)

    def _forget_full(self, now: float) -> None:
        full = [k for k in self._buckets if self._tokens(*k, now) >= self.limits[k[0]][0]]
        for k in full or list(self._buckets)[: MAX_KEYS // 2]:
            del self._buckets[k]
