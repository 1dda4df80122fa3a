"""The two VMMs the benchmarks compare, started the same way on the same PVH guest."""
import os
import select
import subprocess
import sys
import time


def progress(message):
    """One line on stderr as a long benchmark moves on (the table comes only at the end)."""
    print(f"bench: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def jbhyve(home, kernel, cmdline="", memory="256M"):
    cmd = [os.path.join(home, "bin/bhyve"), "-m", memory, "-s", "0,hostbridge", "-s", "1,lpc",
           "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + kernel]
    if cmdline:  # bhyve refuses "-o key=" with an empty value
        cmd += ["-o", "boot.cmdline=" + cmdline]
    return cmd + ["bench"]


def qemu(kernel, cmdline="", memory="256M"):
    return ["qemu-system-x86_64", "-enable-kvm", "-M", "microvm", "-m", memory, "-nographic",
            "-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", kernel, "-append", cmdline or " ",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def prepare(home):
    """Makes jbhyve's start-up cache (as a first bin/bhyve would) before anything is timed."""
    progress("making jbhyve's start-up cache if it is missing or stale")
    subprocess.run(["bash", "-c", '. "$1/bin/lib/jdk.sh" && jbhyve_find_jdk && . "$1/bin/lib/launch.sh" '
                    '&& jbhyve_ensure_aot_cache "$1"', "prepare", home], check=True)


def await_marker(process, marker, what, seconds=300):
    """Reads the VMM's stdout until `marker` appears; a VMM that ends first, or shows nothing
    within `seconds` (a hang, which would otherwise stop the benchmark for ever), stops it."""
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([process.stdout], [], [], left)[0]:
            process.kill()
            raise SystemExit(f"no {marker!r} from {what} within {seconds} s; its output: {seen[-300:]!r}")
        b = os.read(process.stdout.fileno(), 4096)  # unbuffered: select sees all that is left
        if not b:
            raise SystemExit("no guest output from " + what)
        seen += b


def rss_mib(pid):
    """The resident memory of process `pid` (bin/bhyve execs java: its pid is the VMM itself)."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
