"""Imports every table so that `Base.metadata` is complete (for Alembic and for tests)."""

from lifeline.appliance import models as appliance_models
from lifeline.backup import models as backup_models
from lifeline.db.base import Base
from lifeline.directory import models as directory_models
from lifeline.presence import models as presence_models
from lifeline.recordings import models as recording_models
from lifeline.reports import models as report_models
from lifeline.sessions import models as session_models
from lifeline.surveys import models as survey_models

__all__ = [
    "Base",
    "appliance_models",
    "backup_models",
    "directory_models",
    "presence_models",
    "recording_models",
    "report_models",
    "session_models",
    "survey_models",
]
