"""How a run is spread over processes: one pytest-xdist worker per SDK, or one process.

A replay run whose checks cover two SDKs or more runs concurrently by SDK out of the box:
``aoai-conformance run`` asks pytest-xdist (:func:`pytest_args`) for one worker per SDK, at
most :func:`cap` for the machine's cores, with ``--dist loadgroup``. The plugin marks every
check item with its SDK as its ``xdist_group`` (:func:`group`), so all the checks of one SDK
run in one worker, in collection order, against the one driver process that worker starts
lazily, on its first check of that SDK: a worker never starts a driver it does not use.

The controller collects nothing; from the first worker's collection (:func:`driver_sdks` of
the node ids) it proves each driver the run needs once (built or found in the cache, hello at
its version) before any check is scheduled, so a driver that cannot be built still stops the
run with exit 2 and one paragraph.

A run of one SDK (``--sdk python``, the default run) stays in one process: starting workers
costs more than it saves. So do live and record runs, whatever their SDKs: the forwarding,
the budgets, the preflight and the recordings are counted in one place, and the plugin refuses
``-n`` for them (:func:`distributed`).
"""

from __future__ import annotations

import os
import queue
import re
from collections.abc import Iterable, Sequence
from typing import Any

# The pytest-xdist marker loadgroup schedules by.
GROUP_MARK = "xdist_group"
# pytest-xdist's own options (and disabling it): when the user passes any, the CLI adds none.
_CHOSEN = ("-n", "--numprocesses", "--dist", "-d", "--tx", "--maxprocesses")
# A check item is ``<function>[<sdk>]`` (cross-SDK) or ``<function>`` (python only); under
# loadgroup with pytest < 9.2, xdist appends ``@<group>`` to the node id.
_SDK_OF_ID = re.compile(r"\[(?P<sdk>[a-z]+)\](?:@[^\]@]*)?$")
IN_PROCESS = "python"


def group(sdk: str) -> str:
    """The xdist group of a check item that runs against ``sdk``: its SDK, so one worker
    runs all of that SDK's checks with one driver process."""
    return sdk


def cap(cores: int | None = None) -> int:
    """The most workers a run starts: twice the cores (a worker mostly waits, on a driver
    or on an SDK's retry delay), at least two and at most eight."""
    found = cores if cores is not None else (os.cpu_count() or 1)
    return max(2, min(8, 2 * found))


def worker_count(sdks: Sequence[str], cores: int | None = None) -> int:
    """How many xdist workers a replay run over ``sdks`` (the SDKs its checks run against)
    starts: 0 (one process, no xdist) for a single SDK, else one per SDK up to :func:`cap`."""
    if len(set(sdks)) < 2:
        return 0
    return min(len(set(sdks)), cap(cores))


def chosen_by_user(args: Iterable[str]) -> bool:
    """Whether the pytest arguments already choose the distribution (``-n``, ``--dist``,
    ``-p no:xdist``...): then they are the user's to keep."""
    return any(arg.startswith(_CHOSEN) or arg.endswith("no:xdist") for arg in args)


def pytest_args(sdks: Sequence[str], *, forwards: bool, given: Sequence[str] = (),
                cores: int | None = None) -> list[str]:
    """What ``aoai-conformance run`` adds to pytest's arguments: ``-n N --dist loadgroup``
    for a replay run over two SDKs or more, nothing for one SDK, a live or record run, or
    when ``given`` (the user's pytest arguments) choose already."""
    if forwards or chosen_by_user(given):
        return []
    count = worker_count(sdks, cores)
    if count == 0:
        return []
    return ["-n", str(count), "--dist", "loadgroup"]


def sdk_of(node_id: str, names: Iterable[str]) -> str:
    """The SDK a collected item runs against, read from its node id: ``[<sdk>]`` at its end
    for a cross-SDK check item, else python (python-only checks, and any other test)."""
    match = _SDK_OF_ID.search(node_id)
    return match["sdk"] if match and match["sdk"] in set(names) else IN_PROCESS


def driver_sdks(node_ids: Iterable[str], drivers: Iterable[str]) -> list[str]:
    """The driver SDKs (of ``drivers``) that the collected ``node_ids`` run against, in
    ``drivers`` order: what the controller proves before any check is scheduled."""
    drivers = list(drivers)
    found = {sdk_of(node_id, drivers) for node_id in node_ids}
    return [sdk for sdk in drivers if sdk in found]


def scheduler(config: Any, log: Any, names: Sequence[str]) -> Any:
    """The controller's scheduler for ``--dist loadgroup`` in a conformance session: whole
    SDKs are the units of work (:func:`sdk_of` each node id), handed to the workers as
    pytest-xdist's loadscope hands out modules. The groups are read from the node ids, not
    from xdist's ``@group`` suffix, which pytest 9.2 no longer lets xdist 3.8 add."""
    from xdist.scheduler import LoadScopeScheduling

    class BySdk(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return sdk_of(nodeid, names)

    return BySdk(config, log)


def is_worker(config: Any) -> bool:
    """This process is an xdist worker (it runs checks the controller handed out)."""
    return hasattr(config, "workerinput")


def distributed(config: Any) -> bool:
    """This session hands its checks to xdist workers (``-n N`` with N > 0, or ``--dist``)."""
    option = config.option
    workers = getattr(option, "numprocesses", None)
    return bool(workers) or getattr(option, "dist", "no") != "no" or bool(
        getattr(option, "tx", None))


def queued_reports(config: Any) -> list[Any]:
    """On an xdist controller that a signal interrupted: the test reports the workers had
    sent that it had not handled yet (pytest-xdist queues them for its main loop, which the
    interrupt ended), so the run's results count every check that finished. Empty elsewhere."""
    dsession = config.pluginmanager.get_plugin("dsession")
    queued = getattr(dsession, "queue", None)
    reports = []
    while queued is not None:
        try:
            name, kwargs = queued.get_nowait()
        except queue.Empty:
            break
        if name == "testreport" and "rep" in kwargs:
            reports.append(kwargs["rep"])
    return reports


__all__ = ["GROUP_MARK", "IN_PROCESS", "cap", "chosen_by_user", "distributed", "driver_sdks",
           "group", "is_worker", "pytest_args", "queued_reports", "scheduler", "sdk_of",
           "worker_count"]
