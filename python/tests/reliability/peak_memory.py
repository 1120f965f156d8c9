"""Peak resident memory of this process and of the children it has waited for.

``ru_maxrss`` of ``RUSAGE_SELF`` is useless in a process started from a large one: Linux carries the
high-water mark across ``fork`` and ``exec``, so a child of a 500 MB pytest reports 500 MB before it
has done anything. ``VmHWM`` in ``/proc/self/status`` belongs to the current memory map and starts
afresh at ``exec``. Children (such as the MATLAB parser process) are covered by ``RUSAGE_CHILDREN``,
which is only as inflated as the small process that forked them.
"""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """The larger of this process's ``VmHWM`` and its waited-for children's peak, in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        own_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return max(own_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
