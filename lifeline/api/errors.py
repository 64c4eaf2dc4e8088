"""The one exception API code raises to answer with an error document."""


class ApiError(Exception):
    """Answered as `<error>message</error>` in the API's namespace, HTTP 200."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
