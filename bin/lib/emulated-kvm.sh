# Sourced by bin/test: runs a command inside an emulated x86-64 machine whose Linux has /dev/kvm.
#
# Where the host has no /dev/kvm (a VM without nested virtualisation, a container), the KVM tests
# can still run for real: QEMU's TCG emulates an x86-64 CPU *with* AMD-V (SVM and nested paging),
# so a Linux kernel booted in it loads kvm_amd and offers a genuine /dev/kvm. jbhyve then runs
# inside that machine exactly as on hardware, only slower (every instruction is translated).
#
# The emulated machine sees the host's root file system read-only through virtio-9p, with an
# in-memory overlay on top (so /tmp, ~/.m2 and /var are writable and forgotten afterwards); the
# project directory is shared read-write at the same path, so test reports land in target/.
# Its kernel is Debian's linux-image-amd64 (needs kvm_amd, 9p, overlay, tun and veth as modules);
# the first stage is a busybox initramfs built here into target/emulated-kvm/.
#
# Needs: qemu-system-x86 (qemu-system-x86_64), busybox-static, linux-image-amd64, cpio.

# True when this host's own /dev/kvm can be used (read and write); then nothing here is needed.
jbhyve_kvm_usable() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

jbhyve_emulated_kvm_kernel() {
    # Prints the version of an installed kernel that has the modules needed, or fails.
    local dir version
    for dir in /lib/modules/*; do
        version=${dir##*/}
        [ -r "/boot/vmlinuz-$version" ] || continue
        modinfo -k "$version" -n kvm_amd 9pnet_virtio 9p overlay >/dev/null 2>&1 || continue
        echo "$version"
        return 0
    done
    return 1
}

jbhyve_emulated_kvm_available() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 && [ -x /bin/busybox ] && command -v cpio >/dev/null 2>&1 \
        && jbhyve_emulated_kvm_kernel >/dev/null
}

# The first stage: busybox, the modules that reach the root file system, and an init that builds
# the overlay root and hands over to the second stage (bin/lib/emulated-kvm-init.sh) on it.
jbhyve_emulated_kvm_initramfs() {
    local version=$1 out=$2 stage module file
    stage=$(mktemp -d)
    mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,modules}
    cp /bin/busybox "$stage/bin/"
    for applet in sh mount insmod mkdir switch_root cat echo poweroff; do
        ln -s busybox "$stage/bin/$applet"
    done
    local modules=""
    for module in 9pnet_virtio virtio_pci 9p overlay; do
        modules="$modules $(modprobe -S "$version" --show-depends "$module" | awk '$1 == "insmod" { print $2 }')"
    done
    local order=""
    for file in $modules; do
        case " $order " in *" $file "*) continue ;; esac
        order="$order $file"
        local name; name=$(basename "$file"); name=${name%%.ko*}
        case $file in
            *.xz) xz -dc "$file" >"$stage/modules/$name.ko" ;;
            *.zst) zstd -qdc "$file" >"$stage/modules/$name.ko" ;;
            *) cp "$file" "$stage/modules/$name.ko" ;;
        esac
        echo "$name" >>"$stage/modules/order"
    done
    cat >"$stage/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for module in $(cat /modules/order); do insmod /modules/$module.ko || echo "emulated-kvm: insmod $module failed"; done
project=$(sed -n 's/.*jbhyve.project=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro,cache=loose hostroot /lower || exec poweroff -f
mount -t tmpfs -o size=75% tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || exec poweroff -f
cache=$(sed -n 's/.*jbhyve.project_cache=\([a-z]*\).*/\1/p' /proc/cmdline)
mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288${cache:+,cache=$cache}" project "/newroot$project" || exec poweroff -f
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$project/bin/lib/emulated-kvm-init.sh"
INIT
    chmod +x "$stage/init"
    (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
    rm -rf "$stage"
}

# jbhyve_emulated_kvm_run PROJECT_DIR COMMAND...: boots the machine, runs COMMAND in PROJECT_DIR
# as root with a usable /dev/kvm, and returns COMMAND's exit status (125 if it never ran).
# The command and its status pass through $JBHYVE_EMULATED_KVM_DIR (default target/emulated-kvm;
# it must be inside PROJECT_DIR), so two machines may run at once with different directories. With
# $JBHYVE_EMULATED_KVM_TIMEOUT (seconds) the machine is stopped after that long, and 124 returned.
# A machine that shows no sign of life for six minutes (QEMU's translator has locked its CPUs up
# here, at times with the kernel reporting a CPU stuck for minutes) is stopped, and 126 returned;
# so is one whose kernel stopped (a panic, seen here once on a corrupted kernel stack) before the
# command ended. $JBHYVE_EMULATED_KVM_CPUS sets its CPU count (default: the host's). With one
# CPU the translator never runs a JVM's compiled code on one CPU while another CPU patches it,
# which QEMU 7.2's multi-threaded translator gets wrong now and then (a JVM crashes); with two it
# is twice as fast. $JBHYVE_EMULATED_KVM_PROJECT_CACHE=loose mounts the project with the page
# cache (9p's cache=loose; by default every read goes to the host).
jbhyve_emulated_kvm_run() {
    local project=$1; shift
    local version; version=$(jbhyve_emulated_kvm_kernel) || return 125
    local dir="${JBHYVE_EMULATED_KVM_DIR:-$project/target/emulated-kvm}"
    mkdir -p "$dir"
    local real_project; real_project=$(cd "$project" && pwd -P)
    dir=$(cd "$dir" && pwd -P)
    # Only the project is writable inside (the rest of the host is read-only there): a directory
    # elsewhere would lose the status and the signs of life, and the watch could not work.
    case "$dir/" in
        "$real_project"/*) ;;
        *) echo "emulated-kvm: $dir: JBHYVE_EMULATED_KVM_DIR must be inside $project" >&2; return 125 ;;
    esac
    rm -f "$dir/status" "$dir/alive" "$dir/locked-up"
    printf '%q ' "$@" >"$dir/command"
    jbhyve_emulated_kvm_initramfs "$version" "$dir/initramfs.gz"
    local memory_mib=$(( $(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) * 2 / 3 ))
    [ "$memory_mib" -gt 16384 ] && memory_mib=16384
    local limit=()
    [ -n "${JBHYVE_EMULATED_KVM_TIMEOUT:-}" ] && limit=(timeout --kill-after=30 "$JBHYVE_EMULATED_KVM_TIMEOUT")
    # qboot (a minimal firmware that just loads the kernel) starts faster than SeaBIOS when present.
    local firmware=()
    [ -r /usr/share/qemu/qboot.rom ] && firmware=(-bios /usr/share/qemu/qboot.rom)
    # The CPU offers AMD-V (SVM with nested paging) for a real /dev/kvm inside. AVX and its kin are
    # taken out: QEMU's translator gained them only recently, and the JVM (which uses them in its
    # compiled code and intrinsics when CPUID offers them) crashed there with SIGSEGV.
    # The machine touches $dir/alive every 15 s once it has started (bin/lib/emulated-kvm-init.sh).
    (while sleep 10 </dev/null >/dev/null 2>&1; do
        if [ -n "$(find "$dir/alive" -mmin +6 2>/dev/null)" ]; then
            echo "emulated-kvm: no sign of life from the emulated machine for six minutes (its CPUs locked up): stopping it" >&2
            : >"$dir/locked-up"
            pkill -f -- "jbhyve.dir=$dir -virtfs"
            exit
        fi
    done) &
    local watch=$! qemu_status
    # transparent_hugepage=never: with this kernel's default ("always") the machine's CPUs locked
    # up again and again (soft lockups, some in khugepaged; three machines in a row once guest
    # RAM was 2 MiB-aligned, so that nested guests ran on huge pages); none since without them.
    "${limit[@]}" qemu-system-x86_64 -accel tcg,thread=multi,tb-size=1024 -cpu max,-avx,-avx2,-fma,-f16c -smp "${JBHYVE_EMULATED_KVM_CPUS:-$(nproc)}" -m "$memory_mib" \
        "${firmware[@]}" -display none -vga none -serial stdio -monitor none -no-reboot -nic none \
        -kernel "/boot/vmlinuz-$version" -initrd "$dir/initramfs.gz" \
        -append "console=ttyS0 quiet panic=-1 transparent_hugepage=never jbhyve.project=$project${JBHYVE_EMULATED_KVM_PROJECT_CACHE:+ jbhyve.project_cache=$JBHYVE_EMULATED_KVM_PROJECT_CACHE} jbhyve.dir=$dir" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=$project,mount_tag=project,security_model=none" </dev/null \
        && qemu_status=0 || qemu_status=$? # (also in callers with set -e)
    kill "$watch" 2>/dev/null || true # it may have ended: it stopped a locked-up machine
    [ -e "$dir/locked-up" ] && return 126
    [ -r "$dir/status" ] && return "$(cat "$dir/status")"
    if [ -e "$dir/alive" ]; then # it came up, ran the command and never finished it
        echo "emulated-kvm: the emulated machine stopped before the command ended (its kernel panicked?)" >&2
        return 126
    fi
    [ $qemu_status -eq 124 ] || [ $qemu_status -eq 137 ] && [ ${#limit[@]} -gt 0 ] && return 124
    return 125
}

# jbhyve_run_with_kvm PROJECT_DIR NAME COMMAND...: how a benchmark runs COMMAND: here when
# /dev/kvm is usable (exec), else in the emulated machine (its files in target/emulated-kvm-NAME)
# with a line saying so, since its times are those of a translated CPU; status 4 when neither.
# A machine that failed (126: locked up, or its kernel stopped) is started once more.
jbhyve_run_with_kvm() {
    local project=$1 name=$2; shift 2
    if jbhyve_kvm_usable; then
        exec "$@"
    fi
    jbhyve_emulated_kvm_available || { echo "$name: needs /dev/kvm or the emulated machine (see bin/lib/emulated-kvm.sh)" >&2; exit 4; }
    echo "$name: no usable /dev/kvm here: running in the emulated machine with KVM (translated CPU)" >&2
    # A benchmark compares jbhyve with QEMU, whose program comes from the host's root file
    # system, which the machine caches; jbhyve's jar and start-up cache come from the project's
    # mount, which by default it does not (every start would read them again through 9p: 1.3 s of
    # a start there). For benchmarks the project is cached too, as any installed program would be.
    # Only the machine writes there while it runs, so its cache cannot go stale.
    if [ "$name" = bench ]; then
        local JBHYVE_EMULATED_KVM_PROJECT_CACHE=loose
        export JBHYVE_EMULATED_KVM_PROJECT_CACHE
    fi
    local attempt status
    for attempt in 1 2; do
        JBHYVE_EMULATED_KVM_DIR="$project/target/emulated-kvm-$name" jbhyve_emulated_kvm_run "$project" \
            env JAVA_HOME="$JAVA_HOME" JBHYVE_NO_BUILD=1 "$@" && status=0 || status=$?
        [ $status -eq 126 ] && [ $attempt -eq 1 ] || return $status
        echo "$name: running it once more in a fresh emulated machine" >&2
    done
}
