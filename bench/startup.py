"""Measures start-up to first guest output and resident memory: jbhyve vs QEMU (see bench/startup)."""
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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

# bin/bhyve-prestart's ready processes, in a run directory of the benchmark's own (under /tmp:
# their sockets need a file system that has them).
rundir = tempfile.mkdtemp(prefix="jbhyve-startup-")
prestart_dir = os.path.join(rundir, "prestart")
os.environ["JBHYVE_RUNDIR"] = rundir

def ready_pid():
    """Waits until a pre-started process is ready and idle; returns its pid (the VM's process)."""
    for _ in range(1200):
        ready = sorted(glob.glob(os.path.join(prestart_dir, "ready-*.sock")))
        if ready:
            time.sleep(0.5)  # let the process that made it settle before timing anything
            return int(os.path.basename(ready[0])[len("ready-"):-len(".sock")])
        time.sleep(0.1)
    raise SystemExit("no pre-started process became ready (see " + prestart_dir + "/log)")

def prestarted(measure, cmd, marker):
    ready_pid()
    return measure(cmd, marker)

def prestarted_rss(cmd, marker):
    pid = ready_pid()  # the VM runs in this process; bin/bhyve's own pid is the hand-off client
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    vmms.await_marker(p, marker, cmd[0])
    time.sleep(1.0)
    rss = vmms.rss_mib(pid)
    p.terminate()
    p.wait(timeout=30)
    return rss

vmms.prepare(home)
runs = 5
rows = []
for name, build in (("jbhyve", jbhyve), ("qemu microvm", qemu)):
    build(first)  # nothing to warm: each run is a cold process start
    vmms.progress(f"{name}: {runs} starts, then resident memory")
    times = [time_to_first_byte(build(first), b"!") for _ in range(runs)]
    rss = statistics.median(rss_after_boot(build(probe, "action=spin"), b"JBT spinning") for _ in range(3))
    rows.append((name, statistics.median(times), min(times), max(times), rss))

# The same bin/bhyve command line, handed to a pre-started process (bin/bhyve-prestart).
prestart = os.path.join(home, "bin", "bhyve-prestart")
vmms.progress(f"jbhyve ready: {runs} starts through pre-started processes, then resident memory")
subprocess.run([prestart], check=True, stdout=subprocess.DEVNULL)
try:
    times = [prestarted(time_to_first_byte, jbhyve(first), b"!") for _ in range(runs)]
    rss = statistics.median(prestarted_rss(jbhyve(probe, "action=spin"), b"JBT spinning") for _ in range(3))
    rows.append(("jbhyve ready", statistics.median(times), min(times), max(times), rss))
    ready_pid()  # the last successor, so that stopping it below leaves nothing behind
finally:
    subprocess.run([prestart, "-s"], stdout=subprocess.DEVNULL)
    shutil.rmtree(rundir, ignore_errors=True)

print(f"{'VMM':<14}{'start-up median ms':>20}{'min':>9}{'max':>9}{'RSS MiB (256M guest)':>22}")
for name, med, lo, hi, rss in rows:
    print(f"{name:<14}{med:>20.1f}{lo:>9.1f}{hi:>9.1f}{rss:>22.1f}")
j, q, r = rows
print(f"prestarted_startup_ratio={r[1] / q[1]:.2f}")
print(f"prestarted_rss_ratio={r[4] / q[4]:.2f}")
print(f"startup_ratio={j[1] / q[1]:.2f}")
print(f"rss_ratio={j[4] / q[4]:.2f}")
