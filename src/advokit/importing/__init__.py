"""Import advocates and past actions from CSV or JSON Lines files.

::

    from advokit.importing import import_actions, import_advocates

    summary = import_advocates(program, "customers.csv", region="GB")
    print(summary.line())  # advocates: read 1000, created 990, ... rejected 3
    import_actions(program, "orders.csv", mapping=["Order=key"], timezone="Europe/London")

Files are streamed (constant memory whatever their size), their encoding
detected, their columns matched to fields by name or alias. Advocates are
upserted idempotently; actions are recorded through ``record_many``, so rules
and screens apply as to live actions. ``advokit import advocates|actions FILE``
is the command line of the same; see ``docs/importing.md``.
"""

from advokit.importing.actions import import_actions
from advokit.importing.advocates import import_advocates
from advokit.importing.columns import ACTIONS, ADVOCATES, Fields
from advokit.importing.errors import FileNotImportable
from advokit.importing.report import Reject, Summary

__all__ = [
    "ACTIONS",
    "ADVOCATES",
    "Fields",
    "FileNotImportable",
    "Reject",
    "Summary",
    "import_actions",
    "import_advocates",
]
