{{ header }}
"""Dependency clients retry transient failures and give up after the configured retries."""

import httpx

from app.clients import ServiceClient


def flaky(failures: int) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status = 503 if len(calls) <= failures else 200
        return httpx.Response(status, json={"path": request.url.path})

    return httpx.MockTransport(answer), calls


def test_client_retries_unavailable_answers() -> None:
    transport, calls = flaky(2)
    client = ServiceClient("x", "http://x", timeout=1, retries=3, transport=transport)
    response = client.get("/api/things")
    assert response.status_code == 200
    assert len(calls) == 3


def test_client_returns_the_last_answer_after_its_retries() -> None:
    transport, calls = flaky(10)
    client = ServiceClient("x", "http://x", timeout=1, retries=1, transport=transport)
    assert client.get("/").status_code == 503
    assert len(calls) == 2
