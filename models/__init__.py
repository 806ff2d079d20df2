"""SQLAlchemy models: one module per domain. Imports nothing of the application."""

from models.assistance import AssistancePlan, AssistanceRecord
from models.base import Base, TenantScoped
from models.checks import CheckPlan, CheckPoint, CheckReading, CheckRecord
from models.comparisons import Comparison, ComparisonPoint
from models.history import Event, HistoryHead
from models.imports import LedgerExport, LedgerImport
from models.ledger import Instrument, StatusRequest
from models.nominations import (
    Award,
    Campaign,
    Nomination,
    NominationFile,
    Objection,
    RecommendationList,
    Recommender,
    RecommenderMember,
    ReviewAssignment,
)
from models.nonconformity import NonconformityCase
from models.orders import ServiceOrder, ServiceOrderItem, ServiceOrderStep
from models.projects import ComparisonProject, ProjectParticipant, ProjectPoint, ProjectResult
from models.reminders import (
    Notification,
    NotificationItem,
    ReminderPolicy,
    ReminderRun,
    SmsOptOut,
    SmsUsage,
)
from models.reports import FigureSnapshot
from models.stability import RepeatabilityTest, StabilityAssessment, StabilityGroup
from models.tenancy import (
    ApiToken,
    ClientLink,
    Department,
    Invitation,
    Organization,
    PasswordReset,
    SignInAttempt,
    User,
)
from models.traceability import Attachment, CalibrationRecord, RecordReading, RecordStandard
from models.visits import CertificateSequence, Technician, TechnicianDayOff, Visit, VisitItem

__all__ = [
    "ComparisonProject",
    "ProjectParticipant",
    "ProjectPoint",
    "ProjectResult",
    "Comparison",
    "ComparisonPoint",
    "CheckPlan",
    "CheckPoint",
    "CheckReading",
    "CheckRecord",
    "ApiToken",
    "AssistancePlan",
    "AssistanceRecord",
    "Attachment",
    "Award",
    "CalibrationRecord",
    "Campaign",
    "CertificateSequence",
    "Base",
    "ClientLink",
    "Department",
    "Event",
    "HistoryHead",
    "Instrument",
    "Invitation",
    "LedgerExport",
    "LedgerImport",
    "Nomination",
    "NominationFile",
    "Objection",
    "NonconformityCase",
    "Notification",
    "NotificationItem",
    "Organization",
    "PasswordReset",
    "RecommendationList",
    "Recommender",
    "RecommenderMember",
    "ReviewAssignment",
    "RecordReading",
    "RecordStandard",
    "ReminderPolicy",
    "ReminderRun",
    "RepeatabilityTest",
    "FigureSnapshot",
    "ServiceOrder",
    "ServiceOrderItem",
    "ServiceOrderStep",
    "SignInAttempt",
    "SmsOptOut",
    "SmsUsage",
    "StabilityAssessment",
    "StabilityGroup",
    "StatusRequest",
    "Technician",
    "TechnicianDayOff",
    "TenantScoped",
    "User",
    "Visit",
    "VisitItem",
]
