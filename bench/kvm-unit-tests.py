"""Runs kvm-unit-tests' x86 tests under jbhyve and under QEMU+KVM and compares (see bench/kvm-unit-tests).

A test is a section of x86/unittests.cfg: file (a Multiboot .flat kernel), smp, test_args (the
kernel command line; older trees put it in extra_params as -append '...'), qemu_params or
extra_params (QEMU options: -cpu, -m, -device ...), groups, arch, accel, check, disabled_if and
timeout. Tests run from the build tree with the kernel given as x86/NAME.flat, as run_tests.sh
does, because kvm-unit-tests takes argv[0] from the Multiboot command line.

The verdict comes from the exit status, as kvm-unit-tests' own scripts read it. A test ends by
writing its status to port 0xF4 (pc-testdev / isa-debug-exit), which makes the VMM exit with
(status << 1) | 1: 1 is a pass, 77 a skip (report_summary returns 77 >> 1 when every test was
skipped), 3 a failure; timeout(1) gives 124; any other status (a VMM error, a reset, a signal,
or QEMU's 0 when the guest never reached the exit port) is a failure. The "SUMMARY:" line among
the last 5 output lines is shown beside the verdict.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

PASS, FAIL, SKIP, TIMEOUT = "PASS", "FAIL", "SKIP", "TIMEOUT"
QEMU_DEVICES = ("--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard -device pc-testdev "
                "-device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio -device pci-testdev")


def parse_cfg(path):
    """The tests of a unittests.cfg, in file order: dicts of its keys plus 'name'."""
    tests, cur = [], None
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^\[(.*)\]$", line)
        if m:
            cur = {"name": m.group(1)}
            tests.append(cur)
            continue
        m = re.match(r"^(\w+)\s*=\s*(.*)$", line)
        if not m or cur is None:
            continue
        key, value = m.group(1), m.group(2)
        if value.startswith('"""'):  # multi-line value, up to the closing """
            value = value[3:]
            while '"""' not in value and i < len(lines):
                value += "\n" + lines[i]
                i += 1
            value = value.split('"""')[0].replace("\\\n", " ").replace("\n", " ")
        cur[key] = value
    return tests


def split_params(test):
    """(command-line words for the guest, QEMU options): test_args, or -append inside extra_params."""
    params = test.get("qemu_params", test.get("extra_params", ""))
    args = test.get("test_args", "")
    m = re.search(r"""-append\s+("[^"]*"|'[^']*'|\S+)""", params)
    if m:
        if not args:
            args = m.group(1)
        params = params[:m.start()] + params[m.end():]
    return args.strip(), params.strip()


def quoted_args(args):
    """test_args as one shell word (cfg values are shell text: quotes and backticks are kept)."""
    if not args:
        return ""
    if args[0] in "\"'" and args[-1] == args[0]:
        return args
    return '"' + args.replace('"', '\\"') + '"' if re.search(r"\s", args) else args


def memory_option(params):
    """The -m of qemu_params as a jbhyve size (M or G suffix), or None."""
    m = re.search(r"(?:^|\s)-m\s+(?:size=)?(\d+)([kKmMgGtT]?)\b", params)
    if not m:
        return None
    return m.group(1) + (m.group(2).upper() or "M")


def hides_x2apic(params):
    return re.search(r"-cpu\s+\S*-x2apic", params) is not None


def timeout_seconds(value, default=90):
    """unittests.cfg's timeout (a number with an optional s/m/h suffix, as timeout(1) takes)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)([smh]?)\s*$", value or "")
    if not m:
        return default
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def skip_reason(test, opts, config):
    """Why run_tests.sh would not run the test here, or None."""
    groups = test.get("groups", "").split()
    if opts.group and opts.group not in groups:
        return "not in group " + opts.group
    if opts.tests and test["name"] not in opts.tests:
        return "not selected"
    if "nodefault" in groups and not opts.all and opts.group is None:
        return "test marked as manual run only"
    if test.get("arch") and test["arch"] != config.get("ARCH"):
        return test["arch"] + " only"
    if test.get("accel") and test["accel"] != "kvm":
        return test["accel"] + " only"
    for check in test.get("check", "").split():
        path, _, value = check.partition("=")
        try:
            with open(path) as f:
                if f.read().strip() != value:
                    return path + " not equal to " + value
        except OSError:
            return path + " not equal to " + value
    if test.get("disabled_if") and not opts.dry_run:
        if subprocess.run(["bash", "-c", test["disabled_if"]], cwd=opts.kut).returncode == 0:
            return "disabled because: " + test["disabled_if"]
    if "file" not in test or not os.path.isfile(os.path.join(opts.kut, "x86", test["file"])):
        return "Test file '%s' not found" % os.path.join("x86", test.get("file", "?"))
    return None


def jbhyve_command(test, opts, env):
    args, params = split_params(test)
    cmd = [shlex.quote(opts.bhyve), "-c", test.get("smp", "1").strip(), "-m", memory_option(params) or opts.memory]
    if opts.acpi:
        cmd.append("-A")
    if opts.x2apic and not hides_x2apic(params):
        cmd.append("-x")
    cmd += ["-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + shlex.quote("x86/" + test["file"])]
    if args:  # bhyve refuses "-o key=" with an empty value; none is what QEMU gets without -append
        cmd += ["-o", "boot.cmdline=" + quoted_args(args)]
    cmd += ["-o", "boot.initrd=" + shlex.quote(env)] + opts.jbhyve_opts + ["kut"]
    return " ".join(cmd)


def qemu_command(test, opts, env):
    args, params = split_params(test)
    accel = "-enable-kvm" if opts.qemu_accel == "kvm" else "-accel " + shlex.quote(opts.qemu_accel)
    cmd = [shlex.quote(opts.qemu), accel, QEMU_DEVICES, "-kernel", shlex.quote("x86/" + test["file"]),
           "-smp", test.get("smp", "1").strip()]
    if args:
        cmd += ["-append", quoted_args(args)]
    if params:
        cmd.append(params.replace("-enable-kvm", ""))  # already given; QEMU refuses two accelerators
    cmd += ["-initrd", shlex.quote(env)]
    return " ".join(cmd)


def summary(output):
    """The SUMMARY line among the last 5 lines, as run_tests.sh shows it: '(12 tests, 1 skipped)'."""
    for line in output.replace("\r", "").split("\n")[-6:]:
        if line.startswith("SUMMARY: "):
            return "(" + line[len("SUMMARY: "):].strip() + ")"
    return ""


def verdict(status, output, vmm):
    """PASS/FAIL/SKIP/TIMEOUT for an exit status, read as kvm-unit-tests' scripts read it."""
    if status == 124:
        return TIMEOUT
    if status == 77:
        return SKIP
    if status == 1:
        if vmm == "qemu" and any("warning" not in l.lower() for l in output.get("stderr", "").splitlines() if l):
            return FAIL  # QEMU itself failed (it exits 1 too): qemu_fixup_return_code's rule
        return PASS
    return FAIL


def run_one(name, vmm, command, seconds, opts):
    """Runs (or replays) one command; returns (status, {'stdout':..., 'stderr':...})."""
    base = os.path.join(opts.logs, "%s.%s" % (name, vmm))
    if opts.replay:
        try:
            with open(base + ".rc") as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            return None, {}
        out = {}
        for stream in ("stdout", "stderr"):
            try:
                with open(base + "." + stream, errors="replace") as f:
                    out[stream] = f.read()
            except OSError:
                out[stream] = ""
        return status, out
    full = "timeout -k 1s --foreground %gs %s" % (seconds, command)
    p = subprocess.run(["bash", "-c", full], cwd=opts.kut, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = {"stdout": p.stdout.decode(errors="replace"), "stderr": p.stderr.decode(errors="replace")}
    status = p.returncode if p.returncode >= 0 else 128 - p.returncode
    for stream in ("stdout", "stderr"):
        with open(base + "." + stream, "w") as f:
            f.write(out[stream])
    with open(base + ".rc", "w") as f:
        f.write("%d\n" % status)
    with open(base + ".cmd", "w") as f:
        f.write(full + "\n")
    return status, out


def make_env(opts, config):
    """The environ file kvm-unit-tests hands every test as its initrd, made by its own scripts."""
    path = os.path.join(opts.logs, "environ")
    if opts.replay or opts.dry_run:
        return path
    script = ("source config.mak && source scripts/arch-run.bash && source scripts/vmm.bash && "
              "export QEMU=%s ACCEL=%s KVM_UNIT_TESTS_ENV=%s && : > \"$KVM_UNIT_TESTS_ENV\" && "
              "env_params && env_errata") % (shlex.quote(opts.qemu), shlex.quote(opts.qemu_accel), shlex.quote(path))
    p = subprocess.run(["bash", "-c", script], cwd=opts.kut, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0 or not os.path.isfile(path):
        with open(path, "w") as f:  # the fallback: what env_params writes without QEMU or errata
            f.write("TARGET=qemu\nQEMU_ACCEL=kvm\nKERNEL_VERSION_STRING=%s\n" % os.uname().release)
    return path


def read_config(kut):
    config = {}
    with open(os.path.join(kut, "config.mak")) as f:
        for line in f:
            m = re.match(r"^(\w+)=(.*)$", line.strip())
            if m:
                config[m.group(1)] = m.group(2)
    return config


def options(argv):
    p = argparse.ArgumentParser(prog="bench/kvm-unit-tests", description="kvm-unit-tests x86: jbhyve vs QEMU+KVM")
    p.add_argument("kut", help="a configured and built kvm-unit-tests tree (./configure && make)")
    p.add_argument("tests", nargs="*", help="only these tests (unittests.cfg section names)")
    p.add_argument("-g", "--group", help="only tests of this group (nodefault ones included)")
    p.add_argument("-a", "--all", action="store_true", help="also the nodefault tests")
    p.add_argument("-n", "--dry-run", action="store_true", help="print the commands, run nothing")
    p.add_argument("--replay", action="store_true", help="judge the saved outputs in --logs instead of running")
    p.add_argument("--logs", help="where outputs go (default: a new directory under /tmp, kept)")
    p.add_argument("--jbhyve-only", action="store_true", help="do not run QEMU")
    p.add_argument("--qemu-only", action="store_true", help="do not run jbhyve (to check the QEMU side)")
    p.add_argument("--qemu-accel", default="kvm", help="QEMU accelerator (default kvm; tcg checks this script)")
    p.add_argument("--memory", default="256M", help="jbhyve -m when qemu_params has no -m (default 256M)")
    p.add_argument("--no-acpi", dest="acpi", action="store_false", help="no -A (QEMU always has ACPI tables)")
    p.add_argument("--no-x2apic", dest="x2apic", action="store_false",
                   help="no -x (QEMU+KVM offers x2APIC unless -cpu ...,-x2apic)")
    p.add_argument("--jbhyve-opt", dest="jbhyve_opts", action="append", default=[], help="extra bhyve argument")
    p.add_argument("--timeout", type=float, help="seconds per test (default: the cfg's timeout, else 90)")
    p.add_argument("--bhyve", default=os.environ.get("BHYVE", "bhyve"), help=argparse.SUPPRESS)
    p.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-x86_64"), help="QEMU binary")
    opts = p.parse_args(argv)
    opts.kut = os.path.abspath(opts.kut)
    if not os.path.isfile(os.path.join(opts.kut, "config.mak")) or not os.path.isfile(
            os.path.join(opts.kut, "x86", "unittests.cfg")):
        p.error("%s is not a configured kvm-unit-tests tree (no config.mak or x86/unittests.cfg)" % opts.kut)
    if opts.replay and not opts.logs:
        p.error("--replay needs --logs DIR")
    if opts.dry_run and opts.logs is None:
        opts.logs = "LOGS"  # nothing is written: the commands show where the environ file would be
    elif opts.logs is None:
        import tempfile
        opts.logs = tempfile.mkdtemp(prefix="kut-")
    if not opts.dry_run:
        os.makedirs(opts.logs, exist_ok=True)
    return opts


def main(argv):
    opts = options(argv)
    config = read_config(opts.kut)
    tests = parse_cfg(os.path.join(opts.kut, "x86", "unittests.cfg"))
    unknown = [t for t in opts.tests if t not in {x["name"] for x in tests}]
    if unknown:
        print("bench: no such test in x86/unittests.cfg: " + " ".join(unknown), file=sys.stderr)
        return 4
    env = make_env(opts, config)
    rows, passed = [], {"jbhyve": 0, "qemu": 0}
    for test in tests:
        why = skip_reason(test, opts, config)
        if why in ("not selected", ) or (why or "").startswith("not in group"):
            continue
        row = [test["name"]]
        for vmm, build in (("jbhyve", jbhyve_command), ("qemu", qemu_command)):
            if why is not None:
                row.append(SKIP + " (" + why + ")")
                continue
            if (vmm == "qemu" and opts.jbhyve_only) or (vmm == "jbhyve" and opts.qemu_only):
                row.append("-")
                continue
            command = build(test, opts, env)
            if opts.dry_run:
                print("%s %s: %s" % (test["name"], vmm, command))
                row.append("-")
                continue
            seconds = opts.timeout or timeout_seconds(test.get("timeout"))
            status, out = run_one(test["name"], vmm, command, seconds, opts)
            if status is None:
                row.append("-")
                continue
            v = verdict(status, out, vmm)
            passed[vmm] += v == PASS
            row.append(("%s %s" % (v, summary(out.get("stdout", "")))).strip() + (" [%d]" % status if v in (FAIL, TIMEOUT) else ""))
        rows.append(row)
    width = max([len(r[0]) for r in rows] + [4])
    jwidth = max([len(r[1]) for r in rows] + [6])
    print("%-*s  %-*s  %s" % (width, "test", jwidth, "jbhyve", "qemu"))
    for r in rows:
        print("%-*s  %-*s  %s" % (width, r[0], jwidth, r[1], r[2]))
    print("logs: " + opts.logs)
    print("passed jbhyve=%d qemu=%d" % (passed["jbhyve"], passed["qemu"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
