# Sourced by the bin/ scripts: finds a JDK 25 and exports JAVA_HOME, or explains what to install.
# Order: $JAVA_HOME if it is a JDK 25 or newer, then /usr/lib/jvm/*25*, then any newer JDK there.

jbhyve_java_version() {
    # Sets JBHYVE_JAVA_VERSION to the feature version of the JDK whose java binary is $1 (e.g. 25),
    # or to nothing. The JDK's release file says it without starting a JVM, read here without
    # starting any program (every bin/bhyve passes here); the JVM is asked only when it is missing.
    local release=${1%/bin/java}/release line
    JBHYVE_JAVA_VERSION=
    if [ -f "$release" ]; then
        while IFS= read -r line || [ -n "$line" ]; do
            if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then
                JBHYVE_JAVA_VERSION=${BASH_REMATCH[1]}
                return
            fi
        done <"$release"
        return
    fi
    JBHYVE_JAVA_VERSION=$("$1" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)
}

jbhyve_find_jdk() {
    local candidate version
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
        jbhyve_java_version "$candidate/bin/java"
        version=$JBHYVE_JAVA_VERSION
        if [ -n "$version" ] && [ "$version" -ge 25 ]; then
            export JAVA_HOME="$candidate"
            return 0
        fi
    done
    cat >&2 <<'MSG'
jbhyve: no JDK 25 found (looked at $JAVA_HOME and /usr/lib/jvm/*25*).
  Install one, e.g. Temurin 25 (temurin-25-jdk from the Adoptium apt repository) or
  openjdk-25-jdk where your distribution has it, or set JAVA_HOME to a JDK 25.
MSG
    return 1
}
