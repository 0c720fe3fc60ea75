"""Parameters people send that jaju does not use: accepted, named back, or refused when they matter.

OpenAI's SDKs and the frameworks on top of them send parameters jaju has no use for (`user`,
`service_tier`, `reasoning_effort`, `prediction`...). Failing such a request helps nobody, so request
bodies keep unknown fields (`extra="allow"`), and the response lists them in `jaju.ignored_params`.
A parameter whose value would change the result in a way jaju cannot honour (audio output, web
search, legacy `functions`) is still a clear 400: silently answering something else would be worse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from jaju.protocol.common import MAX_STRING_CHARS, echo

MAX_NAMED = 32  # names reported back at most (a body may carry any number of unknown keys)

# parameter -> (refuse when this is true of its value, why), for values jaju cannot honour.
Refusal = tuple[Callable[[Any], bool], str]
CANNOT_HONOUR: dict[str, Refusal] = {
    "modalities": (lambda v: v is not None and v != ["text"],
                   "jaju answers in text only; send modalities [\"text\"] or leave it out"),
    "audio": (lambda v: v is not None, "audio output is not available here"),
    "web_search_options": (lambda v: v is not None,
                           "web search is not available here (jaju makes no outside calls)"),
    "functions": (lambda v: v is not None, "the legacy `functions` parameter is not supported; use `tools`"),
    "function_call": (lambda v: v is not None,
                      "the legacy `function_call` parameter is not supported; use `tool_choice`"),
    "best_of": (lambda v: v not in (None, 1), "best_of is not supported; use n"),
}


class TolerantRequest(BaseModel):
    """A request body that keeps unknown fields so they can be named back (not used)."""

    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING_CHARS)

    # Declared fields that are accepted but have no effect here.
    ACCEPTED_UNUSED: ClassVar[frozenset[str]] = frozenset({"user"})

    @model_validator(mode="after")
    def _refuse_what_cannot_be_honoured(self) -> TolerantRequest:
        for name, value in (self.model_extra or {}).items():
            rule = CANNOT_HONOUR.get(name)
            if rule is not None and rule[0](value):
                raise ValueError(f"{name}: {rule[1]}")
        return self

    @property
    def ignored_params(self) -> list[str]:
        """Names of the parameters this request sent that jaju did not apply (bounded, sanitised)."""
        names = [n for n in self.ACCEPTED_UNUSED if getattr(self, n, None) is not None]
        names += [n for n, v in (self.model_extra or {}).items() if v is not None]
        return sorted({echo(n, 64) for n in names})[:MAX_NAMED]
