"""Requests the seed doc's samples make, shared by the suites and their cassettes."""

from __future__ import annotations

from typing import Any

# The doc's samples pass the deployment name as `model` ("Replace with your model deployment
# name"); the recordings behind the cassettes used a deployment called gpt-4o.
DEPLOYMENT = "gpt-4o"

# Python / Chat: a system and a user message. The user text is the one in the recorded
# response the chat cassette replays (the doc's own question was never recorded).
CHAT_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
# The doc's chat sample as one request: the deployment as model, the messages, max_tokens 100
# (what the chat, auth, request-id and cross-SDK checks send, and the chat cassettes recorded).
CHAT_REQUEST: dict[str, Any] = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}

# Responses. JavaScript / Responses: model (the deployment, named after the model), instructions
# and input. Python / Responses API: the same deployment, input only.
RESPONSES_DEPLOYMENT = "gpt-4.1-nano"
RESPONSES_INSTRUCTIONS = "You are a helpful AI agent"
RESPONSES_INPUT = "Tell me about the bitter lesson?"
RESPONSES_PYTHON_INPUT = "This is a test"
# The request behind the constructed reference stream responses-stream.azure.sse (a reasoning
# model with reasoning summaries); the checks add stream=True.
RESPONSES_STREAM_REQUEST: dict[str, Any] = {
    "model": "gpt-5-mini",
    "input": "What is the capital of France? One sentence.",
    "reasoning": {"effort": "low", "summary": "auto"},
    "max_output_tokens": 500,
}

# MCP Server (Python and JavaScript samples), tool config exactly as the doc writes it.
MCP_DEPLOYMENT = "gpt-5"
MCP_TOOL: dict[str, Any] = {
    "type": "mcp",
    "server_label": "microsoft_learn",
    "server_description": "Microsoft Learn MCP server for searching and fetching Microsoft "
    "documentation.",
    "server_url": "https://learn.microsoft.com/api/mcp",
    "require_approval": "never",
}
MCP_INPUT = "Search for information about Azure Functions"
# The tool config the constructed reference stream responses-mcp-stream.sse echoes (gpt-4.1).
MCP_STREAM_DEPLOYMENT = "gpt-4.1"
MCP_STREAM_TOOL: dict[str, Any] = {
    "type": "mcp",
    "server_label": "microsoft_learn",
    "server_description": "Microsoft Learn documentation search",
    "server_url": "https://learn.microsoft.com/api/mcp",
    "require_approval": "never",
    "allowed_tools": ["microsoft_docs_search"],
}

# Reasoning. .NET / Chat "chat completions request to a reasoning model": o4-mini, a developer
# and a user message, ReasoningEffortLevel.Low, MaxOutputTokenCount 100000.
REASONING_DEPLOYMENT = "o4-mini"
REASONING_MESSAGES: list[dict[str, Any]] = [
    {"role": "developer", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Tell me about the bitter lesson"},
]
REASONING_EFFORT = "low"
REASONING_MAX_COMPLETION_TOKENS = 100000
# One deployment per model family of wire §10.3, each with an effort value it adds.
REASONING_EFFORTS: list[tuple[str, str]] = [
    ("o4-mini", "low"),
    ("o4-mini", "medium"),
    ("o4-mini", "high"),
    ("gpt-5", "minimal"),
    ("gpt-5.1", "none"),
    ("gpt-5.1-codex-max", "xhigh"),
]
# .NET / Responses API: o4-mini, the poker question, ResponseReasoningEffortLevel.High.
REASONING_RESPONSES_INPUT = "What's the optimal strategy to win at poker?"
REASONING_RESPONSES_REASONING: dict[str, Any] = {"effort": "high", "summary": "auto"}
REASONING_RESPONSES_INCLUDE = ["reasoning.encrypted_content"]

# Embeddings. The Go sample names its deployment after the model ("Use your deployed model
# name on Azure"); so do these requests, one deployment per model family of wire §14.4.
EMBEDDING_SMALL = "text-embedding-3-small"
EMBEDDING_LARGE = "text-embedding-3-large"
EMBEDDING_ADA = "text-embedding-ada-002"
# The input of the recorded embeddings request (reference embeddings.base64.openai.request).
EMBEDDING_INPUT = ["Hello, world!"]
# The .NET sample's input (it embeds with text-embedding-3-large).
EMBEDDING_DOTNET_INPUT = "This is a test"
# Request variants from the reference corpus (embeddings.request-variants.json).
EMBEDDING_TEXT = "hello world"
EMBEDDING_DIMENSIONS = 256
EMBEDDING_PAIR = ["first text", "second text"]
EMBEDDING_TOKENS = [[15339, 1917]]  # "hello world" as cl100k_base tokens

# Python / chat.completions.create() - streaming: the doc's sample (stream=True) plus
# stream_options.include_usage, which Azure answers with a final usage chunk. The messages are
# CHAT_MESSAGES, the question the constructed buffered stream answers.
STREAM_OPTIONS: dict[str, Any] = {"include_usage": True}

# Questions the constructed asynchronous-filter streams answer (the doc has no such sample).
ASYNC_FILTER_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How does rain form? Answer in one sentence."},
]
BLOCKED_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write out the full lyrics of a famous song."},
]

# A streamed tool call: one function, asked about two cities, answered with two parallel
# calls. "Zürich" puts a multi-byte UTF-8 character into the argument fragments.
TOOL_MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": "What is the weather in Zürich and in Paris?"},
]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]

# Python / chat.completions.create() - image input: the doc's sample, verbatim.
IMAGE_SAMPLE_URL = (
    "https://raw.githubusercontent.com/MicrosoftDocs/azure-ai-docs/main/articles/ai-foundry/"
    "openai/media/how-to/generated-seattle.png"
)
IMAGE_SAMPLE_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What's in this image?"},
            {"type": "image_url", "image_url": {"url": IMAGE_SAMPLE_URL}},
        ],
    }
]
IMAGE_MAX_TOKENS = 300

# The same sample with both URL forms and explicit detail levels (wire §9.1); the data URL is
# the valid 1x1 PNG of tests/corpus/reference/chat-request-image.json.
IMAGE_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAF"
    "BQIAX8jx0gAAAABJRU5ErkJggg=="
)
IMAGE_BOTH_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these images?"},
            {"type": "image_url", "image_url": {"url": IMAGE_SAMPLE_URL, "detail": "high"}},
            {"type": "image_url", "image_url": {"url": IMAGE_DATA_URL, "detail": "low"}},
        ],
    }
]
