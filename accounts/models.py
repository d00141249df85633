
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, Relationship, SQLModel

from clock import DEFAULT_ZONE_NAME, now


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    supervisor = "supervisor"
    auditor = "auditor"


class PlantBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)


# the languages a plant's reports are issued in: Chinese, English, both side by side (reports/language.py)
REPORT_LANGUAGES = ("zh", "en", "zh-en")


class Plant(PlantBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Where the plant's overdue digest is POSTed (a relay to WeCom / DingTalk), signed with the secret.
    webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret: str | None = Field(default=None, max_length=128)
    # The plant's IANA time zone: its days (inspection dates, due dates, months of the ranking) are its own.
    timezone: str = Field(default=DEFAULT_ZONE_NAME, max_length=64)
    # the monthly ranking: a planned inspection that was missed counts as a score of 0 (else it is only shown)
    missed_counts_as_zero: bool = False
    # the language its reports are printed in unless a download asks for another: zh | en | zh-en
    report_language: str = Field(default="zh", max_length=8, sa_column_kwargs={"server_default": "zh"})
    # sign-ins on browsers that are not the person's known tablet (an office PC, a borrowed phone) end after this
    # many idle hours / days in all; None: the app's SESSION_IDLE_DAYS / SESSION_MAX_DAYS (see session_limits)
    session_idle_hours: int | None = None
    session_max_days: int | None = None
    workshops: list["Workshop"] = Relationship(back_populates="plant")


class PlantRobot(SQLModel, table=True):
    """A group-chat robot of the plant (WeCom, DingTalk, Feishu): plan reminders and the overdue-action digest go
    there (chatbots.py)."""

    __tablename__ = "plant_robot"

    id: int | None = Field(default=None, primary_key=True)
    plant_id: int = Field(foreign_key="plant.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # wecom | dingtalk | feishu
    url: str = Field(max_length=500)
    secret: str = Field(default="", max_length=128)
    label: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=now)


class WorkshopBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    plant_id: int = Field(foreign_key="plant.id", index=True)


class Workshop(WorkshopBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # when it was added (None: before migration 0024): a plant-wide plan's windows count from then on
    created_at: datetime | None = Field(default_factory=now)
    plant: "Plant" = Relationship(back_populates="workshops")


class UserWorkshop(SQLModel, table=True):
    """A workshop a supervisor or auditor is assigned to (their scope)."""

    __tablename__ = "user_workshop"
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")


class UserPlant(SQLModel, table=True):
    """A plant a manager or auditor is granted (their scope: every workshop of it)."""

    __tablename__ = "user_plant"
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    plant_id: int = Field(foreign_key="plant.id", primary_key=True, ondelete="CASCADE")


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=120)
    role: Role = Field(max_length=16)
    active: bool = True
    # Auditors: no access after this day (local calendar); may_inspect lets them conduct inspections too.
    access_expires_on: date | None = None
    may_inspect: bool = False
    email: str | None = Field(default=None, max_length=254)  # the daily digest of overdue actions goes here


class User(UserBase, table=True):
    __tablename__ = "user"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=now)
    workshops: list["Workshop"] = Relationship(link_model=UserWorkshop)
    plants: list["Plant"] = Relationship(link_model=UserPlant)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    # Only the SHA-256 of the token is kept: a leaked database does not leak working tokens.
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    # The first characters, shown in lists so a user can tell their tokens apart (not enough to use one).
    prefix: str = Field(default="", max_length=12)
    label: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token, the database its hash: logging out, "sign out
    everywhere" and disabling a user end sessions for good, even for a copied cookie."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=now)
    last_seen_at: datetime = Field(default_factory=now)
    revoked_at: datetime | None = None
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)
    # the limits this session was begun with (its plants' for a browser that was not the person's known tablet);
    # None: the app-wide SESSION_IDLE_DAYS / SESSION_MAX_DAYS
    idle_hours: int | None = None
    max_days: int | None = None
    known_device: bool = False


class DeviceKey(SQLModel, table=True):
    """A tablet's signing key, for records signed where the server cannot be reached (#37; accounts/device_keys.py).

    Made on the tablet when its user signs in there with their password: the private half stays on the tablet,
    encrypted under a key derived from that password (the password itself is never kept), and the server keeps the
    public half to check what the tablet signed offline. Revoked with the user's sessions (a password change,
    "sign out everywhere", the account disabled)."""

    __tablename__ = "device_key"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    fingerprint: str = Field(max_length=64, unique=True)  # SHA-256 of the public key (SubjectPublicKeyInfo, DER)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=200)


class LoginAttempt(SQLModel, table=True):
    """Failed sign-ins, for the rate limit (see accounts.service.sign_in). Pruned after a day."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=now, index=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    device: str = Field(default="", max_length=32)  # the device cookie's id ("" without a valid one)
    trusted: bool = False  # that device had signed in as this name before
    known: bool = True  # the name is a user's


class SiteAddress(SQLModel, table=True):
    """The address people reach the app at, remembered from their sign-ins, for links in what is sent without a
    request to take it from (robot messages, digests, webhooks, reports rendered by the task consumer) when
    PUBLIC_BASE_URL is not set. One row."""

    __tablename__ = "site_address"

    id: int | None = Field(default=None, primary_key=True)
    base_url: str = Field(max_length=300)
    seen_at: datetime = Field(default_factory=now)
    seen_by_id: int | None = Field(default=None, foreign_key="user.id")
