"""Loopback servers for connection tests: a recording HTTP(S) seller stand-in, a forward
proxy, and certificates made on the spot (a CA, a server and a client certificate)."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(directory: Path, name: str) -> Issued:
    """A self-signed certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _write(directory, name, cert, key)


def issue(directory: Path, ca: Issued, name: str, *, server: bool) -> Issued:
    """A server certificate for 127.0.0.1 and localhost, or a client certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
    cert = builder.sign(ca.private_key, hashes.SHA256())
    return _write(directory, name, cert, key)


def _write(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_path = directory / f"{name}.pem"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path, cert, key)


@dataclass
class Seen:
    """One request a `Recorder` answered."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    client_cn: str | None = None
    body: bytes = b""


@dataclass
class Recorder:
    """What the recording server saw, and its address."""

    url: str
    seen: list[Seen] = field(default_factory=list)


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> Seen:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urllib.parse.urlsplit(self.path)
        client_cn = None
        if isinstance(self.connection, ssl.SSLSocket):
            peer = self.connection.getpeercert()
            if peer:
                client_cn = dict(item[0] for item in peer["subject"])["commonName"]
        seen = Seen(
            self.command,
            parts.path,
            urllib.parse.parse_qsl(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            client_cn,
            body,
        )
        self.server.recorder.seen.append(seen)
        return seen

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._record()
        self._answer(200, [], {"X-Total-Count": "0", "X-Result-Count": "0"})

    def do_POST(self) -> None:
        seen = self._record()
        if seen.path.endswith("/token"):
            self._answer(200, {"access_token": "issued-token", "token_type": "Bearer"})
            return
        order = json.loads(seen.body)
        order.update({"id": "order-1", "state": "acknowledged"})
        self._answer(201, order)


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    recorder: Recorder


@contextmanager
def recording_server(tls: ssl.SSLContext | None = None) -> Iterator[Recorder]:
    """A server on 127.0.0.1 that records each request: a GET answers an empty listing, a
    POST to a path ending in /token a bearer token, any other POST the body it was sent
    with an id. `tls`: serve HTTPS with that server context."""
    server = _RecordingServer(("127.0.0.1", 0), _RecordingHandler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    server.recorder = Recorder(f"{scheme}://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def server_context(server: Issued, client_ca: Issued | None = None) -> ssl.SSLContext:
    """A server TLS context; with `client_ca`, clients must present a certificate it issued."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.cert, server.key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca.cert)
    return context


@dataclass
class Proxy:
    """A forward proxy on loopback: its URL and the request targets it forwarded."""

    url: str
    forwarded: list[str] = field(default_factory=list)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        # A forward proxy gets the absolute URL as the request target (no CONNECT: the
        # sellers behind it here speak plain HTTP).
        target = urllib.parse.urlsplit(self.path)
        if target.scheme != "http" or target.hostname != "127.0.0.1":
            self.send_error(403, "this proxy forwards to 127.0.0.1 over http only")
            return
        self.server.proxy.forwarded.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in {"connection", "proxy-connection", "keep-alive", "host"}
        }
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in {"connection", "transfer-encoding", "content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = do_PATCH = do_DELETE = _forward


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: Proxy


@contextmanager
def forward_proxy() -> Iterator[Proxy]:
    """A threaded HTTP forward proxy on 127.0.0.1 (plain HTTP targets on loopback only)."""
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.proxy = Proxy(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
