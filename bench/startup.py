"""Measures start-up to first guest output and resident memory: jbhyve vs QEMU (see bench/startup)."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmms  # noqa: E402

home, work = sys.argv[1], sys.argv[2]
first = os.path.join(work, "first.elf")
probe = os.path.join(work, "tg", "probe.elf")

def jbhyve(kernel, cmdline=""):
    return vmms.jbhyve(home, kernel, cmdline)

qemu = vmms.qemu

def time_to_first_byte(cmd, marker):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    vmms.await_marker(p, marker, cmd[0])
    elapsed = time.perf_counter() - start
    p.wait(timeout=30)
    return elapsed * 1000

def rss_after_boot(cmd, marker):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    vmms.await_marker(p, marker, cmd[0])
    time.sleep(1.0)
    rss = vmms.rss_mib(p.pid)
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
    return rss

vmms.prepare(home)
runs = 5
rows = []
for name, build in (("jbhyve", jbhyve), ("qemu microvm", qemu)):
    build(first)  # nothing to warm: each run is a cold process start
    times = [time_to_first_byte(build(first), b"!") for _ in range(runs)]
    rss = rss_after_boot(build(probe, "action=spin"), b"JBT spinning")
    rows.append((name, statistics.median(times), min(times), max(times), rss))

print(f"{'VMM':<14}{'start-up median ms':>20}{'min':>9}{'max':>9}{'RSS MiB (256M guest)':>22}")
for name, med, lo, hi, rss in rows:
    print(f"{name:<14}{med:>20.1f}{lo:>9.1f}{hi:>9.1f}{rss:>22.1f}")
j, q = rows[0], rows[1]
print(f"startup_ratio={j[1] / q[1]:.2f}")
print(f"rss_ratio={j[4] / q[4]:.2f}")
