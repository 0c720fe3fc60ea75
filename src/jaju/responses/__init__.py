"""The Responses API (/v1/responses): translation to the chat path, encrypted storage, background runs."""
