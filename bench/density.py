"""Ten VMs started at once, jbhyve vs QEMU: time until every guest runs, and their summed RSS (see bench/density)."""
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmms  # noqa: E402

home, probe, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
MARKER = b"JBT spinning"


# jbhyve's VM registry, of the benchmark's own; bin/bhyve-prestart's ready processes wait in it too.
rundir = tempfile.mkdtemp(prefix="jbhyve-density-")
os.environ["JBHYVE_RUNDIR"] = rundir
prestart = os.path.join(home, "bin", "bhyve-prestart")


def jbhyve_pid(i, _process):
    """The process running jbhyve's VM i, as its registry records it (with a pre-started process
    it is not bin/bhyve's own)."""
    with open(os.path.join(rundir, "vmm", f".density{i}.run")) as f:
        return json.load(f)["pid"]


def started_pid(_i, process):
    return process.pid


def start_all(build, vm_pid):
    """Starts `count` VMs together; returns (seconds until each printed MARKER, summed RSS in MiB)."""
    started = time.perf_counter()
    procs = [subprocess.Popen(build(i), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) for i in range(count)]
    try:
        for p in procs:  # reading in turn is fine: each output is a few lines, the pipes never fill
            vmms.await_marker(p, MARKER, " ".join(build(0)))
        elapsed = time.perf_counter() - started
        time.sleep(1.0)
        return elapsed, sum(vmms.rss_mib(vm_pid(i, p)) for i, p in enumerate(procs))
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def jbhyve(i):
    return vmms.jbhyve(home, probe, "action=spin", memory="64M")[:-1] + [f"density{i}"]


def qemu(i):
    return vmms.qemu(probe, "action=spin", memory="64M")


def with_ready_processes(build):
    """`build`, run once `count` pre-started processes are ready (bin/bhyve-prestart -n) and idle."""
    def run():
        subprocess.run([prestart, "-n", str(count)], check=True, stdout=subprocess.DEVNULL)
        time.sleep(1.0)
        return start_all(build, jbhyve_pid)
    return run


vmms.prepare(home)
rows = []
try:
    for name, run in (("jbhyve", lambda: start_all(jbhyve, jbhyve_pid)),
                      ("qemu microvm", lambda: start_all(qemu, started_pid)),
                      ("jbhyve ready", with_ready_processes(jbhyve))):
        runs = []
        for round_number in range(1, 4):
            vmms.progress(f"{name}: {count} VMs at once, round {round_number} of 3")
            runs.append(run())
        rows.append((name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
finally:
    # Successors of the last round's hand-offs may still be starting (some not yet marked as
    # such): stop the ready and warming-up ones until none of this run directory's is left.
    deadline = time.monotonic() + 60
    while True:
        subprocess.run([prestart, "-s"], stdout=subprocess.DEVNULL)
        left = subprocess.run(["pgrep", "-f", "PrestartMain " + os.path.join(rundir, "prestart")],
                              stdout=subprocess.PIPE).stdout.split()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if left:
        print(f"bench: {len(left)} pre-started processes did not stop; killing them", file=sys.stderr)
        subprocess.run(["pkill", "-KILL", "-f", "PrestartMain " + os.path.join(rundir, "prestart")])
    shutil.rmtree(rundir, ignore_errors=True)

print(f"{'VMM':<14}{count:>3} VMs: {'all running after s':>20}{'summed RSS MiB':>16}")
for name, seconds, rss in rows:
    print(f"{name:<14}{'':>9}{seconds:>20.2f}{rss:>16.1f}")
j, q, r = rows
print(f"prestarted_time_ratio={r[1] / q[1]:.2f}")
print(f"prestarted_rss_ratio={r[2] / q[2]:.2f}")
print(f"time_ratio={j[1] / q[1]:.2f}")
print(f"rss_ratio={j[2] / q[2]:.2f}")
