"""The terminal side of a skill session: prompt_toolkit for input, with the usual keys.

Enter takes the answer shown in brackets, Ctrl-C cancels the session (nothing is written) and
Ctrl-D ends it. What the session says is printed as it comes; the session itself is in
:mod:`overture.skills.session.run`.
"""

from __future__ import annotations

import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import HTML
from prompt_toolkit.shortcuts import print_formatted_text

from overture.skills.session.conversation import Question, SessionCancelled, SessionEnded


class TerminalConversation:
    """Asks in the terminal, one line per answer."""

    def __init__(self) -> None:
        self._session: PromptSession[str] = PromptSession()

    async def say(self, text: str) -> None:
        print_formatted_text(text + "\n")

    def stream(self, chunk: str) -> None:
        sys.stdout.write(chunk)
        sys.stdout.flush()

    async def ask(self, question: Question) -> str:
        shown = f" [{question.default}]" if question.default else ""
        print_formatted_text(HTML("<b>{}</b>{}").format(question.text, shown))
        try:
            answer = await self._session.prompt_async("> ")
        except KeyboardInterrupt:
            raise SessionCancelled from None
        except EOFError:
            raise SessionEnded from None
        return answer.strip() or question.default

    def unused(self) -> list[str]:
        return []
