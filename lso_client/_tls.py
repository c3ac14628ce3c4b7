"""TLS settings of a client: which certificate authorities to trust, and a client certificate.

`verify` says whom to trust:

* `True` (the default): `SSL_CERT_FILE` (a CA bundle) or else `SSL_CERT_DIR` (a hashed
  directory) when set, as httpx does, else certifi's bundle;
* a path: that CA bundle file, or a directory of hashed certificates;
* `"system"`: the operating system's store, through truststore (the `truststore` extra);
* an `ssl.SSLContext`: used as it is (load a client certificate into it yourself);
* `False`: no verification at all (never against a real seller).

`cert` is the client certificate for mutual TLS: a PEM file holding the certificate and
its key, or `(certificate, key)`, or `(certificate, key, password)`.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Union

import certifi

from ._extras import require

__all__ = [
    "CertTypes",
    "VerifyTypes",
    "check_tls",
    "default_ssl_context",
    "prepared_context",
    "ssl_context",
]

StrPath = Union[str, "os.PathLike[str]"]
VerifyTypes = Union[bool, Literal["system"], str, "os.PathLike[str]", ssl.SSLContext]
CertTypes = Union[
    str,
    "os.PathLike[str]",
    tuple[StrPath, StrPath | None],
    tuple[StrPath, StrPath | None, str | None],
]


def default_ssl_context() -> ssl.SSLContext:
    """The verifying context of `verify=True`: `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else
    certifi. One per setting of those variables, shared by every client: loading a CA
    bundle costs tens of milliseconds per context."""
    return _env_context(*_env_locations())


def _env_locations() -> tuple[str | None, str | None]:
    return os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None


@functools.lru_cache(maxsize=8)
def _env_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    return _new_default_context(cafile, capath)


def _new_default_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile is not None:
        return _trusting(cafile=cafile)
    if capath is not None:
        return _trusting(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def _trusting(*, cafile: str | None = None, capath: str | None = None) -> ssl.SSLContext:
    where = cafile or capath
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"cannot load the trusted certificates from {where}: {type(exc).__name__}: "
            f"{getattr(exc, 'strerror', None) or exc}"
        ) from None


def check_tls(verify: VerifyTypes, cert: CertTypes | None) -> None:
    """Refuse, when a client is built, settings that could only fail at its first call."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise ValueError(
                "cert cannot be combined with an ssl.SSLContext as verify: load the client "
                "certificate into the context (context.load_cert_chain(...))"
            )
    elif verify == "system":
        require("truststore")
    elif not isinstance(verify, bool):
        path = Path(os.fspath(verify))
        if not path.exists():
            raise ValueError(f"verify: no CA bundle or directory at {path}")
    for file in _cert_paths(cert):
        if not Path(os.fspath(file)).is_file():
            raise ValueError(f"cert: no file at {os.fspath(file)}")


def prepared_context(verify: VerifyTypes, cert: CertTypes | None) -> ssl.SSLContext | None:
    """The context of settings other than the default, built when a client is built: a CA
    file or client certificate that does not load (not PEM, a key that does not match) is
    refused then, not at the first call. None for the default (`verify=True`, no `cert`),
    whose shared context is built at the first call."""
    if verify is True and cert is None:
        return None
    return ssl_context(verify, cert)


def _cert_paths(cert: CertTypes | None) -> Sequence[StrPath]:
    if cert is None:
        return ()
    if isinstance(cert, tuple):
        return [p for p in cert[:2] if p is not None]
    return (cert,)


def ssl_context(verify: VerifyTypes = True, cert: CertTypes | None = None) -> ssl.SSLContext:
    """The `ssl.SSLContext` for these settings (see the module docstring)."""
    check_tls(verify, cert)
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True and cert is None:
        return default_ssl_context()
    context: ssl.SSLContext
    if verify is True:
        context = _new_default_context(*_env_locations())
    elif verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify == "system":
        truststore = require("truststore")
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        path = os.fspath(verify)
        context = _trusting(capath=path) if os.path.isdir(path) else _trusting(cafile=path)
    if cert is not None:
        _load_client_certificate(context, cert)
    return context


class _NoPassword(Exception):
    """An encrypted key and no password: raised instead of OpenSSL prompting on a terminal."""


def _no_password() -> str:
    raise _NoPassword


def _load_client_certificate(context: ssl.SSLContext, cert: CertTypes) -> None:
    if isinstance(cert, tuple):
        certfile, keyfile = cert[0], cert[1]
        password = cert[2] if len(cert) > 2 else None
    else:
        certfile, keyfile, password = cert, None, None
    try:
        context.load_cert_chain(
            os.fspath(certfile),
            None if keyfile is None else os.fspath(keyfile),
            password if password is not None else _no_password,
        )
    except _NoPassword:
        raise ValueError(
            f"cannot load the client certificate {os.fspath(certfile)}: its key is encrypted "
            f"and no password was given"
        ) from None
    except (OSError, ssl.SSLError) as exc:
        # The reason only: never the password, nor the key material.
        raise ValueError(
            f"cannot load the client certificate {os.fspath(certfile)}: {type(exc).__name__}"
            f"{': ' + exc.reason if isinstance(exc, ssl.SSLError) and exc.reason else ''}"
        ) from None
