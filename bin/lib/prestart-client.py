"""Hands a bhyve command line to a pre-started jbhyve process (see bin/bhyve-prestart).

Usage: prestart-client.py DIRECTORY BHYVE ARGS...

Claims a ready-PID.sock in DIRECTORY (renames it taken-PID.sock), connects and sends one message
(org.jbhyve.cli.Handoff): the working directory, ARGS and the environment, with descriptors 0, 1
and 2 attached. On "ok PID" the VM runs in that process, and this one stays as its stand-in for
whoever started bhyve: it passes SIGTERM, SIGINT, SIGHUP and SIGQUIT on, starts the next ready process (bin/bhyve-prestart
-q) when the VM process says "started" (or ends first), and exits with the status the VM process
reports ("status N"). When no process is ready, or the one asked says no, it runs BHYVE ARGS the
usual way (JBHYVE_PRESTART=off keeps that from coming back here).

Imports are few on purpose: this runs on every start, and Python's start-up is part of bhyve's.
The C modules _socket and _signal are used directly: socket and signal wrap them in enums whose
import costs a third of this client's start.
"""
import _signal
import _socket
import os
import sys

MAGIC = b"jbhyve-handoff 1"


def start_normally(bhyve, args):
    os.environ["JBHYVE_PRESTART"] = "off"
    os.execv(bhyve, [bhyve] + args)


def message(args):
    fields = [MAGIC, os.fsencode(os.getcwd()), str(len(args)).encode()]
    fields += [os.fsencode(a) for a in args]
    fields += [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in os.environ.items()]
    return b"".join(f + b"\0" for f in fields)


def hand_over(directory, name, payload):
    """The connected socket and the VM process's pid, or None when this one cannot take it.

    The ready process is claimed first: ready-PID.sock is renamed to taken-PID.sock, which
    only one caller can do. Callers started together thus each take a process of their own,
    instead of all asking the first one and waiting in its queue until it has taken one of them.
    """
    ready = os.path.join(directory, name)
    taken = os.path.join(directory, "taken-" + name[len("ready-"):])
    try:
        os.rename(ready, taken)
    except OSError:  # another caller took it first
        return None
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        s.connect(taken)
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
        s.sendmsg([payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        reply = s.recv(4096)
    except ConnectionRefusedError:  # its process is gone: the socket is left over
        s.close()
        remove(taken)
        return None
    except OSError:
        s.close()
        return None
    if reply.startswith(b"ok "):  # it has removed its socket's name before answering
        return s, int(reply[3:])
    s.close()
    try:  # it said no (another environment, say): it stays ready for others
        os.rename(taken, ready)
    except OSError:  # it ended (its jar was rebuilt) and removed the socket
        pass
    return None


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def start_successor(bhyve):
    """One more ready process in place of the one this VM took, detached, output discarded."""
    prestart = os.path.join(os.path.dirname(bhyve), "bhyve-prestart")
    quiet = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]
    try:
        os.posix_spawn(prestart, [prestart, "-q"], os.environ, file_actions=quiet, setsid=True)
    except OSError as e:
        print(f"bhyve: cannot start the next pre-started process: {e}", file=sys.stderr)


def main():
    directory, bhyve, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    payload = message(args)
    taken = None
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith("ready-") and n.endswith(".sock"))
    except OSError:
        names = []
    for name in names:
        taken = hand_over(directory, name, payload)
        if taken:
            break
    if not taken:
        start_normally(bhyve, args)
    connection, pid = taken
    last_signal = []

    def forward(number, _frame):
        last_signal.append(number)
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass

    for number in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT):
        _signal.signal(number, forward)
    successor = False
    while True:
        reply = connection.recv(64)
        if not successor and (reply == b"started" or not reply or reply.startswith(b"status ")):
            start_successor(bhyve)
            successor = True
        if reply.startswith(b"status "):
            sys.exit(int(reply[7:]))
        if not reply:
            if last_signal:  # it died of a signal passed on: so do we, as far as the status says
                sys.exit(128 + last_signal[-1])
            print(f"bhyve: the VM process (pid {pid}) ended without an exit status", file=sys.stderr)
            sys.exit(4)


if __name__ == "__main__":
    main()
