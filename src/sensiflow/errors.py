"""The one exception type that user-facing problems raise."""


class SensiflowError(ValueError):
    """A problem with the user's input: config, data, model file or design settings.

    The message is a single line that names the file or config field at fault and says what is
    wrong; the command-line interface prints it and exits with status 2.
    """

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = " ".join(str(message).split())
        super().__init__(f"{where}: {self.message}")
