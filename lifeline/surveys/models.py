"""Tables of exit surveys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, UtcDateTime, utcnow


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(16))  # "customer" or "representative"
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(1024))
    report_header: Mapped[str] = mapped_column(String(255), default="")
    question_type: Mapped[str] = mapped_column(String(16))  # radio, checkbox, select, text, textarea
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), index=True)
    survey: Mapped[str] = mapped_column(String(16))
    submitted_by_gsnumber: Mapped[int] = mapped_column(BigInteger)
    submitted_by_name: Mapped[str] = mapped_column(String(255))
    submitted_by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # question id (as text) -> list of answer values
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
