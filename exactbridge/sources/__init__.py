"""Source connectors: one self-contained subpackage per system exactbridge reads from.

Each has the same files: ``client.py`` (sync and async clients, or file readers),
``models.py`` (the vendor's own shapes) and ``adapter.py`` (pure: vendor models to the
canonical records of :mod:`exactbridge.records`). Import the one you need:

* :mod:`exactbridge.sources.virtuagym` (gyms)
* :mod:`exactbridge.sources.eduframe` (training institutes)
* :mod:`exactbridge.sources.coachview` (training institutes)
* :mod:`exactbridge.sources.paynl` (Pay. payouts)
* :mod:`exactbridge.sources.clubassistent` (sports clubs; file exports)

A source never imports the Exact client: the sync engine composes them.
"""

from __future__ import annotations

__all__: list[str] = []
