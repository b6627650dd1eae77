"""Failed sign-ins are throttled per client address and per account (#21): the login form, HTTP Basic and Bearer
answer 429 with Retry-After after a burst of failures, while the right password from another address still works."""

from __future__ import annotations

import asyncio
import base64
import logging
import time

import httpx
import pytest

from api.throttle import PER_ACCOUNT, PER_CLIENT, Throttle

USER, PASSWORD, TOKEN = "studio-user", "pw-Secr3t-xyz", "tok-Secr3t-abc"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_failures_is_refused_until_a_token_is_earned_back() -> None:
    clock = Clock()
    t = Throttle(per_client=(3, 2.0), per_account=(10, 1.0), clock=clock)
    for _ in range(3):
        assert t.wait("a", "ann") == 0
        t.failed("a", "ann")
    assert t.wait("a", "ann") == 2  # one more try in 2 s
    clock.now = 1.0
    assert t.wait("a", "ann") == 1
    clock.now = 2.0
    assert t.wait("a", "ann") == 0
    assert t.wait("b", "ann") == 0  # another address, same account: its bucket is not empty yet


def test_many_addresses_still_meet_the_account_bucket(caplog) -> None:
    t = Throttle(per_client=(3, 2.0), per_account=(5, 4.0), clock=Clock())
    for i in range(5):
        t.failed(f"10.0.0.{i}", "ann")
    with caplog.at_level(logging.WARNING, logger="studio.auth"):
        assert t.wait("10.0.0.99", "ann") == 4
        assert t.wait("10.0.0.98", "ann") == 4
    assert caplog.text.count("throttled") == 1  # one line per lockout, not one per refused attempt
    assert t.wait("10.0.0.99", "bob") == 0


def app_for(auth: tuple[str, str] | None, token: str | None):
    from app import ServerSettings, create_app
    from inference import Engine, EngineSettings, Studio

    return create_app(ServerSettings(auth=auth, api_token=token), Studio(Engine(EngineSettings())))[0]


async def attempts(app, address: str, requests: list[dict]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://studio") as client:
        return [await client.request(**r) for r in requests]


def wrong_login(n: int) -> list[dict]:
    return [{"method": "POST", "url": "/login", "data": {"username": USER, "password": f"guess{i}"}} for i in range(n)]


def test_login_form_burst_gets_429_and_the_right_password_from_elsewhere_works(caplog) -> None:
    app = app_for((USER, PASSWORD), None)
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="studio.auth"):
        burst = asyncio.run(attempts(app, "203.0.113.7", wrong_login(20)))
    took = time.perf_counter() - start
    codes = [r.status_code for r in burst]
    assert codes[: PER_CLIENT[0]] == [400] * PER_CLIENT[0] and set(codes[PER_CLIENT[0] :]) == {429}, codes
    refused = burst[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= PER_CLIENT[1]
    assert "wait" in refused.json()["error"]["message"] and took < 10
    assert caplog.text.count("throttled") == 1 and PASSWORD not in caplog.text
    right = {"method": "POST", "url": "/login", "data": {"username": USER, "password": PASSWORD}}
    assert asyncio.run(attempts(app, "198.51.100.2", [right]))[0].status_code == 200
    assert asyncio.run(attempts(app, "203.0.113.7", [right]))[0].status_code == 429  # checked after the wait


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_rest_burst_gets_429_and_the_right_credential_from_elsewhere_works(scheme: str) -> None:
    app = app_for((USER, PASSWORD), TOKEN)

    def header(secret: str) -> dict:
        if scheme == "bearer":
            return {"Authorization": f"Bearer {secret}"}
        return {"Authorization": "Basic " + base64.b64encode(f"{USER}:{secret}".encode()).decode()}

    wrong = [{"method": "GET", "url": "/v1/models", "headers": header(f"guess{i}")} for i in range(20)]
    codes = [r.status_code for r in asyncio.run(attempts(app, "203.0.113.8", wrong))]
    assert codes[: PER_CLIENT[0]] == [401] * PER_CLIENT[0] and set(codes[PER_CLIENT[0] :]) == {429}, codes
    right = {"method": "GET", "url": "/v1/models", "headers": header(TOKEN if scheme == "bearer" else PASSWORD)}
    assert asyncio.run(attempts(app, "198.51.100.3", [right]))[0].status_code == 200
    assert PER_ACCOUNT[0] > PER_CLIENT[0]  # one noisy address cannot lock the account for everyone
