# Sourced by bin/vmrun.sh: tap interfaces that vmrun.sh creates for the VM and removes after it.
#
# On FreeBSD opening /dev/tapN creates the interface, so vmrun.sh's default "-t tap0" works on a
# fresh system. On Linux a tap is made with "ip tuntap add NAME mode tap" (needs CAP_NET_ADMIN,
# in practice root) and lives until it is deleted. jbhyve's bhyve opens only existing taps (a
# transient one nobody bridged would silently carry nothing), so vmrun.sh creates the missing
# ones, brings them up without an address, and deletes exactly those when it exits. Bridging
# them (ip link set NAME master br0) is the administrator's business, as on FreeBSD.

created_taps=()

# The interface name of a -t value ("tap0" or "tap0,mac=..."), or nothing when the value is not
# a Linux interface name (a FreeBSD backend such as netgraph or slirp, which bhyve reports).
tap_ifname() {
	local name=${1%%,*}
	case $name in
	netgraph|slirp|"") return 1 ;;
	esac
	[[ $name =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || return 1
	printf '%s\n' "$name"
}

tap_exists() {
	ip link show dev "$1" >/dev/null 2>&1
}

# Creates every named tap that does not exist yet (as root), or says in one line per tap why it
# cannot. Exits 1 if ip fails as root: the VM would have no network.
create_missing_taps() {
	local value name
	for value in "$@"; do
		name=$(tap_ifname "$value") || continue
		if ! command -v ip >/dev/null 2>&1; then
			echo "vmrun.sh: cannot check tap $name: the ip command (iproute2) is missing" >&2
			continue
		fi
		tap_exists "$name" && continue
		if [ "$(id -u)" -ne 0 ]; then
			echo "vmrun.sh: tap $name does not exist and only root can create it (ip tuntap add $name mode tap)" >&2
			continue
		fi
		if ! ip tuntap add "$name" mode tap; then
			echo "vmrun.sh: could not create tap $name" >&2
			exit 1
		fi
		created_taps+=("$name")
		if ! ip link set "$name" up; then
			echo "vmrun.sh: could not bring tap $name up" >&2
			exit 1
		fi
		echo "Created tap interface $name (removed when $vmname ends)"
	done
}

# EXIT trap: deletes the taps this run created, and only those.
remove_created_taps() {
	local name
	for name in ${created_taps[@]+"${created_taps[@]}"}; do
		ip link delete "$name" 2>/dev/null || echo "vmrun.sh: could not remove tap $name" >&2
	done
	created_taps=()
}
