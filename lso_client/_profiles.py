"""Seller profiles: how to reach a seller, kept in a TOML file and the environment.

The file is `$LSO_CONFIG`, else `~/.config/lso/config.toml`:

```toml
default = "acme"                      # the profile used when none is named

[profiles.acme]
base_url = "https://lso.acme.example"
default_params = { buyerId = "BUYER-1", sellerId = "ACME" }
ca = "/etc/lso/acme-ca.pem"           # trust this CA (or verify = "system" / true / false)
cert = "/etc/lso/client.pem"          # mutual TLS: client certificate ...
key = "/etc/lso/client.key"           # ... and its key
proxy = "http://proxy.internal:3128"
timeout = 30
max_retries = 2

[profiles.acme.oauth]
token_url = "https://auth.acme.example/oauth2/token"
client_id = "buyer-1"
client_secret_env = "ACME_CLIENT_SECRET"   # or private_key_file = "..."
scopes = ["createServiceOrder", "retrieveServiceOrder"]
```

The settings are the fields of `Profile`. Environment variables override the file:
`LSO_PROFILES__<NAME>__<KEY>` for one profile (the name upper-cased, other characters
than letters and digits as `_`), and `LSO_<KEY>` (`LSO_BASE_URL`, `LSO_TOKEN`,
`LSO_TIMEOUT`, `LSO_OAUTH__CLIENT_SECRET`: `__` goes one table down) for the profile in
use when the caller names none (`from_profile()`: the one `LSO_PROFILE` or the file's
`default` selects), below the per-profile ones. A profile the caller names
(`from_profile("acme")`) takes only its own variables, so that a stray `LSO_BASE_URL`
cannot send one seller's requests, and credentials, to another. Tables and lists are
given as JSON
(`LSO_DEFAULT_PARAMS='{"buyerId": "B-1"}'`). A layer that sets `token` or `token_env`
replaces a lower layer's credentials, `oauth` included; one that sets `oauth` replaces a
lower layer's token. `LSO_PROFILE` names the profile when the caller does not.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError

from ._errors import LSOError
from ._logging import redact_url

if TYPE_CHECKING:
    from pydantic_settings import PydanticBaseSettingsSource

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "OAuthProfile",
    "Profile",
    "ProfileError",
    "config_file_path",
    "load_profile",
    "profile_names",
]

DEFAULT_CONFIG_FILE = Path("~/.config/lso/config.toml")
_ENV_PREFIX = "LSO_"
_CREDENTIALS = ("token", "token_env", "oauth")


class ProfileError(LSOError, ValueError):
    """A profiles file or a profile cannot be used: the message names the file, the
    profile and the key (or environment variable) at fault, never a secret's value."""


class OAuthProfile(BaseModel):
    """`[profiles.<name>.oauth]`: OAuth 2.0 client credentials (`OAuth2ClientCredentials`).

    The client authenticates with `client_secret` (or the variable named by
    `client_secret_env`) or with `private_key_file` (`private_key_jwt`, signed with
    `signing_algorithm`, `key_id` as `kid`, `audience` as the assertion's `aud`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str
    client_id: str
    client_secret: SecretStr | None = None
    client_secret_env: str | None = None
    private_key_file: Path | None = None
    key_id: str | None = None
    signing_algorithm: str = "RS256"
    client_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "private_key_jwt"] | None
    ) = None
    scopes: list[str] = []
    scope_delimiter: str = " "
    audience: str | None = None

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            # The token URL may carry a user and password (or a key in its query).
            yield name, redact_url(value) if name == "token_url" and value else value

    @field_validator("scopes", mode="before")
    @classmethod
    def _one_scope(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Profile(BaseSettings):
    """One seller: where it is, how to authenticate and connect, and client defaults.

    Every key is optional; what is not set keeps the client's default. `token` (or
    `token_env`, the name of the variable holding it) and `oauth` exclude each other.
    `verify` is `true`, `false` or `"system"`; `ca` a CA bundle file or directory to trust
    instead; `cert` and `key` the client certificate and key for mutual TLS (`key_password`
    when the key is encrypted).
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, case_sensitive=False)

    base_url: str | None = None
    token: SecretStr | None = None
    token_env: str | None = None
    oauth: OAuthProfile | None = None
    verify: bool | Literal["system"] = True
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    key_password: SecretStr | None = None
    proxy: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    default_params: dict[str, str] = {}
    api_base_urls: dict[str, str] = {}
    strict: bool | None = None
    payloads: Literal["on_read", "at_once"] | None = None

    # Where the profile came from, for messages: "profile 'x' in <file>".
    _where: str = PrivateAttr(default="the environment")

    @property
    def where(self) -> str:
        """Where the profile was read from, as errors name it (`profile 'acme' in <file>`)."""
        return self._where

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The layers (file, environment) are merged by `load_profile`.
        return (init_settings,)

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_words(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "system":
            if value.lower() not in _BOOLEANS:
                raise ValueError('true, false or "system" (a CA bundle to trust goes in `ca`)')
            return _BOOLEANS[value.lower()]
        return value

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            # A URL may carry a user and password (or a key in its query).
            if name in ("base_url", "proxy") and value:
                value = redact_url(value)
            elif name == "api_base_urls" and value:
                value = {api: redact_url(url) for api, url in value.items()}
            yield name, value

    def client_settings(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The client keyword arguments this profile sets (`base_url` among them), with
        `overrides` (keyword arguments of the client) merged over them.

        Reads the variables `token_env` and `oauth.client_secret_env` name, and the
        private key file; builds `OAuth2ClientCredentials` (the `oauth` extra), whose token
        requests use the same `verify`, `cert` and `proxy` as the client's calls, the
        overrides' included. An override of `token` or `auth` replaces the profile's
        credentials (then not read); one of `http_client` drops the profile's `verify`,
        `cert` and `proxy` from the client's settings (set them on that client).
        """
        overrides = dict(overrides or {})
        where = self._where
        settings: dict[str, Any] = {}
        if self.base_url:
            settings["base_url"] = self.base_url
        given = [k for k in _CREDENTIALS if getattr(self, k) is not None]
        if len(given) > 1:
            raise ProfileError(f"{where}: {' and '.join(given)}: give one of them")
        own_credentials = "token" not in overrides and "auth" not in overrides
        if own_credentials and self.token is not None:
            settings["token"] = self.token.get_secret_value()
        elif own_credentials and self.token_env:
            settings["token"] = _from_env(self.token_env, "token_env", where)
        ca, cert, key = (_existing(getattr(self, k), k, where) for k in ("ca", "cert", "key"))
        verify: Any = self.verify
        if ca is not None:
            if self.verify is not True:
                raise ProfileError(f"{where}: ca: cannot be combined with verify = {verify!r}")
            verify = ca
        if verify is not True:
            settings["verify"] = verify
        if key is not None and cert is None:
            raise ProfileError(f"{where}: key: given without cert")
        if cert is not None:
            password = self.key_password.get_secret_value() if self.key_password else None
            settings["cert"] = (cert, key, password)
        if self.proxy:
            settings["proxy"] = self.proxy
        for name in ("timeout", "max_retries", "strict", "payloads"):
            if getattr(self, name) is not None:
                settings[name] = getattr(self, name)
        if self.default_params:
            settings["default_params"] = dict(self.default_params)
        if self.api_base_urls:
            settings["api_base_urls"] = dict(self.api_base_urls)
        # The connection settings of the OAuth token requests: the profile's, under the
        # overrides' (an `http_client` is not used for them: they keep the profile's).
        connection: dict[str, Any] = {
            k: settings[k] for k in ("verify", "cert", "proxy") if k in settings
        }
        connection.update({k: overrides[k] for k in ("verify", "cert", "proxy") if k in overrides})
        # A CA or certificate file that exists but cannot be loaded fails now, by key (the
        # profile's, when the client's calls or its token requests use it).
        token_requests = own_credentials and self.oauth is not None
        _check_tls_files(
            settings.get("verify") if ca is not None else None,
            settings.get("cert"),
            used={
                k
                for k in ("verify", "cert")
                if k not in overrides and ("http_client" not in overrides or token_requests)
            },
            where=where,
        )
        if token_requests and self.oauth is not None:
            settings["auth"] = self._oauth(self.oauth, connection, where)
        if "http_client" in overrides:
            for name in ("verify", "cert", "proxy"):
                settings.pop(name, None)
        settings.update(overrides)
        return settings

    def _oauth(self, oauth: OAuthProfile, settings: Mapping[str, Any], where: str) -> Any:
        from ._auth import OAuth2ClientCredentials

        secret: str | None = None
        if oauth.client_secret is not None:
            secret = oauth.client_secret.get_secret_value()
        elif oauth.client_secret_env:
            secret = _from_env(oauth.client_secret_env, "oauth.client_secret_env", where)
        private_key: bytes | None = None
        if oauth.private_key_file is not None:
            try:
                private_key = oauth.private_key_file.expanduser().read_bytes()
            except OSError as exc:
                raise ProfileError(
                    f"{where}: oauth.private_key_file: cannot read {oauth.private_key_file} "
                    f"({exc.strerror or type(exc).__name__})"
                ) from None
        try:
            return OAuth2ClientCredentials(
                token_url=oauth.token_url,
                client_id=oauth.client_id,
                client_secret=secret,
                private_key=private_key,
                key_id=oauth.key_id,
                signing_algorithm=oauth.signing_algorithm,
                client_auth_method=oauth.client_auth_method,
                scopes=oauth.scopes,
                scope_delimiter=oauth.scope_delimiter,
                audience=oauth.audience,
                verify=settings.get("verify", True),
                cert=settings.get("cert"),
                proxy=settings.get("proxy"),
            )
        except ValueError as exc:
            # OAuth2ClientCredentials' messages name settings, never their values.
            raise ProfileError(f"{where}: oauth: {exc}") from None


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _from_env(variable: str, key: str, where: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ProfileError(f"{where}: {key}: the environment variable {variable} is not set")
    return value


def _check_tls_files(ca: str | None, cert: Any, *, used: set[str], where: str) -> None:
    """Load the profile's CA file and client certificate that the client will use, so that
    one which is not PEM (or a key that does not match) is named now, not at the first call."""
    from ._tls import ssl_context

    if ca is not None and "verify" in used and os.path.isfile(ca):
        try:
            ssl_context(ca)
        except ValueError as exc:
            raise ProfileError(f"{where}: ca: {exc}") from None
    if cert is not None and "cert" in used:
        try:
            ssl_context(False, cert)
        except ValueError as exc:
            raise ProfileError(
                f"{where}: {'cert' if cert[1] is None else 'cert/key'}: {exc}"
            ) from None


def _existing(path: Path | None, key: str, where: str) -> str | None:
    """The path of a file a profile names (`~` expanded), which must exist."""
    if path is None:
        return None
    found = path.expanduser()
    if not found.exists():
        raise ProfileError(f"{where}: {key}: no file or directory at {found}")
    return os.fspath(found)


def config_file_path(config_file: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The profiles file to read, and whether it was named (argument or `$LSO_CONFIG`)
    rather than the default location."""
    if config_file is not None:
        return Path(config_file).expanduser(), True
    named = os.environ.get("LSO_CONFIG")
    if named:
        return Path(named).expanduser(), True
    return DEFAULT_CONFIG_FILE.expanduser(), False


def _read_file(path: Path, named: bool) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if named:
            raise ProfileError(f"no profiles file at {path}") from None
        return {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        # TOML is UTF-8; a byte order mark (some editors write one) is not part of it.
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProfileError(
            f"{path}: not UTF-8 text (a byte that is not UTF-8 at line {line}); save it as UTF-8"
        ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message gives the line and column, not the text there.
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"default", "profiles"})
    if unknown:
        raise ProfileError(
            f"{path}: unknown top-level key {unknown[0]!r} (a profiles file has `default` "
            "and [profiles.<name>] tables)"
        )
    if "default" in data and not isinstance(data["default"], str):
        raise ProfileError(f"{path}: default: must be the name of a profile")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ProfileError(f"{path}: profiles: each profile is a [profiles.<name>] table")
    return data


def profile_names(config_file: str | os.PathLike[str] | None = None) -> list[str]:
    """The names of the profiles in the profiles file (none when there is no file)."""
    path, named = config_file_path(config_file)
    return sorted(_read_file(path, named).get("profiles", {}))


def env_name(profile: str) -> str:
    """`LSO_PROFILES__<NAME>__`: the prefix of one profile's environment variables."""
    return f"{_ENV_PREFIX}PROFILES__{re.sub(r'[^A-Za-z0-9]', '_', profile).upper()}__"


def _from_environment(prefix: str) -> dict[str, Any]:
    source = EnvSettingsSource(
        Profile, case_sensitive=False, env_prefix=prefix, env_nested_delimiter="__"
    )
    try:
        return dict(source())
    except SettingsError as exc:
        # "error parsing value for field "x" from source ...": the field, not the value.
        field = re.search(r'field "([^"]+)"', str(exc))
        name = field.group(1).upper() if field else "..."
        raise ProfileError(
            f"the environment: {prefix}{name} (or a {prefix}{name}__* variable): not valid "
            "JSON for a table or a list"
        ) from None


def _merge(lower: dict[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(lower)
    if "token" in upper or "token_env" in upper:
        for key in _CREDENTIALS:
            merged.pop(key, None)
    elif "oauth" in upper:
        merged.pop("token", None)
        merged.pop("token_env", None)
    for key, value in upper.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_profile(
    name: str | None = None, *, config_file: str | os.PathLike[str] | None = None
) -> Profile:
    """Read profile `name` (None: `$LSO_PROFILE`, else the file's `default`, else the
    environment alone) from the profiles file, with the environment's overrides."""
    path, named = config_file_path(config_file)
    data = _read_file(path, named)
    profiles: dict[str, Any] = data.get("profiles", {})
    # The global `LSO_<KEY>` variables apply only to a profile the caller did not name.
    named_by_caller = name is not None
    name = name or os.environ.get("LSO_PROFILE") or data.get("default")
    # Each layer with the environment prefix it came from (None: the file).
    layers: list[tuple[str | None, Mapping[str, Any]]] = []
    if name is None:
        where = "the environment (no profile named)"
    else:
        where = f"profile {name!r} in {path}"
        per_profile = _from_environment(env_name(name))
        if name not in profiles and not per_profile:
            known = ", ".join(sorted(profiles)) or "none"
            raise ProfileError(
                f"{path}: no profile {name!r} (profiles: {known}; nor {env_name(name)}* variables)"
            )
        layers.append((None, profiles.get(name, {})))
    if not named_by_caller:
        layers.append((_ENV_PREFIX, _from_environment(_ENV_PREFIX)))
    if name is not None:
        layers.append((env_name(name), per_profile))

    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str | None] = {}
    for prefix, layer in layers:
        merged = _merge(merged, layer)
        for keys in _paths(layer):
            origin[keys] = None if prefix is None else prefix + "__".join(keys).upper()
    try:
        profile = Profile.model_validate(merged)
    except ValidationError as exc:
        raise ProfileError(_describe(exc, where, origin)) from None
    profile._where = where
    return profile


def _paths(values: Mapping[str, Any], above: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        yield (*above, key)
        if isinstance(value, Mapping):
            yield from _paths(value, (*above, key))


def _describe(
    exc: ValidationError, where: str, origin: Mapping[tuple[str, ...], str | None]
) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(str(part) for part in error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        # The variable that set the value, when it came from the environment.
        source = next((origin[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in origin), None)
        lines.append(f"{'.'.join(loc)}: {message}" + (f" (from {source})" if source else ""))
    return f"{where}: " + "; ".join(lines)
