"""Imported by the print workers' fork server, and only there, before any worker forks.

Importing this module is its whole purpose, so, unlike the rest of the package,
it does work at import time: it loads the libraries a render needs (about a
second) and registers the fonts with ReportLab (a tenth of a second per family).
Every worker forked afterwards starts with all of that done. A process where the
fork server was started without this preload still works: each worker then
imports and registers on its own, only slower.
"""

from __future__ import annotations

from recordbase.printing.worker import warm_up

warm_up()
