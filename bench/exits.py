"""Time per port-I/O exit, jbhyve vs QEMU, quiet and with the other core busy (see bench/exits)."""
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmms  # noqa: E402

home, guest = sys.argv[1], sys.argv[2]
EXITS = 40000  # per round, as bench/guest/exits.S


def cycles_per_exit(cmd):
    """Runs the guest; the median of its rounds after the first (which warms the path up)."""
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=600).stdout.decode(errors="replace")
    rounds = [int(line.split()[1], 16) / EXITS for line in out.splitlines() if line.startswith("X ")]
    if len(rounds) < 2:
        raise SystemExit("no exit timings from " + cmd[0] + ":\n" + out)
    return statistics.median(rounds[1:])


def busy():
    """A process that keeps one core busy for as long as it lives."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


vmms.prepare(home)
# The two VMMs take turns, run after run, so that a change in the host's load during the
# benchmark (this machine's KVM is shared) weighs on both alike instead of on whichever ran then.
RUNS = 7
commands = (("jbhyve", vmms.jbhyve(home, guest, memory="64M")), ("qemu microvm", vmms.qemu(guest, memory="64M")))
quiet = {name: [] for name, _ in commands}
loaded = {name: [] for name, _ in commands}
for _ in range(RUNS):
    for name, cmd in commands:
        quiet[name].append(cycles_per_exit(cmd))
hog = busy()
try:
    for _ in range(RUNS):
        for name, cmd in commands:
            loaded[name].append(cycles_per_exit(cmd))
finally:
    hog.kill()
    hog.wait()
rows = [(name, statistics.median(quiet[name]), statistics.median(loaded[name])) for name, _ in commands]

print(f"{'VMM':<14}{'cycles/exit quiet':>19}{'other core busy':>17}")
for name, quiet_median, busy_median in rows:
    print(f"{name:<14}{quiet_median:>19.0f}{busy_median:>17.0f}")
# Each ratio is the median of the seven runs' jbhyve/QEMU ratios, a run of each taken back to back:
# drift in the host's load over the benchmark then cancels within a pair.
quiet_ratio = statistics.median(j / q for j, q in zip(quiet["jbhyve"], quiet["qemu microvm"]))
busy_ratio = statistics.median(j / q for j, q in zip(loaded["jbhyve"], loaded["qemu microvm"]))
print(f"quiet_ratio={quiet_ratio:.2f}")
print(f"busy_ratio={busy_ratio:.2f}")
print(f"exit_ratio={max(quiet_ratio, busy_ratio):.2f}")
