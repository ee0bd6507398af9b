"""The peak resident memory of this process since it started, for the benchmarks' children.

Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries a process's maximum RSS across
`execve`, so a child started by fork + exec reports its parent's peak when that was
higher. The benchmarks' parents hold the generated archive or the demo's moto server;
children measured that way showed the parent's memory growing, not their
own. `VmHWM` in /proc/self/status is the high-water mark of this process's own memory map,
which exec replaces.
"""

from __future__ import annotations


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (the benchmarks measure memory on Linux)")
