"""Domain errors carry a Russian message that is safe to show to the user as is."""


class DomainError(Exception):
    """Base class: the request was understood but refused; nothing was written."""

    status_code = 400

    def __init__(self, message: str, *, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class ValidationFailed(DomainError):
    status_code = 422


class GuardFailed(DomainError):
    """A workflow guard refused the transition; `problems` lists what is missing."""

    status_code = 409


class InvalidTransition(DomainError):
    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "Недостаточно прав для этого действия."):
        super().__init__(message)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Объект не найден."):
        super().__init__(message)


class StaleObject(DomainError):
    """Optimistic-lock conflict: someone else changed the object since the user loaded it."""

    status_code = 409

    def __init__(self, message: str = "Объект изменён другим пользователем, обновите страницу."):
        super().__init__(message)


class ConcurrentChange(StaleObject):
    """A write collided with another request's committed one (a unique key taken, a row gone, a version moved)
    at the database: the same action sent twice at once. The boundary turns the database's error into this."""

    def __init__(self, message: str = "Это действие только что выполнено или данные изменены другим запросом; "
                                      "ничего не сохранено. Обновите страницу и проверьте результат."):
        super().__init__(message)
