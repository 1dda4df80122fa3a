# Sourced by bin/bhyve and the other commands: finds a JDK 25, builds the project when the jar is
# missing or older than the sources, then runs the given main class.
# Usage: jbhyve_launch MAIN_CLASS ARGS...
#
# Start-up: the JVM is given an ahead-of-time cache (JDK 25, JEP 483/514) made by one training
# run that boots the demo guest right after a build; it holds the classes and method handles a
# VM start needs, linked, and halves the time to the first guest instruction. A cache older than
# the jar is not used (and is remade unless JBHYVE_NO_BUILD is set).

# The same options for training and use: the cache is only valid for matching JVM options.
# -XX:-UsePerfData: no hsperfdata file (jstat's counters) is created and mapped at every start.
# -XX:TrimNativeHeapInterval: once a second the JVM hands malloc's free pages back to the kernel;
#   start-up's transient native allocations would otherwise stay resident (about 6 MiB).
# -XX:NewSize=1m: a young generation of 1 MiB to start with (the default is a third of the 8 MiB
#   heap); start-up's garbage then stays in fewer pages, whose huge-page backing (THP "always")
#   made each 2 MiB: 1.4 MiB less resident with a 256 MiB guest. It grows with the heap.
# -XX:-AOTRecordTraining/-AOTReplayTraining: no method profiles in the start-up cache. Only the
#   first compiler runs (TieredStopAtLevel=1) and it does not use them; without them the cache is
#   0.6 MiB smaller (all of it is resident) and no "Training replay" thread starts.
# -XX:StringTableSize, SymbolTableSize: the interned-string and symbol tables start with 4096
#   buckets instead of 65536 and 32768 (the start-up cache holds nearly all of a VM's strings and
#   symbols in tables of its own); they grow when they fill. 0.7 MiB less resident.
# -XX:CompileThresholdScaling=100: a method is compiled after a hundred times the usual number of
#   calls and loop turns (20,000 calls). Most of a VM's start-up code runs a few hundred or
#   thousand times and never again; by default the compiler spent 0.09 s of CPU on 500 such
#   methods per start (-XX:+CITime), 40 % of the start's CPU time, and their code stayed
#   resident. Ten times the thresholds left 110 methods (a start: 25 % less CPU, what ten VMs
#   started at once on two cores wait for, and 1.5 MiB less memory); a hundred times leaves the
#   small JDK methods that building the downcall stub calls thousands of times, and takes a
#   further 12 % off a start's CPU on a translated CPU (twenty starts each way, interleaved). The
#   exit path and the device paths run thousands of times a second and are compiled within their
#   first seconds of use (bench/exits measures after a first round of 40,000 exits).
# Method-handle customisation stays on (java.lang.invoke.MethodHandle.CUSTOMIZE_THRESHOLD): the
#   system-call handle gets forms of its own after 127 interpreted calls, a class generated at
#   every start, but the first compiler then folds the handle's bound values, and without them a
#   port-I/O exit took 1.10x QEMU's time instead of parity (bench/exits).
# The compile exclusion: the linker's bytecode verifier helper (StackMapGenerator.processBlock) is
#   one huge method that runs only while the downcall stub is made at start; compiling it took
#   6.5 MiB of compiler memory and compiler time, for nothing afterwards.
JBHYVE_JVM_OPTIONS=(--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xms8m -Xmx256m -XX:NewSize=1m
    -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=100 -XX:-UsePerfData -XX:TrimNativeHeapInterval=1000
    -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining -XX:-AOTReplayTraining
    -XX:StringTableSize=4096 -XX:+UnlockExperimentalVMOptions -XX:SymbolTableSize=4096 -XX:CompileCommand=quiet
    -XX:CompileCommand=exclude,jdk.internal.classfile.impl.StackMapGenerator::processBlock)

jbhyve_build_if_needed() {
    local home=$1 jar=$2
    if [ -n "${JBHYVE_NO_BUILD:-}" ]; then
        [ -f "$jar" ] && return 0
        echo "jbhyve: $jar is missing (JBHYVE_NO_BUILD is set, so it is not built here)" >&2
        exit 4
    fi
    if [ -f "$jar" ] && [ -z "$(find "$home/src/main" "$home/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
        return 0
    fi
    echo "jbhyve: building with Maven: the jar, its libraries and the guest images (first run or" \
        "sources changed; about 20 s, a few minutes when Maven must download plugins first)..." >&2
    local started=$SECONDS
    # stdin is the guest's console: the build must not read it.
    if ! (cd "$home" && mvn -B -ntp -DskipTests package </dev/null >"$home/target.build.log" 2>&1); then
        echo "jbhyve: build failed; Maven's errors (the whole log is $home/target.build.log):" >&2
        grep -E '^\[ERROR\]|error:' "$home/target.build.log" | head -n 20 >&2
        exit 4
    fi
    echo "jbhyve: built in $((SECONDS - started)) s" >&2
    rm -f "$home/target.build.log"
    touch "$jar" # the jar plugin leaves an unchanged jar untouched; record that it is current
}

jbhyve_train_aot_cache() {
    local home=$1 jar=$2 aot=$3
    local tmp="$aot.$$"
    # The training VMs (org.jbhyve.cli.AotTraining: the demo guest booted twice, once with a disk
    # and a network card as the demo VM has, and a firmware start) register in a VM
    # registry of their own, so they never meet a real VM's name. They run without the seccomp
    # filter: at exit the JVM starts a second JVM to write the cache.
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 0 # training boots a guest
    echo "jbhyve: training the start-up cache (boots the demo guest twice, a few seconds)..." >&2
    local rundir status; rundir=$(mktemp -d "${TMPDIR:-/tmp}/jbhyve-aot.XXXXXX") || return 0
    # Ten minutes at most (it takes seconds, a minute or two on a translated CPU): a training run
    # that hangs must not hold up the bhyve that started it; without a cache bhyve only starts slower.
    JBHYVE_RUNDIR="$rundir" timeout -k 10 600 "$JAVA_HOME/bin/java" "${JBHYVE_JVM_OPTIONS[@]}" -XX:AOTCacheOutput="$tmp" -cp "$jar" \
        org.jbhyve.cli.AotTraining "$home/target/guest/demo.elf" "$rundir" </dev/null >/dev/null 2>&1 && status=0 || status=$? # (also under set -e)
    rm -rf "$rundir"
    # 124 and 137: stopped by the time limit, perhaps while writing; such a cache is not kept.
    if [ -f "$tmp" ] && [ $status -ne 124 ] && [ $status -ne 137 ]; then mv -f "$tmp" "$aot"; else rm -f "$tmp"; fi
}

# Whether the start-up cache AOT is there and current: not older than the jar JAR, nor than this
# file, whose JVM options it was made with (a JVM given a mismatched cache silently runs without it).
jbhyve_aot_cache_current() {
    local jar=$1 aot=$2
    [ -f "$aot" ] && [ ! "$jar" -nt "$aot" ] && [ ! "${BASH_SOURCE[0]}" -nt "$aot" ]
}

# Makes the start-up cache when it is not current (needs KVM: it boots a guest).
# Benchmarks call it before they time anything, since they run with JBHYVE_NO_BUILD.
jbhyve_ensure_aot_cache() {
    local home=$1
    local jar="$home/target/jbhyve.jar" aot="$home/target/jbhyve.aot"
    jbhyve_aot_cache_current "$jar" "$aot" || jbhyve_train_aot_cache "$home" "$jar" "$aot"
}

# Sets JBHYVE_HOME to the project's directory, absolute and without "." or ".." parts (the
# start-up cache is only used with the class path it was made with). From this file's path when
# that is already such a path, which costs no program; through cd and pwd otherwise.
jbhyve_home() {
    local source=${BASH_SOURCE[0]}
    [[ $source == /* ]] || source=$PWD/$source
    if [[ $source != */./* && $source != */../* && $source != *//* && $source == */bin/lib/launch.sh ]]; then
        JBHYVE_HOME=${source%/bin/lib/launch.sh}
    else
        JBHYVE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    fi
}

# Fills JBHYVE_JAVA_COMMAND with the java command line that runs MAIN_CLASS (JDK found, jar built,
# start-up cache used when current, JBHYVE_JAVA_OPTIONS checked).
jbhyve_java_command() {
    local main=$1
    jbhyve_home
    local home=$JBHYVE_HOME
    . "$home/bin/lib/jdk.sh"
    jbhyve_find_jdk || exit 4
    local jar="$home/target/jbhyve.jar" aot="$home/target/jbhyve.aot"
    jbhyve_build_if_needed "$home" "$jar"
    [ -n "${JBHYVE_NO_BUILD:-}" ] || jbhyve_ensure_aot_cache "$home"
    local cache=()
    if jbhyve_aot_cache_current "$jar" "$aot"; then
        cache=(-XX:AOTCache="$aot" -Xlog:aot=off -Xlog:cds=off)
    fi
    # JBHYVE_JAVA_OPTIONS: more JVM options, after ours (diagnostics such as -Xlog:gc or
    # -XX:NativeMemoryTracking=summary); split on spaces.
    local extra=()
    read -r -a extra <<<"${JBHYVE_JAVA_OPTIONS:-}"
    if [ ${#extra[@]} -gt 0 ]; then
        # Checked first (one more JVM start, only when set): a refused option would otherwise end
        # bhyve with the JVM's status 1, which is bhyve's "the guest powered off".
        local refused
        if ! refused=$("$JAVA_HOME/bin/java" "${JBHYVE_JVM_OPTIONS[@]}" "${extra[@]}" -version 2>&1 >/dev/null); then
            echo "jbhyve: JBHYVE_JAVA_OPTIONS: $(printf '%s\n' "$refused" | head -n 1)" >&2
            exit 4
        fi
    fi
    JBHYVE_JAVA_COMMAND=("$JAVA_HOME/bin/java" "${JBHYVE_JVM_OPTIONS[@]}" "${extra[@]}" "${cache[@]}" -cp "$jar" "$main")
}

jbhyve_launch() {
    jbhyve_java_command "$1"
    shift
    exec "${JBHYVE_JAVA_COMMAND[@]}" "$@"
}

# Sets JBHYVE_RUN_DIRECTORY to RUNDIR as org.jbhyve.control.RunDirectory computes it (the VM
# registry's parent). A variable, not output: bin/bhyve's hand-off path avoids forks.
jbhyve_rundir() {
    if [ -n "${JBHYVE_RUNDIR:-}" ]; then
        JBHYVE_RUN_DIRECTORY=$JBHYVE_RUNDIR
    elif [ "$EUID" = 0 ]; then
        JBHYVE_RUN_DIRECTORY=/run/jbhyve
    elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
        JBHYVE_RUN_DIRECTORY=$XDG_RUNTIME_DIR/jbhyve
    else
        JBHYVE_RUN_DIRECTORY=/tmp/jbhyve-$EUID
    fi
}

# When bin/bhyve-prestart keeps a bhyve process ready (RUNDIR/prestart/ready-PID.sock), hands
# the command line to it and does not return. Returns when there is none or JBHYVE_PRESTART is
# off. Written to start fast: no subshells, no programs but the client. Unlike a usual start it
# does not look for sources newer than the jar (that walk costs more than the rest together): a
# ready process runs the jar it was started with and refuses once the jar is rebuilt.
jbhyve_handoff() {
    [ "${JBHYVE_PRESTART:-}" != off ] || return 0
    jbhyve_rundir
    local dir=$JBHYVE_RUN_DIRECTORY/prestart
    local ready=("$dir"/ready-*.sock)
    [ -S "${ready[0]}" ] || return 0
    jbhyve_python || return 0
    jbhyve_home
    local home=$JBHYVE_HOME
    exec "$JBHYVE_PYTHON" -I -S "$home/bin/lib/prestart-client.py" "$dir" "$home/bin/bhyve" "$@"
}

# Sets JBHYVE_PYTHON to the Python 3 that runs the hand-off client: the system's first (a version
# manager's shim on PATH can cost more to start than the hand-off saves), then any on PATH.
jbhyve_python() {
    local candidate
    for candidate in /usr/bin/python3 /usr/local/bin/python3; do
        if [ -x "$candidate" ]; then
            JBHYVE_PYTHON=$candidate
            return 0
        fi
    done
    JBHYVE_PYTHON=$(type -P python3)
}
