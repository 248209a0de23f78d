"""Errors the domain raises when a command breaks one of its rules."""


class DomainError(Exception):
    """A command was refused; the message is safe to show to the caller."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RuleViolated(DomainError):
    """The command is well formed but breaks a business rule about its values."""


class ActionClosed(DomainError):
    """The action is completed or withdrawn and must be reopened first."""


class NotPermitted(DomainError):
    """The principal's role or agency does not allow this command."""


class NotFound(DomainError):
    """No such plan, recommendation, action or user."""


class StaleVersion(DomainError):
    """The caller's expected version no longer matches the stored one."""


class Conflict(DomainError):
    """The command clashes with what is already recorded (a duplicate number, a race)."""
