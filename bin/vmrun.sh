#!/usr/bin/env bash
# vmrun.sh for jbhyve: FreeBSD's share/examples/bhyve/vmrun.sh on Linux/KVM.
#
# It builds a bhyve command line from a few options and runs the VM in a loop, as FreeBSD's does:
# bhyve's exit status 0 means the guest rebooted, so the VM is started again; any other status
# (1 powered off, 2 halted, 3 triple fault, 4 error) ends the loop and vmrun.sh exits with it.
#
# What differs from FreeBSD, because Linux has no FreeBSD loader and no devfs clones:
#  - The guest boots through its firmware. The default is the legacy BIOS (Debian's seabios
#    package); -E is UEFI (Debian's ovmf package) with a per-VM copy of the variable store,
#    NAME_VARS.fd beside the first disk, made from the template on first use and kept after.
#    -e boot.kernel=PATH (boot.initrd, boot.cmdline) loads a kernel directly instead, which is
#    what FreeBSD's loader does for FreeBSD guests; -H is where relative kernel paths are found.
#    -l (FreeBSD's userboot loader) does not exist on Linux and is refused.
#  - -i, or a first disk without a boot sector, boots the installation image -I on an AHCI
#    CD-ROM (ahci-cd in slot 31) with bootindex=1, so the firmware tries it before the disks;
#    the disks follow in slot order. Once the installer has written a boot sector and the guest
#    reboots, the next turn of the loop boots the disk (unless -i forces the CD every time).
#  - A tap interface (-t, default tap0) that does not exist is created when vmrun.sh runs as
#    root (ip tuntap add NAME mode tap; ip link set NAME up: no address, attach it to a bridge
#    yourself) and removed when vmrun.sh ends, as FreeBSD creates a tap on first open. Without
#    root one line says so and bhyve then refuses the missing tap.
#  - Root is not required otherwise: access to /dev/kvm is enough.
#  - SIGTERM or SIGHUP sent to vmrun.sh is passed to bhyve (the ACPI power button: the guest
#    shuts down) and the loop ends whatever bhyve's status. SIGINT from the terminal reaches
#    bhyve directly, which stops the VM at once (status 4).
#
# JBHYVE_BHYVE and JBHYVE_BHYVECTL name other bhyve and bhyvectl programs (tests use fakes);
# JBHYVE_BIOS, JBHYVE_UEFI_CODE and JBHYVE_UEFI_VARS other firmware files; JBHYVE_STATE_DIR
# another directory for the UEFI variables of VMs whose first disk is a block device.
set -u

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
BHYVE=${JBHYVE_BHYVE:-$here/bhyve}
BHYVECTL=${JBHYVE_BHYVECTL:-$here/bhyvectl}

DEFAULT_MEMSIZE=512M
DEFAULT_CPUS=2
DEFAULT_TAPDEV=tap0
DEFAULT_CONSOLE=stdio
DEFAULT_NIC=virtio-net
DEFAULT_DISK=virtio-blk
DEFAULT_VIRTIO_DISK="./diskdev"
DEFAULT_ISOFILE="./release.iso"
DEFAULT_VNCHOST="127.0.0.1"
DEFAULT_VNCPORT=5900
DEFAULT_VNCSIZE="w=1024,h=768"
BIOS_FIRMWARE=${JBHYVE_BIOS:-/usr/share/seabios/bios-256k.bin}
UEFI_FIRMWARE=${JBHYVE_UEFI_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
UEFI_VARS_TEMPLATE=${JBHYVE_UEFI_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

errmsg() {
	echo "*** $1"
}

usage() {
	local msg=${1:-}
	cat <<EOF
Usage: vmrun.sh [-aAEhiTuvw] [-c <CPUs>] [-C <console>] [-d <disk file>]
                [-e <name=value>] [-f <path of firmware>] [-F <size>]
                [-G [w][address:]port] [-H <directory>]
                [-I <location of installation iso>] [-L <VNC IP for UEFI framebuffer>]
                [-m <memsize>] [-n <network adapter emulation type>]
                [-p <bus/slot/func>] [-P <port>] [-t <tapdev>] [-U <uuid>] <vmname>

       -h: display this help message
       -a: force memory mapped local APIC access
       -A: use AHCI disk emulation instead of ${DEFAULT_DISK}
       -c: number of virtual cpus (default: ${DEFAULT_CPUS})
       -C: console device (default: ${DEFAULT_CONSOLE}; /dev/nmdm0A: attach with cu -l /dev/nmdm0B)
       -d: disk file[,options] (default: ${DEFAULT_VIRTIO_DISK}); repeat for more disks
       -e: set a loader key: boot.kernel=PATH, boot.initrd=PATH, boot.cmdline=TEXT
           (the kernel is then loaded directly instead of booting the firmware)
       -E: use UEFI mode (${UEFI_FIRMWARE}, variables in <vmname>_VARS.fd beside the first disk)
       -f: use a specific boot firmware (default: ${BIOS_FIRMWARE}, with -E the UEFI one)
       -F: use a custom UEFI GOP framebuffer size (default: ${DEFAULT_VNCSIZE})
       -g: listen for a debugger at <port> (the same as -G <port>)
       -G: bind the GDB stub to the specified address
       -H: host directory where relative -e boot.kernel/boot.initrd paths are found
       -i: force boot of the Installation CDROM image
       -I: Installation CDROM image location (default: ${DEFAULT_ISOFILE})
       -l: the FreeBSD OS loader: not available on Linux (use the firmware or -e boot.kernel)
       -L: IP address for UEFI GOP VNC server (default: ${DEFAULT_VNCHOST})
       -m: memory size (default: ${DEFAULT_MEMSIZE})
       -n: network adapter emulation type (default: ${DEFAULT_NIC})
       -p: pass-through a host PCI device at bus/slot/func (e.g. 10/0/0)
       -P: UEFI GOP VNC port (default: ${DEFAULT_VNCPORT})
       -t: tap device for the network adapter (default: ${DEFAULT_TAPDEV}); repeat for more;
           a missing tap is created (and removed afterwards) when run as root
       -T: enable tablet device (for UEFI GOP)
       -u: RTC keeps UTC time
       -U: UUID of the VM (SMBIOS system UUID)
       -v: wait for VNC client connection before booting VM
       -w: ignore unimplemented MSRs

On Linux the guest boots through its firmware (SeaBIOS, or OVMF with -E); the framebuffer
options -F -L -P -v -T apply with -E. bhyve's exit status 0 (reboot) starts the VM again.
EOF
	[ -n "$msg" ] && errmsg "$msg"
	exit 1
}

force_install=0
isofile=${DEFAULT_ISOFILE}
memsize=${DEFAULT_MEMSIZE}
console=${DEFAULT_CONSOLE}
cpus=${DEFAULT_CPUS}
nic=${DEFAULT_NIC}
disk_emulation=${DEFAULT_DISK}
taps=()
disks=()
passes=()
loader_keys=()
bhyverun_opt=(-A -H -P)
host_base=""
uuid=""

# EFI-specific options
efi_mode=0
firmware=""
vncwait=""
vnchost=${DEFAULT_VNCHOST}
vncport=${DEFAULT_VNCPORT}
vncsize=${DEFAULT_VNCSIZE}
framebuffer=0
tablet=0

while getopts aAc:C:d:e:Ef:F:g:G:hH:iI:l:L:m:n:p:P:t:TuU:vw c; do
	case $c in
	a) bhyverun_opt+=(-a) ;;
	A) disk_emulation="ahci-hd" ;;
	c) cpus=${OPTARG} ;;
	C) console=${OPTARG} ;;
	d) disks+=("${OPTARG}") ;;
	e)
		case ${OPTARG} in
		boot.kernel=*|boot.initrd=*|boot.cmdline=*) loader_keys+=("${OPTARG}") ;;
		*) usage "-e ${OPTARG}: the loader keys on Linux are boot.kernel, boot.initrd and boot.cmdline" ;;
		esac
		;;
	E) efi_mode=1 ;;
	f) firmware=${OPTARG} ;;
	F) vncsize=${OPTARG}; framebuffer=1 ;;
	g) bhyverun_opt+=(-G "${OPTARG}") ;;
	G) bhyverun_opt+=(-G "${OPTARG}") ;;
	H) host_base=$(realpath -- "${OPTARG}") || usage "-H ${OPTARG}: no such directory" ;;
	i) force_install=1 ;;
	I) isofile=${OPTARG} ;;
	l) usage "-l ${OPTARG}: FreeBSD's userboot loader does not exist on Linux: the guest boots its firmware, or use -e boot.kernel=PATH" ;;
	L) vnchost=${OPTARG}; framebuffer=1 ;;
	m) memsize=${OPTARG} ;;
	n) nic=${OPTARG} ;;
	p) passes+=("${OPTARG}") ;;
	P) vncport=${OPTARG}; framebuffer=1 ;;
	t) taps+=("${OPTARG}") ;;
	T) tablet=1 ;;
	u) bhyverun_opt+=(-u) ;;
	U) uuid=${OPTARG} ;;
	v) vncwait=",wait"; framebuffer=1 ;;
	w) bhyverun_opt+=(-w) ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

[ ${#taps[@]} -eq 0 ] && taps=("${DEFAULT_TAPDEV}")
[ ${#disks[@]} -eq 0 ] && disks=("${DEFAULT_VIRTIO_DISK}")
[ $# -ne 1 ] && usage "virtual machine name not specified"
vmname="$1"
[ -n "$uuid" ] && bhyverun_opt+=(-U "$uuid")

# If PCI passthru devices are configured then guest memory must be wired.
[ ${#passes[@]} -gt 0 ] && bhyverun_opt+=(-S)

# Loader keys: relative paths are found in the -H directory (FreeBSD's host filesystem).
kernel_boot=0
loader_opt=()
for key in ${loader_keys[@]+"${loader_keys[@]}"}; do
	name=${key%%=*}
	value=${key#*=}
	case $name in
	boot.kernel|boot.initrd)
		[ "$name" = boot.kernel ] && kernel_boot=1
		if [ -n "$host_base" ] && [ "${value#/}" = "$value" ]; then
			value="$host_base/$value"
		fi
		;;
	esac
	loader_opt+=(-o "$name=$value")
done

if [ $kernel_boot -eq 0 ]; then
	if [ -z "$firmware" ]; then
		if [ $efi_mode -ne 0 ]; then
			firmware=$UEFI_FIRMWARE
			firmware_pkg=ovmf
		else
			firmware=$BIOS_FIRMWARE
			firmware_pkg=seabios
		fi
	fi
	if [ ! -f "$firmware" ]; then
		echo "Error: Firmware file ${firmware} doesn't exist."
		[ -n "${firmware_pkg:-}" ] && echo "       Try: apt-get install ${firmware_pkg}"
		exit 1
	fi
fi

# UEFI keeps its variables in a writable copy of the template, one per VM: beside the first disk
# when that is an image file, otherwise (a block device) in a state directory.
efi_vars=""
if [ $kernel_boot -eq 0 ] && [ $efi_mode -ne 0 ]; then
	first_disk=${disks[0]%%,*}
	if [ -e "$first_disk" ] && [ ! -f "$first_disk" ]; then
		if [ -n "${JBHYVE_STATE_DIR:-}" ]; then
			vars_dir=$JBHYVE_STATE_DIR
		elif [ "$(id -u)" -eq 0 ]; then
			vars_dir=/var/lib/jbhyve
		else
			vars_dir=${XDG_STATE_HOME:-$HOME/.local/state}/jbhyve
		fi
		mkdir -p -- "$vars_dir" || exit 1
	else
		vars_dir=$(dirname -- "$first_disk")
	fi
	efi_vars="$vars_dir/${vmname}_VARS.fd"
	if [ ! -e "$efi_vars" ]; then
		if [ ! -r "$UEFI_VARS_TEMPLATE" ]; then
			echo "Error: UEFI variable template ${UEFI_VARS_TEMPLATE} doesn't exist."
			echo "       Try: apt-get install ovmf"
			exit 1
		fi
		cp -- "$UEFI_VARS_TEMPLATE" "$efi_vars" || exit 1
		echo "UEFI variables of \"$vmname\" are kept in $efi_vars"
	fi
fi

make_and_check_diskdev() {
	local diskdev="$1"
	# Create the disk file if needed
	if [ ! -e "$diskdev" ]; then
		echo "virtio disk device file \"${diskdev}\" does not exist."
		echo "Creating it ..."
		truncate -s 8G -- "$diskdev" >/dev/null
	fi
	if [ ! -r "$diskdev" ]; then
		echo "virtio disk device file \"${diskdev}\" is not readable"
		exit 1
	fi
	if [ ! -w "$diskdev" ]; then
		echo "virtio disk device file \"${diskdev}\" is not writable"
		exit 1
	fi
}

# Whether a disk starts with a boot sector (the 0x55 0xAA signature at byte 510: an MBR, or the
# protective MBR of a GPT disk). FreeBSD asks file(1); it is not always installed on Linux.
has_boot_sector() {
	[ -r "$1" ] && [ "$(od -An -tx1 -j510 -N2 -- "$1" 2>/dev/null | tr -d ' \n')" = "55aa" ]
}

. "$here/lib/vmrun-tap.sh"

# The loop below runs bhyve in the background and waits for it, so that a SIGTERM sent to
# vmrun.sh can be passed on (bash would hold the trap until a foreground child exits). The
# child gets the terminal as its standard input and default SIGINT/SIGQUIT handling back.
bhyve_pid=""
stop_requested=0
interrupted=0
on_stop_signal() {
	stop_requested=1
	interrupted=1
	[ -n "$bhyve_pid" ] && kill -TERM "$bhyve_pid" 2>/dev/null
}
trap on_stop_signal TERM HUP
trap 'interrupted=1' INT
trap remove_created_taps EXIT

# Runs the VM once; returns bhyve's exit status.
run_bhyve() {
	( trap - INT QUIT TERM HUP; exec "$BHYVE" "$@" ) <&0 &
	bhyve_pid=$!
	[ $stop_requested -eq 1 ] && kill -TERM "$bhyve_pid" 2>/dev/null # asked just before $! was known
	local st
	while :; do
		interrupted=0
		wait "$bhyve_pid"
		st=$?
		# A trapped signal makes wait return early; bash keeps the status for the next wait.
		[ $interrupted -eq 1 ] || break
	done
	bhyve_pid=""
	return $st
}

echo "Launching virtual machine \"$vmname\" ..."

create_missing_taps "${taps[@]}"

# A VM of this name left registered (bhyvectl --create, bhyveload) would be booted instead.
[ -x "$BHYVECTL" ] && "$BHYVECTL" --vm="$vmname" --destroy >/dev/null 2>&1

while :; do
	first_diskdev=${disks[0]%%,*}
	if [ $force_install -eq 1 ] || { [ $kernel_boot -eq 0 ] && ! has_boot_sector "$first_diskdev"; }; then
		if [ ! -r "$isofile" ]; then
			echo "Installation CDROM image \"${isofile}\" is not readable"
			exit 1
		fi
		# ahci-cd: an AHCI controller with one ATAPI CD-ROM; bootindex=1 puts it first.
		installer_opt=(-s "31:0,ahci-cd,${isofile},bootindex=1")
	else
		installer_opt=()
	fi

	devargs=(-s 0:0,hostbridge -s 1:0,lpc)
	nextslot=2 # slot 0 is hostbridge, slot 1 is lpc
	for disk in "${disks[@]}"; do
		disk_dev=${disk%%,*}
		disk_opts=${disk#"$disk_dev"}
		make_and_check_diskdev "$disk_dev"
		devargs+=(-s "$nextslot:0,$disk_emulation,${disk_dev}${disk_opts}")
		nextslot=$((nextslot + 1))
	done
	for tap in "${taps[@]}"; do
		devargs+=(-s "$nextslot:0,${nic},${tap}")
		nextslot=$((nextslot + 1))
	done
	for pass in ${passes[@]+"${passes[@]}"}; do
		devargs+=(-s "$nextslot:0,passthru,${pass}")
		nextslot=$((nextslot + 1))
	done

	bootargs=()
	if [ $kernel_boot -eq 1 ]; then
		bootargs=("${loader_opt[@]}")
	elif [ $efi_mode -eq 1 ]; then
		bootargs=(-l "bootrom,${firmware},${efi_vars}")
		[ $framebuffer -eq 1 ] && bootargs+=(-s "29,fbuf,tcp=${vnchost}:${vncport},${vncsize}${vncwait}")
		[ $tablet -eq 1 ] && bootargs+=(-s 30,xhci,tablet)
	else
		bootargs=(-l "bootrom,${firmware}")
	fi

	# A stop asked for between two turns: do not start the VM again.
	if [ $stop_requested -eq 1 ]; then
		bhyve_exit=${bhyve_exit:-143}
		break
	fi
	run_bhyve -c "$cpus" -m "$memsize" "${bhyverun_opt[@]}" \
		"${bootargs[@]}" \
		"${devargs[@]}" \
		-l "com1,${console}" \
		${installer_opt[@]+"${installer_opt[@]}"} \
		"$vmname"
	bhyve_exit=$?
	# bhyve returns the following status codes:
	#  0 - VM has been reset
	#  1 - VM has been powered off
	#  2 - VM has been halted
	#  3 - VM generated a triple fault
	#  all other non-zero status codes are errors
	if [ $bhyve_exit -ne 0 ] || [ $stop_requested -eq 1 ]; then
		break
	fi
done

case $bhyve_exit in
0|1|2)
	# Clean up a registry entry when bhyve did not exit because of an error.
	[ -x "$BHYVECTL" ] && "$BHYVECTL" --vm="$vmname" --destroy >/dev/null 2>&1
	;;
esac

exit $bhyve_exit
