"""Contract tests for the Azure OpenAI v1 API as used through the official OpenAI SDKs."""

__version__ = "0.1.0"
