# The second stage of bin/lib/emulated-kvm.sh, run as PID 1 inside the emulated machine on its
# overlay root: mounts the usual file systems, loads KVM and the network modules the tests use,
# runs the command saved in $dir/command, records its status and powers off.
set -u
# One compound command: bash parses it whole before running it, so nothing more is read from the
# shared file system once the power-off has begun.
{
mount -t proc proc /proc || echo "emulated-kvm: cannot mount /proc"
project=$(sed -n 's/.*jbhyve.project=\([^ ]*\).*/\1/p' /proc/cmdline)
dir=$(sed -n 's/.*jbhyve.dir=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t sysfs sys /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# The project's own mount is set aside while the scratch file systems are mounted and put back
# on top: a project under /tmp or /run (a clone in /tmp, say) would be hidden by them otherwise.
mkdir -p /.project && mount --move "$project" /.project || echo "emulated-kvm: cannot set $project aside"
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p "$project" && mount --move /.project "$project" || echo "emulated-kvm: cannot put $project back"
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# KVM's NX huge page recovery thread (an iTLB multihit mitigation, which the emulated CPU seems
# to need because it does not deny the bug) locked both CPUs up under load here: it is turned off.
modprobe kvm nx_huge_pages=off nx_huge_pages_recovery_ratio=0 || echo "emulated-kvm: modprobe kvm failed"
for module in kvm_amd tun veth bridge; do modprobe "$module" || echo "emulated-kvm: modprobe $module failed"; done
# No udev here: give the device nodes the modes distributions' udev rules give them, so tests
# that run a VM as an ordinary user see the machine a user would.
chmod 0666 /dev/net/tun 2>/dev/null
ip link set lo up
hostname emulated-kvm
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
cd "$project"
echo "emulated-kvm: $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, /dev/kvm $( [ -c /dev/kvm ] && echo present || echo MISSING)"
# The host watches $dir/alive (bin/lib/emulated-kvm.sh): touched every 15 s while the machine runs.
# touch sets the time explicitly, which reaches the host whatever the project mount caches.
(while :; do touch "$dir/alive"; sleep 15; done) &
alive=$!
# A VM that runs for minutes here is worth seeing from outside: name it once a minute. Every
# five minutes, a line that tells a machine still working (its load and busiest processes) from
# one that has locked up (no line at all).
(minutes=0
while sleep 60; do
    minutes=$((minutes + 1))
    ps -eo etimes=,pid=,stat=,args= | awk '$1 >= 120 && / org\.jbhyve\.cli\./ { print "emulated-kvm: still running after " $1 " s: " substr($0, index($0, $4), 300) }'
    if [ $((minutes % 5)) = 0 ]; then
        echo "emulated-kvm: up $minutes min, load $(cut -d' ' -f1-3 /proc/loadavg); busiest: $(ps -eo pcpu=,etimes=,args= --sort=-pcpu | head -n 3 | cut -c1-100 | paste -sd'|')"
    fi
done) &
monitor=$!
eval "$(cat "$dir/command")"
status=$?
kill "$monitor" "$alive" 2>/dev/null
echo "$status" >"$dir/status"
sync
echo o >/proc/sysrq-trigger
while :; do read -r -t 60 _ </dev/console; done
}
