"""Every table of the appliance, gathered in one metadata: a backup carries all of them and a
restore writes them back, Alembic's autogenerate and the migrations test compare them with
the migrated schema. Here, in the one domain that spans all the others, so that the floors
below (db/ included) never import upward to complete it."""

from lifeline.appliance import models as appliance_models
from lifeline.backup import models as backup_models
from lifeline.clients import models as client_models
from lifeline.db.base import Base
from lifeline.directory import models as directory_models
from lifeline.jump import models as jump_models
from lifeline.presence import models as presence_models
from lifeline.recordings import models as recording_models
from lifeline.reports import models as report_models
from lifeline.sessions import models as session_models
from lifeline.surveys import models as survey_models

metadata = Base.metadata

__all__ = [
    "appliance_models",
    "backup_models",
    "client_models",
    "directory_models",
    "jump_models",
    "metadata",
    "presence_models",
    "recording_models",
    "report_models",
    "session_models",
    "survey_models",
]
