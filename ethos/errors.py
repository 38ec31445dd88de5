"""The errors ethos reports to its users.

Every error a user can cause (a bad file, a wrong option value, a model that does not match its
manifest) is an :class:`EthosError`. The command line turns them into a one-line message and a
non-zero exit code; anything else is a bug and keeps its traceback.
"""


class EthosError(Exception):
    """Something the user can fix: the message says what and, where possible, how."""


class InputError(EthosError):
    """A transcript or passage table that cannot be read: missing, empty, binary, truncated, malformed."""


class AnnotationError(EthosError):
    """An annotation file that breaks the contract: missing columns, unknown labels, conflicting codings."""


class ModelError(EthosError):
    """A model folder that cannot be used: missing, tampered with, or built with other library versions."""


class CacheError(EthosError):
    """The lemma cache cannot be opened or written."""
