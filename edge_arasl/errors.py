"""The one exception type that reaches users as a one-line message.

Anything the user can fix (a bad path, a bad config value, an unusable image) is raised as
:class:`UserError`; the CLI prints ``edge-arasl: error: <message>`` and exits non-zero without a
traceback. Everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """An error caused by input the user controls; the message names the file, key or value."""
