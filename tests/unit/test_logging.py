from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from lso_client import _logging
from lso_client._logging import (
    LOG_ENV_VAR,
    REDACTED,
    configure_from_env,
    logger,
    redact_headers,
    redact_text,
    redact_url,
)
from lso_client._transport import SyncTransport

URL = "https://seller.example/mefApi/legato/serviceOrderingManagement/v5/serviceOrder"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_logger() -> Iterator[None]:
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "X-API-Key",
        "X-Auth-Token",
        "refresh_token",
        "Client-Secret",
    ],
)
def test_sensitive_headers_are_redacted(name: str) -> None:
    assert redact_headers({name: "s3cr3t", "Accept": "application/json"}) == {
        name: REDACTED,
        "Accept": "application/json",
    }


def test_redact_headers_accepts_httpx_headers_with_repeats() -> None:
    headers = httpx.Headers([("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x-trace", "t")])
    assert redact_headers(headers) == {
        "set-cookie": f"{REDACTED}, {REDACTED}",
        "x-trace": "t",
    }


def test_redact_url_query_values_and_password() -> None:
    url = "https://u:pw@seller.example/token?client_secret=abc&client_assertion=eyJ&access_token=t&state=ok"
    redacted = redact_url(url)
    for secret in ("abc", "eyJ", "=t&", ":pw@"):
        assert secret not in redacted
    assert "state=ok" in redacted
    assert redacted.count("<redacted>") == 4
    # The whole userinfo goes: a user name alone is often a key.
    assert redacted.startswith("https://<redacted>@seller.example/token?client_secret=<redacted>&")
    plain = "https://seller.example/x?state=ok&limit=10"
    assert redact_url(plain) == plain


@pytest.mark.parametrize(
    "name",
    [
        "access_token",
        "ACCESS_TOKEN",
        "api_key",
        "apikey",
        "apiKey",
        "x-api-key",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "X-Amz-Signature",
        "sig",
        "key",
        "AWSAccessKeyId",
        "auth",
        "x-auth-user",
        "credential",
        "client_assertion",
        "sessionId",
        "code",
    ],
)
def test_credential_names_are_redacted_in_queries_and_headers(name: str) -> None:
    url = f"https://seller.example/x?state=ok&{name}=s3cr3t&limit=10"
    assert redact_url(url) == f"https://seller.example/x?state=ok&{name}={REDACTED}&limit=10"
    assert redact_headers({name: "s3cr3t"}) == {name: REDACTED}


@pytest.mark.parametrize(
    "name", ["state", "limit", "offset", "keyword", "author", "productCode", "orderDate.gt"]
)
def test_ordinary_names_are_left_alone(name: str) -> None:
    url = f"https://seller.example/x?{name}=visible"
    assert redact_url(url) == url


def test_userinfo_fragment_and_text() -> None:
    assert redact_url("https://apikey123@seller.example/x") == (
        f"https://{REDACTED}@seller.example/x"
    )
    assert redact_url("https://seller.example/cb#access_token=t0k&state=s") == (
        f"https://seller.example/cb#access_token={REDACTED}&state=s"
    )
    text = "GET https://u:pw@a.example/x?sig=abc returned 404; see http://b.example/?token=t2 ok"
    assert redact_text(text) == (
        f"GET https://{REDACTED}@a.example/x?sig={REDACTED} returned 404; "
        f"see http://b.example/?token={REDACTED} ok"
    )
    assert redact_text("no URL here: token=abc") == "no URL here: token=abc"
    assert redact_url("http://[::1") == "http://[::1"  # unparsable: returned, never raises


def test_env_var_installs_one_stderr_handler(clean_logger: None) -> None:
    before = len(logger.handlers)
    assert configure_from_env({LOG_ENV_VAR: "INFO"})
    assert configure_from_env({LOG_ENV_VAR: "debug"})
    added = logger.handlers[before:]
    assert len(added) == 1
    assert added[0].level == logging.DEBUG and logger.level == logging.DEBUG
    assert getattr(added[0], "stream", None) is sys.stderr


@pytest.mark.parametrize("value", ["", "verbose", "1"])
def test_env_var_absent_or_unknown_adds_nothing(clean_logger: None, value: str) -> None:
    before = list(logger.handlers)
    env = {LOG_ENV_VAR: value} if value else {}
    assert not configure_from_env(env)
    assert logger.handlers == before


def test_importing_the_transport_reads_the_env_var() -> None:
    code = (
        "import logging, lso_client._transport as t; "
        "lg = logging.getLogger('lso_client'); "
        "print(len(lg.handlers), logging.getLevelName(lg.level))"
    )
    env = {**os.environ, LOG_ENV_VAR: "warning", "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "WARNING"]
    env.pop(LOG_ENV_VAR)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0", "NOTSET"]


def test_transport_logs_lines_without_secrets_or_bodies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock:
        respx.post(URL).mock(
            side_effect=[
                httpx.ConnectError("refused"),
                httpx.Response(
                    201, json={"id": "order-secret-body"}, headers={"Set-Cookie": "sid=cookie1"}
                ),
            ]
        )
        transport = SyncTransport(
            default_headers={"Authorization": "Bearer tok-123", "X-Api-Key": "key-456"}
        )
        transport._sleep = lambda _: None
        with caplog.at_level(logging.DEBUG, logger="lso_client"):
            transport.request(
                "POST",
                URL,
                params={"access_token": "qtok-789", "state": "ok"},
                content=b'{"externalId": "body-secret"}',
            )
    text = caplog.text
    for secret in ("tok-123", "key-456", "qtok-789", "cookie1", "body-secret", "order-secret-body"):
        assert secret not in text
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    requests = [m for level, m in messages if m.startswith("HTTP request:")]
    assert len(requests) == 2
    assert all(level == logging.DEBUG for level, m in messages if m.startswith("HTTP "))
    assert "(retry 1)" in requests[1] and "'x-retry-count': '1'" in requests[1]
    assert any(m.startswith("HTTP failure:") and "ConnectError" in m for _, m in messages)
    response_line = next(m for _, m in messages if m.startswith("HTTP response:"))
    assert "-> 201 Created" in response_line and "state=ok" in response_line
    infos = [m for level, m in messages if level == logging.INFO]
    assert len(infos) == 1 and infos[0].startswith("Retrying POST")
    assert "'authorization': '<redacted>'" in requests[0]


def test_nothing_is_formatted_when_debug_is_off(
    monkeypatch: pytest.MonkeyPatch, clean_logger: None
) -> None:
    def boom(*_: object) -> dict[str, str]:
        raise AssertionError("headers formatted although DEBUG is off")

    monkeypatch.setattr(_logging, "redact_headers", boom)
    logger.setLevel(logging.WARNING)
    request = httpx.Request("GET", URL)
    _logging.log_request(request, retries=0)
    _logging.log_response(request, httpx.Response(200), elapsed=0.1, retries=0)
    logger.setLevel(logging.DEBUG)
    with pytest.raises(AssertionError, match="DEBUG is off"):
        _logging.log_request(request, retries=0)
