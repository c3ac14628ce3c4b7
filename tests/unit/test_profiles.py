"""Seller profiles: a TOML file and the environment, `from_profile()` on every client class."""

from __future__ import annotations

import base64
import logging
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from _servers import forward_proxy, issue, make_ca, recording_server, server_context

import lso_client
from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncInterludeClient,
    AsyncLegatoClient,
    InterludeClient,
    LegatoClient,
    ProfileError,
)
from lso_client._profiles import load_profile, profile_names
from lso_client.testing import MockSeller

SECRETS = ("tok-SECRET-1", "cs-SECRET-2", "pw-SECRET-3", "px-SECRET-4")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LSO_* setting of the machine running the tests, and no ~/.config/lso."""
    for name in list(os.environ):
        if name.startswith("LSO_") and not name.startswith(("LSO_CLIENT_", "LSO_SPECS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text))
    return path


# --------------------------------------------------------------------------- several sellers


@pytest.fixture
def second_seller() -> Iterator[MockSeller]:
    with MockSeller() as seller:
        yield seller


def test_several_sellers_are_several_profiles(
    mock_seller: MockSeller,
    second_seller: MockSeller,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mock_seller.seed_orders(3)
    second_seller.seed_orders(5)
    config = write(
        tmp_path,
        f"""
        default = "north"

        [profiles.north]
        base_url = "{mock_seller.url}"
        token = "t"

        [profiles.south-east]
        base_url = "{second_seller.url}"
        token = "t"
        """,
    )
    monkeypatch.setenv("LSO_CONFIG", str(config))
    assert profile_names() == ["north", "south-east"]
    with (
        AllegroClient.from_profile() as default,
        AllegroClient.from_profile("north") as north,
        AllegroClient.from_profile("south-east") as south,
    ):
        assert default.base_url == north.base_url == mock_seller.url
        assert north.service_orders.list().total_count == 3
        assert south.service_orders.list().total_count == 5
    monkeypatch.setenv("LSO_PROFILE", "south-east")
    with AllegroClient.from_profile() as chosen:
        assert chosen.base_url == second_seller.url


@pytest.mark.parametrize(
    "cls",
    [
        AllegroClient,
        InterludeClient,
        LegatoClient,
        AsyncAllegroClient,
        AsyncInterludeClient,
        AsyncLegatoClient,
    ],
)
def test_every_client_class_is_built_from_a_profile(cls: type, tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
        [profiles.lab]
        base_url = "https://lab.example"
        strict = true
        payloads = "at_once"
        api_base_urls = { service_ordering = "https://orders.lab.example/v1" }
        """,
    )
    client = cls.from_profile("lab", config_file=config)
    assert type(client) is cls
    assert client.base_url == "https://lab.example"
    assert client.strict is True
    assert client.payloads == "at_once"
    assert client.api_base_url("service_ordering_v1").startswith("https://orders.lab.example/")


async def test_an_async_client_from_a_profile_calls_the_seller(
    mock_seller: MockSeller, tmp_path: Path
) -> None:
    mock_seller.seed_orders(2)
    config = write(tmp_path, f'[profiles.lab]\nbase_url = "{mock_seller.url}"\ntoken = "t"\n')
    async with AsyncAllegroClient.from_profile("lab", config_file=config) as client:
        assert (await client.service_orders.list()).total_count == 2


# --------------------------------------------------------------------------- the environment


def test_the_environment_alone_makes_a_profile(
    mock_seller: MockSeller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LSO_BASE_URL", mock_seller.url)
    monkeypatch.setenv("LSO_TOKEN", "t")
    monkeypatch.setenv("LSO_DEFAULT_PARAMS", '{"buyerId": "B-1"}')
    with AllegroClient.from_profile() as client:
        assert client.service_orders.list().items == []
        assert client._transport.default_params == {"buyerId": "B-1"}


def test_environment_overrides_the_file_and_keywords_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path,
        """
        default = "lab"

        [profiles.lab]
        base_url = "https://file.example"
        timeout = 10
        max_retries = 1

        [profiles.other]
        base_url = "https://other.example"
        """,
    )
    monkeypatch.setenv("LSO_TIMEOUT", "20")
    monkeypatch.setenv("LSO_MAX_RETRIES", "3")
    monkeypatch.setenv("LSO_PROFILES__LAB__MAX_RETRIES", "4")
    monkeypatch.setenv("LSO_PROFILES__LAB__BASE_URL", "https://env.example")
    # The profile in use when none is named: the global variables, then its own.
    lab = AllegroClient.from_profile(config_file=config)
    assert lab.base_url == "https://env.example"
    assert (lab._transport.timeout, lab._transport.max_retries) == (20.0, 4)
    # A profile named by the caller: its own variables only.
    named = AllegroClient.from_profile("lab", config_file=config)
    assert named.base_url == "https://env.example"
    assert (named._transport.timeout, named._transport.max_retries) == (10.0, 4)
    other = AllegroClient.from_profile("other", config_file=config)
    assert other.base_url == "https://other.example"  # another profile's variables
    assert other._transport.max_retries != 3
    kept = AllegroClient.from_profile(config_file=config, max_retries=0, timeout=1)
    assert (kept._transport.timeout, kept._transport.max_retries) == (1, 0)


def test_global_variables_never_redirect_a_profile_the_caller_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path,
        """
        default = "lab"

        [profiles.lab]
        base_url = "https://lab.example"
        token = "lab-token"

        [profiles.prod]
        base_url = "https://prod.example"
        token = "prod-token"
        """,
    )
    # Left over from a session against another seller.
    monkeypatch.setenv("LSO_BASE_URL", "https://elsewhere.example")
    monkeypatch.setenv("LSO_TOKEN", "elsewhere-token")
    prod = load_profile("prod", config_file=config).client_settings()
    assert (prod["base_url"], prod["token"]) == ("https://prod.example", "prod-token")
    chosen = load_profile(config_file=config).client_settings()
    assert (chosen["base_url"], chosen["token"]) == ("https://elsewhere.example", "elsewhere-token")


def test_a_named_profile_without_a_base_url_is_refused_not_sent_to_lso_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, '[profiles.prod]\ntoken = "prod-token"\n')
    monkeypatch.setenv("LSO_BASE_URL", "https://elsewhere.example")
    with pytest.raises(ProfileError, match=r"profile 'prod' in .*: base_url: not set") as raised:
        AllegroClient.from_profile("prod", config_file=config)
    assert "prod-token" not in str(raised.value)


def test_a_profile_may_live_in_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, '[profiles.lab]\nbase_url = "https://lab.example"\n')
    monkeypatch.setenv("LSO_PROFILES__CI_SELLER__BASE_URL", "https://ci.example")
    assert AllegroClient.from_profile("ci-seller", config_file=config).base_url == (
        "https://ci.example"
    )


def test_a_token_from_the_environment_replaces_the_files_oauth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path,
        """
        [profiles.lab]
        base_url = "https://lab.example"
        oauth = { token_url = "https://auth.example/token", client_id = "c", client_secret = "s" }
        """,
    )
    monkeypatch.setenv("LSO_PROFILES__LAB__TOKEN", "from-env")
    profile = load_profile("lab", config_file=config)
    assert profile.oauth is None
    assert profile.client_settings()["token"] == "from-env"


# --------------------------------------------------------------------------- credentials


def test_token_env_names_the_variable_holding_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recording_server() as seller:
        config = write(
            tmp_path, f'[profiles.lab]\nbase_url = "{seller.url}"\ntoken_env = "LAB_TOKEN"\n'
        )
        with pytest.raises(ProfileError) as missing:
            AllegroClient.from_profile("lab", config_file=config)
        assert str(missing.value) == (
            f"profile 'lab' in {config}: token_env: the environment variable LAB_TOKEN is not set"
        )
        monkeypatch.setenv("LAB_TOKEN", "tok-1")
        with AllegroClient.from_profile("lab", config_file=config) as client:
            client.service_orders.list()
    assert seller.seen[0].headers["authorization"] == "Bearer tok-1"


def test_oauth_client_credentials_from_a_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_CLIENT_SECRET", "cs-1")
    with recording_server() as seller:
        config = write(
            tmp_path,
            f"""
            [profiles.lab]
            base_url = "{seller.url}"

            [profiles.lab.oauth]
            token_url = "{seller.url}/oauth2/token"
            client_id = "buyer-app"
            client_secret_env = "LAB_CLIENT_SECRET"
            scopes = ["createServiceOrder", "retrieveServiceOrder"]
            """,
        )
        with AllegroClient.from_profile("lab", config_file=config) as client:
            client.service_orders.list()
    token, listing = seller.seen
    assert token.path == "/oauth2/token"
    basic = base64.b64decode(token.headers["authorization"].split()[1]).decode()
    assert basic == "buyer-app:cs-1"
    assert b"scope=createServiceOrder+retrieveServiceOrder" in token.body
    assert listing.headers["authorization"] == "Bearer issued-token"


def test_mutual_tls_and_a_ca_from_a_profile(tmp_path: Path) -> None:
    ca = make_ca(tmp_path, "seller-ca")
    server = issue(tmp_path, ca, "seller", server=True)
    buyer_ca = make_ca(tmp_path, "buyer-ca")
    buyer = issue(tmp_path, buyer_ca, "buyer-1", server=False)
    with recording_server(server_context(server, client_ca=buyer_ca)) as seller:
        config = write(
            tmp_path,
            f"""
            [profiles.lab]
            base_url = "{seller.url}"
            token = "t"
            ca = "{ca.cert}"
            cert = "{buyer.cert}"
            key = "{buyer.key}"
            default_params = {{ buyerId = "B-1" }}
            """,
        )
        with AllegroClient.from_profile("lab", config_file=config) as client:
            client.service_orders.list()
    assert seller.seen[0].client_cn == "buyer-1"
    assert ("buyerId", "B-1") in seller.seen[0].query


def oauth_profile(tmp_path: Path, url: str, extra: str = "") -> Path:
    return write(
        tmp_path,
        f"""
        [profiles.lab]
        base_url = "{url}"
        {extra}

        [profiles.lab.oauth]
        token_url = "{url}/oauth2/token"
        client_id = "c"
        client_secret = "s"
        """,
    )


def test_a_proxy_keyword_reaches_the_oauth_token_request_too(tmp_path: Path) -> None:
    with recording_server() as seller, forward_proxy() as proxy:
        config = oauth_profile(tmp_path, seller.url)
        with AllegroClient.from_profile("lab", config_file=config, proxy=proxy.url) as client:
            client.service_orders.list()
    assert [f.split("?")[0] for f in proxy.forwarded] == [
        f"POST {seller.url}/oauth2/token",
        f"GET {seller.url}/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder",
    ]


async def test_the_async_client_sends_its_token_request_through_a_proxy_keyword(
    tmp_path: Path,
) -> None:
    with recording_server() as seller, forward_proxy() as proxy:
        config = oauth_profile(tmp_path, seller.url)
        async with AsyncAllegroClient.from_profile(
            "lab", config_file=config, proxy=proxy.url
        ) as client:
            await client.service_orders.list()
    assert [f.split(" ")[0] for f in proxy.forwarded] == ["POST", "GET"]
    assert proxy.forwarded[0] == f"POST {seller.url}/oauth2/token"


@pytest.mark.parametrize("client_class", [AllegroClient, AsyncAllegroClient])
async def test_verify_and_cert_keywords_reach_the_oauth_token_request_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_class: type
) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    ca = make_ca(tmp_path, "seller-ca")
    server = issue(tmp_path, ca, "seller", server=True)
    buyer_ca = make_ca(tmp_path, "buyer-ca")
    buyer = issue(tmp_path, buyer_ca, "buyer-1", server=False)
    with recording_server(server_context(server, client_ca=buyer_ca)) as seller:
        config = oauth_profile(tmp_path, seller.url)
        client = client_class.from_profile(
            "lab",
            config_file=config,
            verify=str(ca.cert),
            cert=(str(buyer.cert), str(buyer.key)),
            max_retries=0,
        )
        if client_class is AllegroClient:
            with client:
                client.service_orders.list()
        else:
            async with client:
                await client.service_orders.list()
    token, listing = seller.seen
    assert (token.path, token.client_cn) == ("/oauth2/token", "buyer-1")
    assert listing.headers["authorization"] == "Bearer issued-token"


def test_a_token_keyword_replaces_the_profiles_oauth_unread(tmp_path: Path) -> None:
    with recording_server() as seller:
        config = oauth_profile(tmp_path, seller.url)
        # The variable is not set: reading it would fail.
        config.write_text(
            config.read_text().replace('client_secret = "s"', 'client_secret_env = "NOT_SET"')
        )
        with AllegroClient.from_profile("lab", config_file=config, token="t") as client:
            client.service_orders.list()
    assert [(s.path.rsplit("/", 1)[1], s.headers["authorization"]) for s in seller.seen] == [
        ("serviceOrder", "Bearer t")
    ]


# --------------------------------------------------------------------------- errors, secrets


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("tiemout = 5", "tiemout: unknown key"),
        ('timeout = "soon"', "timeout: Input should be a valid number"),
        ('verify = "/etc/ca.pem"', 'verify: Value error, true, false or "system"'),
        ("oauth = { token_url = 'https://a/t', client_idd = 'c' }", "oauth.client_id: Field"),
        ("oauth = { token_url = 'https://a/t', client_idd = 'c' }", "oauth.client_idd: unknown"),
        ("default_params = { buyerId = 5 }", "default_params.buyerId: Input should be a valid"),
        ('payloads = "eager"', "payloads: Input should be 'on_read' or 'at_once'"),
    ],
)
def test_a_bad_setting_names_the_file_the_profile_and_the_key(
    tmp_path: Path, table: str, expected: str
) -> None:
    config = write(tmp_path, f'[profiles.lab]\nbase_url = "https://lab.example"\n{table}\n')
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile("lab", config_file=config)
    message = str(caught.value)
    assert message.startswith(f"profile 'lab' in {config}: ")
    assert expected in message


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('ca = "~/missing-ca.pem"', "ca: no file or directory at {home}/missing-ca.pem"),
        ('cert = "/nonexistent/buyer.pem"', "cert: no file or directory at /nonexistent/buyer.pem"),
        ('key = "{config}"', "key: given without cert"),
        ('ca = "{config}"\nverify = false', "ca: cannot be combined with verify = False"),
        (
            'token = "t"\noauth = {{ token_url = "https://a/t", client_id = "c" }}',
            "token and oauth: give one of them",
        ),
    ],
)
def test_tls_files_and_credentials_of_a_profile_are_checked_by_key(
    tmp_path: Path, table: str, expected: str
) -> None:
    config = tmp_path / "config.toml"
    table = table.format(config=config)
    config.write_text(f'[profiles.lab]\nbase_url = "https://lab.example"\n{table}\n')
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile("lab", config_file=config)
    home = tmp_path / "home"
    assert str(caught.value) == f"profile 'lab' in {config}: " + expected.format(home=home)


@pytest.mark.parametrize("key", ["cert", "ca"])
def test_a_tls_file_that_is_not_pem_is_named_when_the_client_is_built(
    tmp_path: Path, key: str
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a pem\n")
    config = write(tmp_path, f'[profiles.lab]\nbase_url = "https://127.0.0.1:1"\n{key} = "{bad}"\n')
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile("lab", config_file=config)
    assert str(caught.value).startswith(f"profile 'lab' in {config}: {key}: cannot load ")
    assert str(bad) in str(caught.value)


def test_a_key_that_does_not_match_the_cert_is_named(tmp_path: Path) -> None:
    ca = make_ca(tmp_path, "buyer-ca")
    buyer = issue(tmp_path, ca, "buyer-1", server=False)
    config = write(
        tmp_path,
        f'[profiles.lab]\nbase_url = "https://127.0.0.1:1"\ncert = "{buyer.cert}"\n'
        f'key = "{ca.key}"\n',
    )
    with pytest.raises(ProfileError, match=r"profile 'lab' in .*: cert/key: cannot load"):
        AllegroClient.from_profile("lab", config_file=config)


def test_the_cli_exits_2_naming_a_cert_that_is_not_pem(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lso_client.cli._app import app

    bad = tmp_path / "bad.pem"
    bad.write_text("not a pem\n")
    config = write(tmp_path, f'[profiles.t]\nbase_url = "https://127.0.0.1:1"\ncert = "{bad}"\n')
    result = CliRunner().invoke(
        app, ["-p", "t", "allegro", "orders", "list"], env={"LSO_CONFIG": str(config)}
    )
    assert result.exit_code == 2
    assert f"profile 't' in {config}: cert: cannot load" in result.stderr


def test_a_bad_value_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, '[profiles.lab]\nbase_url = "https://lab.example"\n')
    monkeypatch.setenv("LSO_PROFILES__LAB__MAX_RETRIES", "many")
    expected = r"max_retries: .* \(from LSO_PROFILES__LAB__MAX_RETRIES\)"
    with pytest.raises(ProfileError, match=expected):
        AllegroClient.from_profile("lab", config_file=config)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LSO_DEFAULT_PARAMS", "{bad", "LSO_DEFAULT_PARAMS"),
        ("LSO_OAUTH__SCOPES", "not json", "LSO_OAUTH (or a LSO_OAUTH__* variable): not valid JSON"),
    ],
)
def test_a_table_or_list_from_the_environment_must_be_json(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("LSO_BASE_URL", "https://lab.example")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile()
    assert expected in str(caught.value)
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 'blue'\n", "unknown top-level key 'colour'"),
        ("[profiles\n", "not valid TOML"),
        ("[profiles.lab]\nbase_url = 'https://a'\n", "no profile 'nope' (profiles: lab;"),
        ("profiles = 3\n", "profiles: each profile is a [profiles.<name>] table"),
    ],
)
def test_a_bad_file_is_named(tmp_path: Path, text: str, expected: str) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile("nope", config_file=config)
    assert str(caught.value).startswith(f"{config}: ")
    assert expected in str(caught.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[profiles.x]\nbase_url = "http://127.0.0.1:1"\n# caf\xe9\n')
    with pytest.raises(ProfileError) as caught:
        AllegroClient.from_profile("x", config_file=config)
    assert str(caught.value).startswith(f"{config}: not UTF-8 text")
    assert "line 3" in str(caught.value)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(
        b'\xef\xbb\xbfdefault = "x"\n[profiles.x]\nbase_url = "http://127.0.0.1:1"\n'
    )
    assert load_profile(config_file=config).base_url == "http://127.0.0.1:1"
    assert profile_names(config) == ["x"]


def test_a_named_file_that_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSO_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(ProfileError, match=r"no profiles file at .*nowhere\.toml"):
        AllegroClient.from_profile()


def test_secrets_stay_out_of_reprs_errors_and_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token, client_secret, key_password, proxy_password = SECRETS
    with recording_server() as seller:
        config = write(
            tmp_path,
            f"""
            [profiles.lab]
            base_url = "{seller.url}"
            token = "{token}"
            key_password = "{key_password}"
            proxy = "http://user:{proxy_password}@127.0.0.1:9"

            [profiles.oauth]
            base_url = "{seller.url}"
            oauth.token_url = "{seller.url}/token"
            oauth.client_id = "c"
            oauth.client_secret = "{client_secret}"

            [profiles.broken]
            token = "{token}"
            timeout = "{client_secret}"
            max_retries = ["{key_password}"]
            oauth.token_url = "https://a/t"
            oauth.client_id = "c"
            oauth.client_secret = ["{client_secret}"]
            """,
        )
        shown = [repr(load_profile("lab", config_file=config))]
        shown.append(repr(load_profile("oauth", config_file=config)))
        with pytest.raises(ProfileError) as caught:
            load_profile("broken", config_file=config)
        shown.append(str(caught.value))
        with caplog.at_level(logging.DEBUG, logger="lso_client"):
            with AllegroClient.from_profile("oauth", config_file=config) as client:
                shown += [repr(client), repr(client._transport.auth)]
                client.service_orders.list()
            monkeypatch.setenv("LSO_PROFILES__BROKEN__TOKEN_ENV", "NOT_SET_ANYWHERE")
            with pytest.raises(ProfileError) as caught:
                AllegroClient.from_profile("broken", config_file=config)
            shown.append(str(caught.value))
    logged = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("HTTP request: GET") for line in logged)
    assert any(line.startswith("Obtained an access token") for line in logged)
    shown += logged
    assert "timeout" in shown[2] and "max_retries" in shown[2]
    assert "oauth.client_secret" in shown[2]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, text


def test_a_profile_repr_redacts_the_password_of_every_url(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
        [profiles.o]
        base_url = "https://bu:BASEPW@seller.example"
        proxy = "http://pu:PROXYPW@127.0.0.1:9"
        api_base_urls = { service_ordering = "https://au:APIPW@orders.example/v1" }

        [profiles.o.oauth]
        token_url = "https://tu:TOKENURLPW@auth.example/token"
        client_id = "cid"
        client_secret = "CLIENTSEKRET"
        """,
    )
    shown = repr(load_profile("o", config_file=config))
    for secret in ("BASEPW", "PROXYPW", "APIPW", "TOKENURLPW", "CLIENTSEKRET"):
        assert secret not in shown
    assert "seller.example" in shown and "auth.example/token" in shown


def test_profile_error_is_an_lso_error_and_a_value_error() -> None:
    assert issubclass(ProfileError, lso_client.LSOError)
    assert issubclass(ProfileError, ValueError)
