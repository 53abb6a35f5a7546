"""composer as a library: projects from Python code (``composer.open``).

* :mod:`composer.library.project` — :func:`open`, the :class:`Project` handle and
  its :class:`Service`;
* :mod:`composer.library.results` — what the calls return (:class:`ExecResult`,
  :class:`LogLine`, :class:`Endpoint`, :class:`Event`);
* :mod:`composer.library.logstream` — the merged output as an async iterator;
* :mod:`composer.library.watch` — ``project.watch()``: a running watch and its
  :class:`WatchEvent` values.

The synchronous facade is :mod:`composer.sync`; the probes, :mod:`composer.probes`.
"""

from composer.library.logstream import LogStream
from composer.library.project import Project, Service, open, unique_name
from composer.library.results import Endpoint, Event, ExecResult, LogLine
from composer.library.watch import Watch, WatchEvent

__all__ = ["Endpoint", "Event", "ExecResult", "LogLine", "LogStream", "Project", "Service",
           "Watch", "WatchEvent", "open", "unique_name"]
