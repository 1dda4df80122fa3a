"""Ten VMs started at once, jbhyve vs QEMU: time until every guest runs, and their summed RSS (see bench/density)."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmms  # noqa: E402

home, probe, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
MARKER = b"JBT spinning"


def start_all(build):
    """Starts `count` VMs together; returns (seconds until each printed MARKER, summed RSS in MiB)."""
    started = time.perf_counter()
    procs = [subprocess.Popen(build(i), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) for i in range(count)]
    try:
        for p in procs:  # reading in turn is fine: each output is a few lines, the pipes never fill
            vmms.await_marker(p, MARKER, " ".join(build(0)))
        elapsed = time.perf_counter() - started
        time.sleep(1.0)
        return elapsed, sum(vmms.rss_mib(p.pid) for p in procs)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def jbhyve(i):
    return vmms.jbhyve(home, probe, "action=spin", memory="64M")[:-1] + [f"density{i}"]


def qemu(i):
    return vmms.qemu(probe, "action=spin", memory="64M")


vmms.prepare(home)
rows = []
for name, build in (("jbhyve", jbhyve), ("qemu microvm", qemu)):
    runs = [start_all(build) for _ in range(3)]
    rows.append((name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))

print(f"{'VMM':<14}{count:>3} VMs: {'all running after s':>20}{'summed RSS MiB':>16}")
for name, seconds, rss in rows:
    print(f"{name:<14}{'':>9}{seconds:>20.2f}{rss:>16.1f}")
j, q = rows
print(f"time_ratio={j[1] / q[1]:.2f}")
print(f"rss_ratio={j[2] / q[2]:.2f}")
