"""The AsyncAPI 2.6 document a seller lists streaming subscriptions in.

`GET /subscription` with `Accept: application/vnd.aai.asyncapi+json` answers with one
AsyncAPI document: the brokers (`servers`), one channel per subscription (`channels`,
each read through its `subscribe` operation), the protocol bindings that say how, and
the message schemas (`components`). The Streaming Management API refers to the AsyncAPI
definitions on asyncapi.com, which generation does not fetch; these models are written
from the AsyncAPI 2.6.0 specification for what a subscription listing carries, and
like every model they keep whatever else a document holds (`x-` extensions, the
bindings of other protocols, other AsyncAPI fields), so `to_dict()` gives back what the
seller sent.

Kafka bindings (server, channel, operation and message, binding version 0.4.0) are
typed; the bindings of other protocols are kept as received, under their protocol name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ._model import MefModel

__all__ = [
    "ASYNCAPI_MEDIA_TYPE",
    "AsyncApiChannel",
    "AsyncApiComponents",
    "AsyncApiDocument",
    "AsyncApiInfo",
    "AsyncApiMessage",
    "AsyncApiOperation",
    "AsyncApiServer",
    "AsyncApiServerVariable",
    "ChannelBindings",
    "KafkaChannelBinding",
    "KafkaMessageBinding",
    "KafkaOperationBinding",
    "KafkaServerBinding",
    "KafkaTopicConfiguration",
    "MessageBindings",
    "OperationBindings",
    "ServerBindings",
]

# The media type of the AsyncAPI form of a subscription listing (W147 use case 5).
ASYNCAPI_MEDIA_TYPE = "application/vnd.aai.asyncapi+json"


# ----------------------------------------------------------------------------- Kafka bindings


class KafkaServerBinding(MefModel):
    """How to reach a Kafka broker's schema registry."""

    schema_registry_url: Annotated[str | None, Field(alias="schemaRegistryUrl")] = None
    schema_registry_vendor: Annotated[str | None, Field(alias="schemaRegistryVendor")] = None
    binding_version: Annotated[str | None, Field(alias="bindingVersion")] = None


class KafkaTopicConfiguration(MefModel):
    """A Kafka topic's configuration as the binding gives it (Kafka's own property names)."""

    cleanup_policy: Annotated[list[str] | None, Field(alias="cleanup.policy")] = None
    retention_ms: Annotated[int | None, Field(alias="retention.ms")] = None
    retention_bytes: Annotated[int | None, Field(alias="retention.bytes")] = None
    delete_retention_ms: Annotated[int | None, Field(alias="delete.retention.ms")] = None
    max_message_bytes: Annotated[int | None, Field(alias="max.message.bytes")] = None


class KafkaChannelBinding(MefModel):
    """The Kafka topic behind a channel."""

    topic: str | None = None
    partitions: Annotated[int | None, Field(ge=1)] = None
    replicas: Annotated[int | None, Field(ge=1)] = None
    topic_configuration: Annotated[
        KafkaTopicConfiguration | None, Field(alias="topicConfiguration")
    ] = None
    binding_version: Annotated[str | None, Field(alias="bindingVersion")] = None


class KafkaOperationBinding(MefModel):
    """The consumer group and client id to consume with (each a JSON Schema, usually an
    `enum` of the values allowed).

    The PM streaming guide (W147, use case 5) places the channel's Kafka binding (`topic`,
    `partitions`, `topicConfiguration`) in the `subscribe` operation's bindings, where
    AsyncAPI places the operation's: both are typed here, so a listing reads the same
    wherever the seller put the topic (`AsyncApiDocument.kafka_topic`)."""

    group_id: Annotated[dict[str, Any] | None, Field(alias="groupId")] = None
    client_id: Annotated[dict[str, Any] | None, Field(alias="clientId")] = None
    topic: str | None = None
    partitions: Annotated[int | None, Field(ge=1)] = None
    replicas: Annotated[int | None, Field(ge=1)] = None
    topic_configuration: Annotated[
        KafkaTopicConfiguration | None, Field(alias="topicConfiguration")
    ] = None
    binding_version: Annotated[str | None, Field(alias="bindingVersion")] = None


class KafkaMessageBinding(MefModel):
    """A Kafka record's key and schema id placement."""

    key: dict[str, Any] | None = None
    schema_id_location: Annotated[str | None, Field(alias="schemaIdLocation")] = None
    schema_id_payload_encoding: Annotated[str | None, Field(alias="schemaIdPayloadEncoding")] = None
    schema_lookup_strategy: Annotated[str | None, Field(alias="schemaLookupStrategy")] = None
    binding_version: Annotated[str | None, Field(alias="bindingVersion")] = None


class ServerBindings(MefModel):
    """A server's protocol bindings by protocol (other protocols kept as received)."""

    kafka: KafkaServerBinding | None = None


class ChannelBindings(MefModel):
    """A channel's protocol bindings by protocol (other protocols kept as received)."""

    kafka: KafkaChannelBinding | None = None


class OperationBindings(MefModel):
    """An operation's protocol bindings by protocol (other protocols kept as received)."""

    kafka: KafkaOperationBinding | None = None


class MessageBindings(MefModel):
    """A message's protocol bindings by protocol (other protocols kept as received)."""

    kafka: KafkaMessageBinding | None = None


# ----------------------------------------------------------------------------- the document


class AsyncApiInfo(MefModel):
    """The document's title and version."""

    title: str
    version: str
    description: str | None = None
    terms_of_service: Annotated[str | None, Field(alias="termsOfService")] = None
    contact: dict[str, Any] | None = None
    license: dict[str, Any] | None = None


class AsyncApiServerVariable(MefModel):
    """A variable of a server's URL template."""

    enum: list[str] | None = None
    default: str | None = None
    description: str | None = None
    examples: list[str] | None = None


class AsyncApiServer(MefModel):
    """A broker: where to connect (`url`, `protocol`) and how to authenticate
    (`security`: the names of the document's security schemes, each with its scopes)."""

    url: str
    protocol: str
    protocol_version: Annotated[str | None, Field(alias="protocolVersion")] = None
    description: str | None = None
    variables: dict[str, AsyncApiServerVariable] | None = None
    security: list[dict[str, list[str]]] | None = None
    tags: list[dict[str, Any]] | None = None
    bindings: ServerBindings | None = None


class AsyncApiMessage(MefModel):
    """A message definition, or a reference to one (`ref`, `#/components/messages/X`),
    or a choice of several (`one_of`)."""

    ref: Annotated[str | None, Field(alias="$ref")] = None
    one_of: Annotated[list[AsyncApiMessage] | None, Field(alias="oneOf")] = None
    name: str | None = None
    title: str | None = None
    summary: str | None = None
    description: str | None = None
    content_type: Annotated[str | None, Field(alias="contentType")] = None
    schema_format: Annotated[str | None, Field(alias="schemaFormat")] = None
    headers: dict[str, Any] | None = None
    payload: Any = None
    correlation_id: Annotated[dict[str, Any] | None, Field(alias="correlationId")] = None
    tags: list[dict[str, Any]] | None = None
    bindings: MessageBindings | None = None


class AsyncApiOperation(MefModel):
    """What a consumer (`subscribe`) or producer (`publish`) of a channel does."""

    operation_id: Annotated[str | None, Field(alias="operationId")] = None
    summary: str | None = None
    description: str | None = None
    security: list[dict[str, list[str]]] | None = None
    tags: list[dict[str, Any]] | None = None
    bindings: OperationBindings | None = None
    message: AsyncApiMessage | None = None


class AsyncApiChannel(MefModel):
    """A channel: in a subscription listing, one subscription's stream."""

    description: str | None = None
    servers: list[str] | None = None
    subscribe: AsyncApiOperation | None = None
    publish: AsyncApiOperation | None = None
    parameters: dict[str, Any] | None = None
    bindings: ChannelBindings | None = None


class AsyncApiComponents(MefModel):
    """Reusable definitions: message payload schemas, messages, security schemes."""

    schemas: dict[str, Any] | None = None
    messages: dict[str, AsyncApiMessage] | None = None
    security_schemes: Annotated[dict[str, Any] | None, Field(alias="securitySchemes")] = None
    parameters: dict[str, Any] | None = None
    server_bindings: Annotated[dict[str, Any] | None, Field(alias="serverBindings")] = None
    channel_bindings: Annotated[dict[str, Any] | None, Field(alias="channelBindings")] = None
    operation_bindings: Annotated[dict[str, Any] | None, Field(alias="operationBindings")] = None
    message_bindings: Annotated[dict[str, Any] | None, Field(alias="messageBindings")] = None


class AsyncApiDocument(MefModel):
    """An AsyncAPI 2.x document: the AsyncAPI form of a subscription listing."""

    asyncapi: str
    id: str | None = None
    info: AsyncApiInfo
    servers: dict[str, AsyncApiServer] | None = None
    default_content_type: Annotated[str | None, Field(alias="defaultContentType")] = None
    channels: dict[str, AsyncApiChannel]
    components: AsyncApiComponents | None = None
    tags: list[dict[str, Any]] | None = None
    external_docs: Annotated[dict[str, Any] | None, Field(alias="externalDocs")] = None

    def kafka_topic(self, channel: str) -> str | None:
        """The Kafka topic of `channel`: its channel binding's, else (as the PM streaming
        guide places it) its `subscribe` operation's binding's."""
        found = self.channels[channel]
        channel_binding = found.bindings.kafka if found.bindings is not None else None
        if channel_binding is not None and channel_binding.topic is not None:
            return channel_binding.topic
        for operation in (found.subscribe, found.publish):
            if operation is not None and operation.bindings is not None:
                binding = operation.bindings.kafka
                if binding is not None and binding.topic is not None:
                    return binding.topic
        return None

    def message(self, channel: str) -> AsyncApiMessage | None:
        """The message a consumer of `channel` reads (its `subscribe` operation's, else
        its `publish` operation's), with a `#/components/messages/...` reference resolved."""
        found = self.channels[channel]
        operation = found.subscribe or found.publish
        message = operation.message if operation is not None else None
        if message is None or message.ref is None:
            return message
        prefix = "#/components/messages/"
        messages = self.components.messages if self.components is not None else None
        if not message.ref.startswith(prefix) or not messages:
            return message
        return messages.get(message.ref[len(prefix) :], message)
