"""Wire formats: pydantic request models per endpoint family, in OpenAI's field order.

jaju's own extensions live in one field named `jaju` on requests and responses.
"""
