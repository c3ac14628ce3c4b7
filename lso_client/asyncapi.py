"""The AsyncAPI 2.6 document model: the AsyncAPI form of a streaming subscription listing.

    >>> document = client.streaming_subscriptions.list_asyncapi(topic_id=topic.id)
    >>> for name, channel in document.channels.items():
    ...     topic = channel.subscribe.bindings.kafka.topic
    >>> document.servers["kafka-prod"].url

See `lso_client._asyncapi` for what is typed.
"""

from __future__ import annotations

from ._asyncapi import (
    ASYNCAPI_MEDIA_TYPE,
    AsyncApiChannel,
    AsyncApiComponents,
    AsyncApiDocument,
    AsyncApiInfo,
    AsyncApiMessage,
    AsyncApiOperation,
    AsyncApiServer,
    AsyncApiServerVariable,
    ChannelBindings,
    KafkaChannelBinding,
    KafkaMessageBinding,
    KafkaOperationBinding,
    KafkaServerBinding,
    KafkaTopicConfiguration,
    MessageBindings,
    OperationBindings,
    ServerBindings,
)

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
