"""Tables the reports keep for themselves."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base


class FrozenSessionDetails(Base):
    """What SupportSession writes of an ended session's participants and event log
    (`session_details`), LZ4-compressed, so a large report reads one value per session
    instead of every event. Derived data: left out of backups and rebuilt by
    `lifeline.reports.freezing`; a report uses it only while `through_event_id` is
    still the session's last event and `format` the writer's current one."""

    # Called "sealed" when the table was made; the name stays (renaming it is a migration
    # for no gain), the code says "frozen" so as not to mix it up with encrypted settings.
    __tablename__ = "sealed_session_details"

    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), primary_key=True)
    through_event_id: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[int] = mapped_column(Integer)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
