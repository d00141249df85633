
from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Field, Relationship, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    supervisor = "supervisor"
    auditor = "auditor"


class PlantBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)


class Plant(PlantBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workshops: list["Workshop"] = Relationship(back_populates="plant")


class WorkshopBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    plant_id: int = Field(foreign_key="plant.id", index=True)


class Workshop(WorkshopBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plant: "Plant" = Relationship(back_populates="workshops")


class UserWorkshop(SQLModel, table=True):
    """A workshop a supervisor or auditor is assigned to (their scope)."""

    __tablename__ = "user_workshop"
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=120)
    role: Role = Field(max_length=16)
    active: bool = True


class User(UserBase, table=True):
    __tablename__ = "user"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    workshops: list["Workshop"] = Relationship(link_model=UserWorkshop)

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
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
