"""The two VMMs the benchmarks compare, started the same way on the same PVH guest."""
import os


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
