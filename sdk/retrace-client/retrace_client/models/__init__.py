"""Contains all the data models used in inputs/outputs"""

from .attachment_out import AttachmentOut
from .health_out import HealthOut
from .ingestion_out import IngestionOut
from .ingestion_result import IngestionResult
from .ingestion_status import IngestionStatus
from .mark_create import MarkCreate
from .mark_out import MarkOut
from .mark_page import MarkPage
from .mark_patch import MarkPatch
from .otp_challenge_out import OtpChallengeOut
from .otp_request import OtpRequest
from .otp_verify import OtpVerify
from .problem import Problem
from .session_out import SessionOut
from .token_create import TokenCreate
from .token_created import TokenCreated
from .token_out import TokenOut
from .user_out import UserOut
from .user_patch import UserPatch
from .validation_error_item import ValidationErrorItem

__all__ = (
    "AttachmentOut",
    "HealthOut",
    "IngestionOut",
    "IngestionResult",
    "IngestionStatus",
    "MarkCreate",
    "MarkOut",
    "MarkPage",
    "MarkPatch",
    "OtpChallengeOut",
    "OtpRequest",
    "OtpVerify",
    "Problem",
    "SessionOut",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
    "UserOut",
    "UserPatch",
    "ValidationErrorItem",
)
