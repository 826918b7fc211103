"""A Context bullet nothing recognised, classified by the configured model into a need type.

The pattern table handles the common needs for free; the model is asked only about the
leftovers, and only to choose among the kinds the registry holds (a pack's own types
included), or to say "unknown". Classification is a convenience, never a reason to stop: a
failed call, a rate limit, an answer naming an unregistered kind, all leave the bullet
reported as not understood, with the reason in the summary's actions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

from overture.llm.base import LLMProvider, LLMRequest, LLMResult
from overture.skills.context.needs import VAULT_FILE
from overture.skills.prose.llm import Classification
from overture.skills.prose.metering import CallMeter, failure

TASK = "classify-context-need"
UNKNOWN = "unknown"
MAX_REASON = 200
log = logging.getLogger("overture.skills")

INSTRUCTIONS = """\
A skill declares in plain words, one bullet each, the context it needs before it runs.
Classify the bullet you are given into exactly one of the need kinds listed in the input,
by what the bullet asks to have loaded. Answer "unknown" when none of them fits; do not
stretch a kind to cover it. For the kind "vault_file", also give the note's file name
(e.g. Week.md). Give a one-sentence reason.
"""


class NeedAnswer(BaseModel):
    """The model's classification of one bullet."""

    kind: str = Field(description='One of the need kinds given, or "unknown"')
    file: str | None = Field(default=None, description="For vault_file only: the note's file name")
    reason: str = Field(default="", description="One short sentence")


@dataclass(frozen=True)
class ModelNeedClassifier:
    """Classifies bullets with ``provider``; any failure is a verdict of "not understood"."""

    provider: LLMProvider
    meter: CallMeter | None = None
    max_output_tokens: int = 300
    timeout_s: float = 30.0

    def with_meter(self, meter: CallMeter) -> ModelNeedClassifier:
        return replace(self, meter=meter)

    def classify_need(self, text: str, kinds: Mapping[str, str]) -> str | None:
        return self.classify_bullet(text, kinds).kind

    def classify_bullet(self, text: str, kinds: Mapping[str, str]) -> Classification:
        """The need kind ``text`` asks for, or None with the reason the model gave or the call
        failed."""
        request = LLMRequest(
            task=TASK,
            instructions=INSTRUCTIONS,
            input={
                "bullet": text,
                "need_kinds": [{"kind": kind, "label": label} for kind, label in kinds.items()],
            },
            schema=NeedAnswer,
            max_output_tokens=self.max_output_tokens,
            timeout_s=self.timeout_s,
        )
        try:
            answer = self._ask(request).value
        except Exception as exc:  # a rate limit too: one bullet is not worth deferring a job
            why = failure(exc)
            log.warning("classifying a Context bullet failed: %s", why)
            return Classification(None, note=f"the model could not classify it ({why})")
        return verdict(answer, kinds)

    def _ask(self, request: LLMRequest[NeedAnswer]) -> LLMResult[NeedAnswer]:
        if self.meter is not None:
            return self.meter.ask(self.provider, request)
        return self.provider.structured(request)


def verdict(answer: NeedAnswer, kinds: Mapping[str, str]) -> Classification:
    """Pure: the answer held to the registry. Only a registered kind is accepted, and a vault
    file only with a note's name."""
    reason = " ".join(answer.reason.split())[:MAX_REASON]
    kind = answer.kind.strip()
    if kind == UNKNOWN:
        return Classification(
            None, note=f"the model found no need type for it ({reason or 'no reason given'})"
        )
    if kind not in kinds:
        return Classification(None, note=f"the model answered {kind!r}, which is not a registered need type")
    params: dict[str, str] = {}
    if kind == VAULT_FILE:
        file = (answer.file or "").strip()
        if not file.lower().endswith(".md"):
            return Classification(None, note="the model said it is a vault file but named no note")
        params["file"] = file
    return Classification(kind, params, note=reason)
