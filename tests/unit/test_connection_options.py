"""Client options for reaching a real seller: default query parameters, TLS (a custom CA,
SSL_CERT_FILE / SSL_CERT_DIR, mutual TLS), a proxy. Real HTTPS on loopback with
certificates made in the test."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _servers import (
    Issued,
    Recorder,
    forward_proxy,
    issue,
    make_ca,
    recording_server,
    server_context,
)

from lso_client import (
    AllegroClient,
    APIConnectionError,
    AsyncAllegroClient,
    OAuth2ClientCredentials,
)
from lso_client._tls import ssl_context
from lso_client.testing import MockSeller, example_service_order


@dataclass
class Pki:
    ca: Issued
    server: Issued
    client_ca: Issued
    client: Issued
    stranger_ca: Issued


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = make_ca(directory, "seller-ca")
    client_ca = make_ca(directory, "buyer-ca")
    return Pki(
        ca=ca,
        server=issue(directory, ca, "seller", server=True),
        client_ca=client_ca,
        client=issue(directory, client_ca, "buyer-1", server=False),
        stranger_ca=make_ca(directory, "stranger-ca"),
    )


@pytest.fixture
def https_seller(pki: Pki) -> Iterator[Recorder]:
    with recording_server(server_context(pki.server)) as recorder:
        yield recorder


@pytest.fixture
def mtls_seller(pki: Pki) -> Iterator[Recorder]:
    with recording_server(server_context(pki.server, client_ca=pki.client_ca)) as recorder:
        yield recorder


@pytest.fixture
def no_cert_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


# --------------------------------------------------------------------------- TLS


def test_a_custom_ca_given_as_verify(pki: Pki, https_seller: Recorder, no_cert_env: None) -> None:
    with AllegroClient(https_seller.url, token="t", verify=str(pki.ca.cert)) as client:
        page = client.service_orders.list()
    assert page.items == []
    assert [s.method for s in https_seller.seen] == ["GET"]


def test_a_custom_ca_as_an_ssl_context(pki: Pki, https_seller: Recorder) -> None:
    context = ssl.create_default_context(cafile=pki.ca.cert)
    with AllegroClient(https_seller.url, token="t", verify=context) as client:
        assert client.service_orders.list().items == []


def test_ssl_cert_file_is_honoured(
    pki: Pki, https_seller: Recorder, monkeypatch: pytest.MonkeyPatch, no_cert_env: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca.cert))
    with AllegroClient(https_seller.url, token="t") as client:
        assert client.service_orders.list().items == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl names the hashed file")
def test_ssl_cert_dir_is_honoured(
    pki: Pki,
    https_seller: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    no_cert_env: None,
) -> None:
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(pki.ca.cert)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shutil.copy(pki.ca.cert, tmp_path / f"{subject_hash}.0")
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with AllegroClient(https_seller.url, token="t") as client:
        assert client.service_orders.list().items == []


async def test_the_async_client_honours_ssl_cert_file(
    pki: Pki, https_seller: Recorder, monkeypatch: pytest.MonkeyPatch, no_cert_env: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca.cert))
    async with AsyncAllegroClient(https_seller.url, token="t") as client:
        assert (await client.service_orders.list()).items == []


def test_an_unknown_ca_fails_with_a_connection_error(
    pki: Pki, https_seller: Recorder, no_cert_env: None
) -> None:
    with (
        AllegroClient(https_seller.url, token="t", max_retries=0) as client,
        pytest.raises(APIConnectionError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"),
    ):
        client.service_orders.list()
    with (
        AllegroClient(
            https_seller.url, token="t", max_retries=0, verify=str(pki.stranger_ca.cert)
        ) as client,
        pytest.raises(APIConnectionError),
    ):
        client.service_orders.list()
    assert https_seller.seen == []


def test_mutual_tls_presents_the_client_certificate(
    pki: Pki, mtls_seller: Recorder, no_cert_env: None
) -> None:
    with AllegroClient(
        mtls_seller.url,
        token="t",
        verify=str(pki.ca.cert),
        cert=(str(pki.client.cert), str(pki.client.key)),
    ) as client:
        assert client.service_orders.list().items == []
    assert [s.client_cn for s in mtls_seller.seen] == ["buyer-1"]


def test_mutual_tls_without_a_client_certificate_is_refused(
    pki: Pki, mtls_seller: Recorder, no_cert_env: None
) -> None:
    with (
        AllegroClient(mtls_seller.url, token="t", verify=str(pki.ca.cert), max_retries=0) as c,
        pytest.raises(APIConnectionError),
    ):
        c.service_orders.list()
    assert mtls_seller.seen == []


def test_oauth_token_requests_use_the_same_tls_settings(
    pki: Pki, mtls_seller: Recorder, no_cert_env: None
) -> None:
    tls = {"verify": str(pki.ca.cert), "cert": (str(pki.client.cert), str(pki.client.key))}
    auth = OAuth2ClientCredentials(
        token_url=mtls_seller.url + "/oauth2/token", client_id="c", client_secret="s", **tls
    )
    with AllegroClient(mtls_seller.url, auth=auth, **tls) as client:  # type: ignore[arg-type]
        client.service_orders.list()
    token, listing = mtls_seller.seen
    assert (token.method, token.path, token.client_cn) == ("POST", "/oauth2/token", "buyer-1")
    assert listing.headers["authorization"] == "Bearer issued-token"


def test_oauth_token_requests_read_a_ca_file_renewed_on_disk(
    pki: Pki, https_seller: Recorder, no_cert_env: None, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    shutil.copy(pki.stranger_ca.cert, bundle)  # trusted when the object is built
    auth = OAuth2ClientCredentials(
        token_url=https_seller.url + "/oauth2/token",
        client_id="c",
        client_secret="s",
        verify=str(bundle),
    )
    shutil.copy(pki.ca.cert, bundle)  # renewed: now the CA of the token server
    with AllegroClient(https_seller.url, auth=auth, verify=str(pki.ca.cert)) as client:
        client.service_orders.list()
    assert [seen.path for seen in https_seller.seen] == [
        "/oauth2/token",
        "/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder",
    ]


def test_an_encrypted_key_without_its_password_is_refused_without_a_prompt(
    pki: Pki, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = tmp_path / "buyer-encrypted.key"
    key.write_bytes(
        pki.client.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pa55word"),
        )
    )
    # stdin closed: a prompt for the password would fail or hang, not raise this.
    with pytest.raises(ValueError, match="its key is encrypted and no password was given"):
        AllegroClient("https://seller.example", cert=(str(pki.client.cert), str(key)))
    with pytest.raises(ValueError, match="cannot load the client certificate") as caught:
        AllegroClient("https://seller.example", cert=(str(pki.client.cert), str(key), "wrong"))
    assert "wrong" not in str(caught.value)
    AllegroClient("https://seller.example", cert=(str(pki.client.cert), str(key), "pa55word"))


def test_bad_tls_settings_are_refused_when_the_client_is_built(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no CA bundle"):
        AllegroClient("https://seller.example", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="cert: no file"):
        AllegroClient("https://seller.example", cert=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="load the client certificate into the context"):
        AllegroClient(
            "https://seller.example", verify=ssl.create_default_context(), cert=str(pki.client.cert)
        )
    with pytest.raises(ValueError, match="set them on that client"):
        import httpx

        AllegroClient("https://seller.example", http_client=httpx.Client(), proxy="http://p:1")


@pytest.mark.parametrize(
    "build",
    [
        AllegroClient,
        AsyncAllegroClient,
        lambda url, **tls: OAuth2ClientCredentials(
            token_url=url + "/token", client_id="buyer", client_secret="s3cret", **tls
        ),
    ],
    ids=["sync", "async", "oauth"],
)
def test_tls_files_that_do_not_load_are_refused_when_the_client_is_built(
    build: Any, pki: Pki, tmp_path: Path
) -> None:
    not_pem = tmp_path / "not-pem.crt"
    not_pem.write_bytes(b"\x30\x82 this is DER-ish, not PEM")
    url = "https://seller.example"
    with pytest.raises(ValueError, match=f"cannot load the trusted certificates from {not_pem}"):
        build(url, verify=str(not_pem))
    with pytest.raises(ValueError, match=f"cannot load the client certificate {not_pem}"):
        build(url, cert=str(not_pem))
    # A key that is not the certificate's.
    with pytest.raises(ValueError, match="cannot load the client certificate"):
        build(url, cert=(str(pki.client.cert), str(pki.server.key)))
    # What loads is taken.
    build(url, verify=str(pki.ca.cert), cert=(str(pki.client.cert), str(pki.client.key)))


def test_system_store_is_a_truststore_context() -> None:
    import truststore

    assert isinstance(ssl_context("system"), truststore.SSLContext)


# --------------------------------------------------------------------------- proxy


def test_requests_go_through_the_proxy(mock_seller: MockSeller) -> None:
    with forward_proxy() as proxy:
        with AllegroClient(mock_seller.url, token="t", proxy=proxy.url) as client:
            order = client.service_orders.create(example_service_order("allegro"))
            again = client.service_orders.retrieve(order.id)
        assert again.id == order.id
        base = mock_seller.url + "/mefApi/allegro/serviceOrderingManagement/v1"
        assert proxy.forwarded == [
            f"POST {base}/serviceOrder",
            f"GET {base}/serviceOrder/{order.id}",
        ]
        with AllegroClient(mock_seller.url, token="t") as client:
            client.service_orders.retrieve(order.id)
        assert len(proxy.forwarded) == 2  # without proxy=, straight to the seller


async def test_the_async_client_goes_through_the_proxy(mock_seller: MockSeller) -> None:
    with forward_proxy() as proxy:
        async with AsyncAllegroClient(mock_seller.url, token="t", proxy=proxy.url) as client:
            await client.service_orders.list()
        assert [f.split(" ")[0] for f in proxy.forwarded] == ["GET"]


# --------------------------------------------------------------------------- default params

OFFSET = ("offset", "0")  # every listing sends its offset


def test_default_params_go_with_every_call() -> None:
    with (
        recording_server() as seller,
        AllegroClient(
            seller.url, token="t", default_params={"buyerId": "B-1", "sellerId": "S-1"}
        ) as client,
    ):
        client.service_orders.list(limit=5)
        client.service_orders.create(example_service_order("allegro"))
        client.with_options(default_params={"sellerId": "S-2"}).service_orders.list()
    listing, create, other = seller.seen
    assert listing.query == [("buyerId", "B-1"), ("sellerId", "S-1"), OFFSET, ("limit", "5")]
    assert (create.method, create.query) == ("POST", [("buyerId", "B-1"), ("sellerId", "S-1")])
    assert other.query == [("buyerId", "B-1"), ("sellerId", "S-2"), OFFSET]


def test_a_calls_own_value_wins_over_a_default_param() -> None:
    with (
        recording_server() as seller,
        AllegroClient(seller.url, token="t", default_params={"state": "completed"}) as client,
    ):
        client.service_orders.list()
        client.service_orders.list(state="inProgress")
        client.service_orders.list(extra_query={"state": "failed"})
        client.service_orders.list(extra_query={"state": None})
    assert [s.query for s in seller.seen] == [
        [("state", "completed"), OFFSET],
        [("state", "inProgress"), OFFSET],
        [("state", "failed"), OFFSET],
        [OFFSET],  # left out of this call
    ]


async def test_the_async_client_sends_default_params() -> None:
    with recording_server() as seller:
        async with AsyncAllegroClient(
            seller.url, token="t", default_params={"buyerId": "B-1"}
        ) as client:
            await client.service_orders.list()
    assert seller.seen[0].query == [("buyerId", "B-1"), OFFSET]
