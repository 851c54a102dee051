"""Typed models: users, the role → set → question catalogue, per-user card state and the review log.

One module per area; everything is importable from `careerprep.models`.
"""

from .admin import AuditLog, Report
from .base import (
    TX_MODE,
    UTCDateTime,
    as_utc,
    register_engine_hooks,
    snapshot,
    utc_now,
    write_transaction,
)
from .catalogue import Question, QuestionSet, Role, question_uid
from .mock import MockInterview, MockItem
from .scheduler import SchedulerFit
from .speech import Recording
from .study import (
    DROP_REVIEW_TRIGGERS,
    DROP_STUDY_VERSION_TRIGGERS,
    REVIEW_TRIGGERS,
    STUDY_VERSION_TRIGGERS,
    ActivityDay,
    CardFlag,
    CardState,
    Review,
    RolePlan,
)
from .users import User, UserSession

__all__ = [
    "DROP_REVIEW_TRIGGERS",
    "DROP_STUDY_VERSION_TRIGGERS",
    "REVIEW_TRIGGERS",
    "STUDY_VERSION_TRIGGERS",
    "TX_MODE",
    "ActivityDay",
    "AuditLog",
    "CardFlag",
    "CardState",
    "MockInterview",
    "MockItem",
    "Question",
    "question_uid",
    "QuestionSet",
    "Recording",
    "Report",
    "Review",
    "Role",
    "RolePlan",
    "SchedulerFit",
    "UTCDateTime",
    "User",
    "UserSession",
    "as_utc",
    "register_engine_hooks",
    "snapshot",
    "utc_now",
    "write_transaction",
]
