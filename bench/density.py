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


def jbhyve_pid(i, process):
    """The process running jbhyve's VM i, as its registry records it (with a pre-started process
    it is not bin/bhyve's own). A VM that has no entry has ended: that stops the benchmark with
    its exit status and the end of its error output."""
    try:
        with open(os.path.join(rundir, "vmm", f".density{i}.run")) as f:
            return json.load(f)["pid"]
    except FileNotFoundError:
        status = process.poll()
        raise SystemExit(f"jbhyve VM density{i} has no registry entry one second after its first output"
                         + ("" if status is None else f" (bin/bhyve ended with status {status})")
                         + f"; its error output: {error_tail(i)!r}")


def error_path(i):
    return os.path.join(rundir, f"density{i}.err")


def error_tail(i):
    try:
        with open(error_path(i), "rb") as f:
            return f.read()[-500:]
    except OSError:
        return b""


def started_pid(_i, process):
    return process.pid


def start_all(build, vm_pid, env=None):
    """Starts `count` VMs together; returns (seconds until each printed MARKER, summed RSS in MiB).
    Returns once every VM's process has ended (a pre-started one ends with its bin/bhyve)."""
    started = time.perf_counter()
    procs = []
    for i in range(count):
        with open(error_path(i), "wb") as errors:  # the child keeps its own descriptor
            procs.append(subprocess.Popen(build(i), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=errors, env=env))
    vm_pids = []
    try:
        for p in procs:  # reading in turn is fine: each output is a few lines, the pipes never fill
            vmms.await_marker(p, MARKER, " ".join(build(0)))
        elapsed = time.perf_counter() - started
        time.sleep(1.0)
        vm_pids = [vm_pid(i, p) for i, p in enumerate(procs)]
        return elapsed, sum(vmms.rss_mib(pid) for pid in vm_pids)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        deadline = time.monotonic() + 30
        while any(os.path.exists(f"/proc/{pid}") for pid in vm_pids) and time.monotonic() < deadline:
            time.sleep(0.05)


def jbhyve(i):
    return vmms.jbhyve(home, probe, "action=spin", memory="64M")[:-1] + [f"density{i}"]


def qemu(i):
    return vmms.qemu(probe, "action=spin", memory="64M")


def start_all_with_ready_processes():
    """start_all for jbhyve once `count` pre-started processes are ready (bin/bhyve-prestart -n) and idle."""
    subprocess.run([prestart, "-n", str(count)], check=True, stdout=subprocess.DEVNULL)
    time.sleep(1.0)
    return start_all(jbhyve, jbhyve_pid)


vmms.prepare(home)
# Rounds take turns (jbhyve, QEMU, jbhyve with ready processes), so that a change in this shared
# host's load weighs on all alike; a cold jbhyve must not find the ready processes of the round
# before, so it runs with the hand-off off.
ROUNDS = 5
cold = dict(os.environ, JBHYVE_PRESTART="off")
runs = {"jbhyve": [], "qemu microvm": [], "jbhyve ready": []}
try:
    for round_number in range(1, ROUNDS + 1):
        vmms.progress(f"{count} VMs at once, round {round_number} of {ROUNDS}: jbhyve, QEMU, jbhyve ready")
        runs["jbhyve"].append(start_all(jbhyve, jbhyve_pid, env=cold))
        runs["qemu microvm"].append(start_all(qemu, started_pid))
        runs["jbhyve ready"].append(start_all_with_ready_processes())
        # the hand-offs' successors warm up now: let them finish, idle, before the next round
        subprocess.run([prestart, "-n", str(count)], check=True, stdout=subprocess.DEVNULL)
finally:
    # Successors of the last round's hand-offs may still be starting (some not yet marked as
    # such): stop the ready and warming-up ones until none of this run directory's is left.
    ours = "PrestartMain " + os.path.join(rundir, "prestart")  # their command lines hold this
    deadline = time.monotonic() + 60
    while True:
        subprocess.run([prestart, "-s"], stdout=subprocess.DEVNULL)
        left = subprocess.run(["pgrep", "-f", ours], stdout=subprocess.PIPE).stdout.split()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if left:
        print(f"bench: {len(left)} pre-started processes did not stop; killing them", file=sys.stderr)
        subprocess.run(["pkill", "-KILL", "-f", ours])
    shutil.rmtree(rundir, ignore_errors=True)

print(f"{'VMM':<14}{count:>3} VMs: {'all running after s':>20}{'summed RSS MiB':>16}")
for name, results in runs.items():
    print(f"{name:<14}{'':>9}{statistics.median(r[0] for r in results):>20.2f}"
          f"{statistics.median(r[1] for r in results):>16.1f}")


def ratio(name, column):
    """The median of the rounds' name/QEMU ratios (each round's runs were back to back)."""
    return statistics.median(a[column] / b[column] for a, b in zip(runs[name], runs["qemu microvm"]))


print(f"prestarted_time_ratio={ratio('jbhyve ready', 0):.2f}")
print(f"prestarted_rss_ratio={ratio('jbhyve ready', 1):.2f}")
print(f"time_ratio={ratio('jbhyve', 0):.2f}")
print(f"rss_ratio={ratio('jbhyve', 1):.2f}")
