"""The AsyncAPI form of the streaming subscription listing, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _faulty import FaultySeller, Reply, Request

from lso_client import (
    AllegroClient,
    APIStatusError,
    AsyncAllegroClient,
    AsyncInterludeClient,
    AsyncLegatoClient,
    InterludeClient,
    LegatoClient,
    RequestValidationError,
    ResponseValidationError,
)
from lso_client.asyncapi import (
    ASYNCAPI_MEDIA_TYPE,
    AsyncApiDocument,
    KafkaChannelBinding,
    KafkaOperationBinding,
)
from lso_client.testing import MockSeller

REFERENCE_POINTS = ("allegro", "interlude", "legato")
CLIENTS: dict[str, Any] = {
    "allegro": AllegroClient,
    "interlude": InterludeClient,
    "legato": LegatoClient,
}
ASYNC_CLIENTS: dict[str, Any] = {
    "allegro": AsyncAllegroClient,
    "interlude": AsyncInterludeClient,
    "legato": AsyncLegatoClient,
}

# The listing of W147 use case 5 (the guide's own example), whole.
GUIDE_LISTING: dict[str, Any] = {
    "asyncapi": "2.6.0",
    "info": {"title": "CePerformanceStatistics", "version": "1.0.0"},
    "servers": {"kafka": {"url": "localhost:29092", "protocol": "kafka"}},
    "channels": {
        "streaming/ce-performance/31b5485f-cf10-4a82-97f9-c7c1307ef811": {
            "subscribe": {
                "description": "read from the channel",
                "bindings": {
                    "kafka": {
                        "topic": "metrics-kafka",
                        "partitions": 1,
                        "topicConfiguration": {
                            "cleanup.policy": ["compact"],
                            "retention.ms": 604800000,
                        },
                        "bindingVersion": "0.4.0",
                    }
                },
                "message": {"$ref": "#/components/messages/Event"},
            }
        }
    },
    "components": {
        "schemas": {
            "CePerformanceStatistics": {
                "type": "object",
                "properties": {
                    "key": {"$ref": "#/components/schemas/Key"},
                    "metrics": {"$ref": "#/components/schemas/CePerformanceMetrics"},
                },
            }
        },
        "messages": {
            "Event": {
                "payload": {
                    "type": "object",
                    "properties": {
                        "eventId": {"type": "string", "format": "uuid"},
                        "event": {"$ref": "#/components/schemas/CePerformanceStatistics"},
                    },
                }
            }
        },
    },
}


@pytest.fixture
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.002, seed=11) as started:
        yield started


def _subscribe(client: Any) -> list[Any]:
    return [
        client.streaming_subscriptions.create(
            {"topicId": "ip-performance-statistics", "protocol": "kafka"}
        ),
        client.streaming_subscriptions.create({"topicId": "ce-frame-delay", "protocol": "amqp"}),
    ]


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_the_asyncapi_listing_is_read_typed(seller: MockSeller, rp: str) -> None:
    with CLIENTS[rp](seller.url, strict=True) as client:
        kafka, amqp = _subscribe(client)
        document = client.streaming_subscriptions.list_asyncapi()
        assert isinstance(document, AsyncApiDocument)
        assert document.asyncapi == "2.6.0" and document.spec_deviations == []
        assert document.servers is not None
        kafka_config = kafka.connection_config
        (server_name,) = kafka_config.servers
        server = document.servers[server_name]
        assert (server.url, server.protocol) == (
            kafka_config.servers[server_name]["url"],
            kafka_config.servers[server_name]["protocol"],
        )
        channel = document.channels[kafka_config.channel.name]
        assert channel.subscribe is not None and channel.subscribe.bindings is not None
        binding = channel.subscribe.bindings.kafka
        assert isinstance(binding, KafkaOperationBinding)
        assert binding.topic == kafka_config.channel.bindings["kafka"]["topic"]
        assert binding.partitions == 3
        assert binding.topic_configuration is not None
        assert binding.topic_configuration.retention_ms == 604800000
        assert document.kafka_topic(kafka_config.channel.name) == binding.topic
        # Bindings of other protocols are kept as the seller sent them.
        amqp_channel = document.channels[amqp.connection_config.channel.name]
        assert amqp_channel.subscribe is not None and amqp_channel.subscribe.bindings
        assert amqp_channel.subscribe.bindings.model_extra == {
            "amqp": amqp.connection_config.channel.bindings["amqp"]
        }
        message = document.message(kafka_config.channel.name)
        assert message is not None and message.name == "Event"
        assert set(message.payload["properties"]) >= {"eventId", "eventType", "event"}

        # The filters of the listing apply to this form too.
        only = client.streaming_subscriptions.list_asyncapi(protocol="amqp")
        assert list(only.channels) == [amqp.connection_config.channel.name]


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_the_raw_asyncapi_listing_keeps_the_response(seller: MockSeller, rp: str) -> None:
    with CLIENTS[rp](seller.url) as client:
        _subscribe(client)
        raw = client.streaming_subscriptions.with_raw_response.list_asyncapi()
        assert raw.status_code == 200
        assert raw.headers["content-type"] == ASYNCAPI_MEDIA_TYPE
        assert raw.http_response.request.headers["accept"] == ASYNCAPI_MEDIA_TYPE
        document = raw.parse()
        assert isinstance(document, AsyncApiDocument)
        assert document.to_dict() == json.loads(raw.http_response.content)


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_the_async_client_reads_the_asyncapi_listing(seller: MockSeller, rp: str) -> None:
    async def run() -> tuple[AsyncApiDocument, AsyncApiDocument, list[Any]]:
        async with ASYNC_CLIENTS[rp](seller.url, strict=True) as client:
            created = await client.streaming_subscriptions.create(
                {"topicId": "ip-performance-statistics", "protocol": "kafka"}
            )
            document = await client.streaming_subscriptions.list_asyncapi(
                topic_id="ip-performance-statistics"
            )
            raw = await client.streaming_subscriptions.with_raw_response.list_asyncapi()
            return document, raw.parse(), [created]

    document, parsed, (created,) = asyncio.run(run())
    name = created.connection_config.channel.name
    assert list(document.channels) == [name]
    assert (
        document.kafka_topic(name) == created.connection_config.channel.bindings["kafka"]["topic"]
    )
    assert parsed.to_dict() == document.to_dict()


def test_the_json_listing_is_unchanged(seller: MockSeller) -> None:
    with AllegroClient(seller.url, strict=True) as client:
        created = _subscribe(client)
        listed = list(client.streaming_subscriptions.list())
        assert [s.id for s in listed] == [s.id for s in created]
        page = client.streaming_subscriptions.with_raw_response.list()
        assert page.response.request.headers["accept"] == "application/json"


@pytest.mark.parametrize("header", ["accept", "Accept"])
def test_asking_list_for_the_asyncapi_form_is_refused_before_sending(
    seller: MockSeller, header: str
) -> None:
    sent: list[httpx.Request] = []
    http_client = httpx.Client(event_hooks={"request": [sent.append]})
    with AllegroClient(seller.url, http_client=http_client) as client:
        asked = {header: f"{ASYNCAPI_MEDIA_TYPE}, application/json;q=0.5"}
        with pytest.raises(RequestValidationError, match="list_asyncapi"):
            client.streaming_subscriptions.list(extra_headers=asked)
        with pytest.raises(RequestValidationError, match="list_asyncapi"):
            client.streaming_subscriptions.with_raw_response.list(extra_headers=asked)
    assert sent == []

    async def run() -> None:
        async with AsyncAllegroClient(seller.url) as client:
            with pytest.raises(RequestValidationError, match="list_asyncapi"):
                await client.streaming_subscriptions.list(extra_headers=asked)

    asyncio.run(run())
    http_client.close()


def test_the_guides_listing_parses_strictly_as_sent(faulty_seller: Any) -> None:
    body = json.dumps(GUIDE_LISTING).encode()

    def answer(request: Request) -> Reply:
        assert request.headers["accept"] == ASYNCAPI_MEDIA_TYPE
        return Reply(200, {"Content-Type": ASYNCAPI_MEDIA_TYPE}, body)

    seller: FaultySeller = faulty_seller(answer)
    with AllegroClient(seller.url, strict=True) as client:
        document = client.streaming_subscriptions.list_asyncapi(topic_id="t-1")
    assert seller.requests[0].target.endswith("/subscription?topicId=t-1")
    name = next(iter(GUIDE_LISTING["channels"]))
    assert document.kafka_topic(name) == "metrics-kafka"
    assert document.message(name) is not None
    assert document.components is not None and document.components.schemas is not None
    assert document.to_dict() == GUIDE_LISTING


def test_a_document_with_security_and_channel_bindings_is_typed() -> None:
    sent = {
        "asyncapi": "2.6.0",
        "info": {"title": "t", "version": "1"},
        "servers": {
            "prod": {
                "url": "broker.example:9093",
                "protocol": "kafka-secure",
                "security": [{"sasl": []}],
                "bindings": {"kafka": {"schemaRegistryUrl": "https://registry.example"}},
            }
        },
        "channels": {
            "pm/1": {
                "bindings": {
                    "kafka": {"topic": "pm.1", "partitions": 2, "bindingVersion": "0.4.0"}
                },
                "subscribe": {
                    "bindings": {"kafka": {"groupId": {"type": "string", "enum": ["g1"]}}},
                    "message": {"payload": {"type": "object"}, "x-seller": 1},
                },
            }
        },
        "components": {"securitySchemes": {"sasl": {"type": "scramSha512"}}},
        "x-seller-id": "s-1",
    }
    document = AsyncApiDocument.model_validate(sent)
    assert document.servers is not None
    server = document.servers["prod"]
    assert server.security == [{"sasl": []}]
    assert server.bindings is not None and server.bindings.kafka is not None
    assert server.bindings.kafka.schema_registry_url == "https://registry.example"
    channel = document.channels["pm/1"]
    assert channel.bindings is not None
    assert isinstance(channel.bindings.kafka, KafkaChannelBinding)
    assert document.kafka_topic("pm/1") == "pm.1"
    assert channel.subscribe is not None and channel.subscribe.bindings is not None
    assert channel.subscribe.bindings.kafka is not None
    assert channel.subscribe.bindings.kafka.group_id == {"type": "string", "enum": ["g1"]}
    assert document.components is not None
    assert document.components.security_schemes == {"sasl": {"type": "scramSha512"}}
    assert document.to_dict() == sent


def test_a_seller_that_answers_json_instead_is_a_clear_error(faulty_seller: Any) -> None:
    seller: FaultySeller = faulty_seller(lambda request: Reply.json([]))
    with AllegroClient(seller.url) as client, pytest.raises(ResponseValidationError):
        client.streaming_subscriptions.list_asyncapi()


def test_a_seller_without_the_asyncapi_form_answers_406(faulty_seller: Any) -> None:
    seller: FaultySeller = faulty_seller(
        lambda request: Reply.json({"code": "notAcceptable", "reason": "JSON only"}, 406)
    )
    with AllegroClient(seller.url, max_retries=0) as client, pytest.raises(APIStatusError) as err:
        client.streaming_subscriptions.list_asyncapi()
    assert err.value.status_code == 406


def test_mock_servers_get_an_asyncapi_schema_for_the_listing() -> None:
    from codegen._asyncapi import asyncapi_for_mocks
    from codegen._spec import SpecSource, load_manifest
    from codegen.patches import load_patched

    doc = load_patched(SpecSource(), load_manifest().api("streaming_management_v1"))
    assert doc["components"]["schemas"]["AsyncAPIModel"] == {"type": "object"}
    asyncapi_for_mocks(doc)
    schema = doc["components"]["schemas"]["AsyncAPIModel"]
    assert schema["required"] == ["asyncapi", "info", "channels"]
    with pytest.raises(RuntimeError, match="open object"):
        asyncapi_for_mocks(doc)  # the patch no longer leaves it open: look again
    other = load_patched(SpecSource(), load_manifest().api("service_ordering_v1"))
    before = json.dumps(other, sort_keys=True)
    asyncapi_for_mocks(other)
    assert json.dumps(other, sort_keys=True) == before
