#!/usr/bin/env python3
"""Run one command, print one JSON line: wall time, CPU time and peak RSS.

    measure.py LABEL ROUND STDOUT_FILE -- CMD ARGS...

Peak RSS is GNU time's `%M` (the command's `ru_maxrss`: the largest resident
set of the command or of any process it waited for, so a pipeline's figure is
its largest process, not the sum). The command runs under /usr/bin/time, not
straight from Python, because `ru_maxrss` keeps the high-water mark of the
forked process from before its exec: a child forked from Python would never
show less than Python's own ~14 MiB. /usr/bin/time itself is ~2 MiB.
Wall time is measured here around /usr/bin/time (it adds about a millisecond). stdout of the command goes to STDOUT_FILE
(`/dev/null` to discard), stderr to STDOUT_FILE.err unless it is /dev/null.
Exits with the command's status.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def main() -> int:
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    label, rnd, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cmd = sys.argv[5:]
    err_path = "/dev/null" if out_path == "/dev/null" else out_path + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err, tempfile.NamedTemporaryFile("r") as tf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [GNU_TIME, "-f", "%x %U %S %M", "-o", tf.name, *cmd], stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        proc.wait()
        wall = time.perf_counter() - t0
        fields = tf.read().split()[-4:]
    code, user, system, maxrss = int(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
    print(
        json.dumps(
            {
                "label": label,
                "round": rnd,
                "wall_s": round(wall, 4),
                "user_s": user,
                "sys_s": system,
                "max_rss_kib": maxrss,
                "exit": code,
                "cmd": cmd,
            }
        ),
        flush=True,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
