# Sourced by bin/bhyve, bin/bhyvectl, bin/bhyveload: finds a JDK 25, builds the project when the
# jar is missing or older than the sources, then runs the given main class.
# Usage: jbhyve_launch MAIN_CLASS ARGS...

jbhyve_launch() {
    local main=$1; shift
    local home; home=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    . "$home/bin/lib/jdk.sh"
    jbhyve_find_jdk || exit 4
    local jar="$home/target/jbhyve.jar"
    if [ -n "${JBHYVE_NO_BUILD:-}" ] && [ ! -f "$jar" ]; then
        echo "jbhyve: $jar is missing (JBHYVE_NO_BUILD is set, so it is not built here)" >&2
        exit 4
    fi
    if [ -z "${JBHYVE_NO_BUILD:-}" ] && { [ ! -f "$jar" ] || [ -n "$(find "$home/src/main" "$home/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; }; then
        echo "jbhyve: building (first run or sources changed)..." >&2
        # stdin is the guest's console: the build must not read it.
        if ! (cd "$home" && mvn -B -q -DskipTests package </dev/null >"$home/target.build.log" 2>&1); then
            echo "jbhyve: build failed; see $home/target.build.log" >&2
            exit 4
        fi
        rm -f "$home/target.build.log"
        touch "$jar" # the jar plugin leaves an unchanged jar untouched; record that it is current
    fi
    # Serial GC and a small heap: the VMM's own heap is tiny (guest RAM is off-heap);
    # the class-data archive makes the next start faster.
    exec "$JAVA_HOME/bin/java" \
        --enable-native-access=ALL-UNNAMED \
        -XX:+UseSerialGC -Xms8m -Xmx256m -XX:TieredStopAtLevel=1 \
        -XX:SharedArchiveFile="$home/target/jbhyve.jsa" -XX:+AutoCreateSharedArchive -Xlog:cds=off -Xlog:cds+dynamic=off \
        -cp "$jar" "$main" "$@"
}
