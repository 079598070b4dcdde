{{ header }}
"""Clients for the services {{ svc.name.raw }} calls{% if svc.depends_on %} ({% for d in svc.depends_on %}{{ d.name.raw }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}.

Every request has a timeout; connection errors and 502/503/504 answers are retried with
exponential backoff. Addresses come from the environment ({% for d in svc.depends_on %}`{{ d.env_var }}`{% if not loop.last %}, {% endif %}{% else %}none yet{% endfor %}).
"""

import logging
import time
from typing import Any

import httpx

from app.config import get_settings

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({502, 503, 504})


class ServiceClient:
    """A small HTTP client for one service."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        retries: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.retries = retries
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport or httpx.HTTPTransport(retries=1),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    return response
                status = response.status_code
                log.warning("%s %s%s: %s", method, self.name, path, status)
            except httpx.TransportError:
                if attempt >= self.retries:
                    raise
                log.warning("%s %s%s: connection failed", method, self.name, path)
            attempt += 1
            time.sleep(min(0.05 * 2**attempt, 2.0))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._http.close()


_clients: dict[str, ServiceClient] = {}


def client(name: str) -> ServiceClient:
    """The client of a dependency, created on first use."""
    if name not in _clients:
        settings = get_settings()
{%- if svc.depends_on %}
        urls: dict[str, str] = {
{%- for d in svc.depends_on %}{% if d.protocol == "http" %}
            "{{ d.name.raw }}": settings.{{ d.env_var | lower }},
{%- endif %}{% endfor %}
        }
{%- else %}
        urls: dict[str, str] = {}
{%- endif %}
        _clients[name] = ServiceClient(
            name,
            urls[name],
            timeout=settings.request_timeout_seconds,
            retries=settings.request_retries,
        )
    return _clients[name]


def close_all() -> None:
    """Close every client (graceful shutdown)."""
    while _clients:
        _clients.popitem()[1].close()
