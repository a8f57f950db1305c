"""The one error of the setup: its message is a single line saying what to do."""


class SetupError(Exception):
    pass
