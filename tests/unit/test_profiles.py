"""Seller profiles: a TOML file and the environment, `from_profile()` on every client class."""

from __future__ import annotations

import base64
import logging
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from _servers import issue, make_ca, recording_server, server_context

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
        api_base_urls = { service_ordering = "https://orders.lab.example/v1" }
        """,
    )
    client = cls.from_profile("lab", config_file=config)
    assert type(client) is cls
    assert client.base_url == "https://lab.example"
    assert client.strict is True
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
    lab = AllegroClient.from_profile("lab", config_file=config)
    assert lab.base_url == "https://env.example"
    assert (lab._transport.timeout, lab._transport.max_retries) == (20.0, 4)
    other = AllegroClient.from_profile("other", config_file=config)
    assert other.base_url == "https://other.example"  # another profile's variables
    assert other._transport.max_retries == 3
    kept = AllegroClient.from_profile("lab", config_file=config, max_retries=0, timeout=1)
    assert (kept._transport.timeout, kept._transport.max_retries) == (1, 0)


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
    monkeypatch.setenv("LSO_TOKEN", "from-env")
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


def test_profile_error_is_an_lso_error_and_a_value_error() -> None:
    assert issubclass(ProfileError, lso_client.LSOError)
    assert issubclass(ProfileError, ValueError)
