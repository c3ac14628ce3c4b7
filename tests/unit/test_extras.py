"""The light core: `import lso_client` and calls to a seller need no extra; a feature whose
extra is missing says which one to install, where it is used.

Each test runs a fresh interpreter whose import system refuses the extras' modules, as if
they were not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from lso_client import LSOError, MissingExtraError
from lso_client._extras import ensure_installed, require
from lso_client.testing import MockSeller

# The modules of the extras (and the modules only they bring).
BLOCKED = (
    "uvicorn",
    "authlib",
    "joserfc",
    "cryptography",
    "pandas",
    "polars",
    "typer",
    "rich",
    "aiokafka",
    "redis",
    "truststore",
    "nbclient",
    "mkdocs",
)

BLOCKER = f"""
import importlib.abc, sys

BLOCKED = {BLOCKED!r}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Blocker())
"""


def run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    script = BLOCKER + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_core_lists_creates_and_waits_without_any_extra(mock_seller: MockSeller) -> None:
    done = run_without_extras(
        f"""
        import json, sys
        import lso_client
        from lso_client import AllegroClient, AsyncAllegroClient
        from lso_client.testing import example_service_order

        with AllegroClient({mock_seller.url!r}, token="t") as client:
            order = client.service_orders.create(example_service_order("allegro"))
            done = client.service_orders.wait(order.id, timeout=30)
            listed = [o.id for o in client.service_orders.list(limit=5)]
        import asyncio

        async def main():
            async with AsyncAllegroClient({mock_seller.url!r}, token="t") as client:
                return (await client.service_orders.retrieve(order.id)).id

        again = asyncio.run(main())
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
        print(json.dumps([str(done.state), order.id in listed, again == order.id, loaded]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["completed", True, True, []]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (
            "oauth",
            "lso_client.OAuth2ClientCredentials("
            "token_url='https://auth.example/token', client_id='c', client_secret='s')",
        ),
        ("listener", "lso_client.NotificationListener(inbox='memory').start()"),
        ("listener", "__import__('lso_client.testing').testing.MockSeller().start()"),
        (
            "kafka",
            "lso_client.AllegroClient('http://127.0.0.1:9', token='t')"
            ".streaming_subscriptions.consume({'id': 'x'})",
        ),
        ("redis", "lso_client.notifications.RedisInbox('redis://127.0.0.1:1/0')"),
        ("truststore", "lso_client.AllegroClient('http://127.0.0.1:9', verify='system')"),
        ("pandas", "require('pandas')"),
        ("cli", "require('cli')"),
    ],
)
def test_a_feature_without_its_extra_names_it_where_it_is_used(extra: str, code: str) -> None:
    done = run_without_extras(
        f"""
        import lso_client, lso_client.notifications, lso_client.testing
        from lso_client._extras import require

        # Importing and building what the feature belongs to works without the extra.
        listener = lso_client.NotificationListener(inbox="memory")
        try:
            {code}
        except lso_client.MissingExtraError as exc:
            assert isinstance(exc, ImportError) and isinstance(exc, lso_client.LSOError)
            print(exc.extra, "|", exc)
        """
    )
    assert done.returncode == 0, done.stderr
    named, _, message = done.stdout.strip().partition(" | ")
    assert named == extra
    assert f"pip install 'lso-client[{extra}]'" in message


def test_require_returns_the_module_or_names_the_extra() -> None:
    assert require("oauth", "json") is json
    with pytest.raises(MissingExtraError) as caught:
        require("pandas", "lso_client_no_such_module")
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, LSOError)
    assert caught.value.extra == "pandas"
    assert caught.value.name == "lso_client_no_such_module"
    assert "pip install 'lso-client[pandas]'" in str(caught.value)
    with pytest.raises(MissingExtraError, match=r"lso-client\[polars\]"):
        ensure_installed("polars", "json", "lso_client_no_such_module")
