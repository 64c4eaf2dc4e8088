"""Exit survey answers as reports carry them: a light record that both a session's report
and its seal hold, kept apart so that neither has to import the other."""

from __future__ import annotations

from typing import NamedTuple


class SurveyAnswers(NamedTuple):
    """One exit survey submitted after a session (one per session and person, hence a light tuple)."""

    id: int
    survey: str  # customer or representative
    gsnumber: int
    name: str
    user_id: int | None
    answers: dict[str, list[str]]  # question id (as text) -> answers
