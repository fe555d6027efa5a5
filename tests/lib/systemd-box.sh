#!/usr/bin/env bash
# A real systemd (PID 1 inside a container) for testing the package and its units on a machine
# whose own PID 1 need not be systemd: a Debian bookworm root with systemd, made once with
# debootstrap and cached, booted with systemd-nspawn over an overlay so the cached root stays
# clean. Root only (debootstrap, mount, cgroups).
# Adapted from the project's research notes (shared/peers/systemd-box.sh and FINDINGS 4.1 at the
# time of writing, measured on hybrid-cgroup machines): build into a temp dir and rename (an
# interrupted debootstrap leaves no half root), a lock for parallel runs, the package's runtime
# libraries preinstalled, bounded waits, and exit codes instead of `set -e` surprises.
#
# usage: systemd-box.sh root CACHE               make CACHE/root once (no-op when it exists)
#        systemd-box.sh boot CACHE NAME [ARGS]   boot it as machine NAME (ARGS go to nspawn);
#                                                status 1 if systemd did not come up in 60 s
#        systemd-box.sh exec CACHE NAME CMD...   run CMD inside (PID 1's namespaces), clean env;
#                                                its exit status is CMD's
#        systemd-box.sh stop CACHE NAME          power off (bounded), unmount, remove cgroups
#        systemd-box.sh path CACHE NAME          print the host path of the container's /
# Without --private-network the container shares the host's network: a broker or a receiver on
# the host's 127.0.0.1 is reachable from inside as 127.0.0.1, and so is the Debian mirror.
# Env: BOX_MIRROR (default: the first URIs: of /etc/apt/sources.list.d/debian.sources).
set -u
[ $# -ge 2 ] || { echo "usage: $0 root|boot|exec|stop|path CACHE [NAME] ..." >&2; exit 2; }
cmd=$1 cache=$2; shift 2
# What the root gets besides systemd: the package's runtime dependencies, so that
# `apt install ./ampstream_*.deb` inside needs no download (it still may, if they change).
BOX_PKGS="systemd,systemd-sysv,dbus,ca-certificates,libevent-2.1-7,libevent-openssl-2.1-7,\
librabbitmq4,libjson-c5,libconfig9,libcurl4,libssl3,libsystemd0,logrotate"

die() { echo "systemd-box: $*" >&2; exit 1; }

make_root() {
	# a root made with another package list is made again (the list is stamped in it)
	[ -x "$cache/root/lib/systemd/systemd" ] &&
	    [ "$(cat "$cache/root/.box-pkgs" 2>/dev/null)" = "$BOX_PKGS" ] && return 0
	rm -rf "$cache/root"
	command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null ||
	    die "needs debootstrap and systemd-nspawn (systemd-container): sh tests/lib/install-deps.sh"
	mirror=${BOX_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)}
	mirror=${mirror:-http://deb.debian.org/debian}
	rm -rf "$cache/root.tmp"
	if ! debootstrap --variant=minbase --include="$BOX_PKGS" bookworm "$cache/root.tmp" \
	    "$mirror" >"$cache/debootstrap.log" 2>&1; then
		tail -n 5 "$cache/debootstrap.log" >&2; rm -rf "$cache/root.tmp"
		die "debootstrap failed (log: $cache/debootstrap.log)"
	fi
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then    # the host's sources (+ security)
		cp /etc/apt/sources.list.d/debian.sources "$cache/root.tmp/etc/apt/sources.list.d/"
		rm -f "$cache/root.tmp/etc/apt/sources.list"
	fi
	# package lists, so that apt inside can resolve a dependency the root lacks
	chroot "$cache/root.tmp" apt-get update -qq >>"$cache/debootstrap.log" 2>&1 || true
	chroot "$cache/root.tmp" apt-get clean >/dev/null 2>&1 || true
	echo box > "$cache/root.tmp/etc/hostname"
	echo "$BOX_PKGS" > "$cache/root.tmp/.box-pkgs"
	mv "$cache/root.tmp" "$cache/root"
}

init_pid() { cat "$cache/run/$1/init.pid" 2>/dev/null; }

case $cmd in
root)
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock -w 900 9 || die "lock $cache/.lock held for 15 min"
	make_root
	;;
boot)
	name=$1; shift; run=$cache/run/$name
	[ -d "$cache/root" ] || die "no root in $cache (run: $0 root $cache)"
	mkdir -p "$run/upper" "$run/work" "$run/root"
	mount -t overlay overlay -o "lowerdir=$cache/root,upperdir=$run/upper,workdir=$run/work" \
	    "$run/root" || die "overlay mount failed"
	# PID 1 here may not be systemd: give nspawn cgroups of its own that it may write to
	# (hybrid hierarchy: cgroup2 at unified/, name=systemd at systemd/).
	for h in unified systemd; do
		[ -d "/sys/fs/cgroup/$h" ] && mkdir -p "/sys/fs/cgroup/$h/box-$name"
	done
	( for h in unified systemd; do
		[ -d "/sys/fs/cgroup/$h/box-$name" ] &&
		    echo $BASHPID > "/sys/fs/cgroup/$h/box-$name/cgroup.procs"
	  done
	  exec systemd-nspawn -D "$run/root" -M "$name" -b --register=no --keep-unit \
	      --console=read-only "$@" ) </dev/null >"$run/console.log" 2>&1 &
	echo $! > "$run/nspawn.pid"
	init=""
	for _ in $(seq 100); do
		init=$(cat /proc/"$(cat "$run/nspawn.pid")"/task/*/children 2>/dev/null | awk '{print $1}')
		[ -n "$init" ] && [ "$(cat /proc/"$init"/comm 2>/dev/null)" = systemd ] && break
		init=""; sleep 0.1
	done
	[ -n "$init" ] || { tail -n 5 "$run/console.log" >&2; die "$name: nspawn started no systemd"; }
	echo "$init" > "$run/init.pid"
	st=""
	for _ in $(seq 600); do    # the system bus comes up a moment after PID 1
		st=$(timeout 10 "$0" exec "$cache" "$name" systemctl is-system-running --wait 2>/dev/null)
		case $st in running|degraded) echo "$name: $st"; exit 0 ;; esac
		sleep 0.1
	done
	echo "$name: systemd did not come up: ${st:-no answer}" >&2
	exit 1
	;;
exec)
	name=$1; shift
	init=$(init_pid "$name")
	[ -n "$init" ] || die "$name is not running"
	exec nsenter -t "$init" -m -u -i -n -p -- \
	    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
	;;
path)
	echo "$cache/run/$1/root"
	;;
stop)
	name=$1; run=$cache/run/$name
	[ -d "$run" ] || exit 0
	p=$(cat "$run/nspawn.pid" 2>/dev/null)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		timeout 10 "$0" exec "$cache" "$name" systemctl poweroff --no-block >/dev/null 2>&1 ||
		    kill "$p"
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && { kill -KILL "$p"; sleep 0.5; }
	fi
	mountpoint -q "$run/root" && { umount "$run/root" || umount -l "$run/root"; }
	for h in unified systemd; do
		[ -d "/sys/fs/cgroup/$h/box-$name" ] &&
		    find "/sys/fs/cgroup/$h/box-$name" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$run"
	;;
*)
	echo "usage: $0 root|boot|exec|stop|path CACHE [NAME] ..." >&2; exit 2
	;;
esac
exit 0
