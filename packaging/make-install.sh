#!/bin/sh
# What `make install` and `make uninstall` do on the live system (DESTDIR empty), as the
# Debian package's maintainer scripts do: the ampstream user (sysusers.d), the state and log
# directories (tmpfiles.d), /etc/ampstream group-readable by ampstream, systemd reloaded.
# usage: sh packaging/make-install.sh post-install SYSCONFDIR SYSUSERSDIR TMPFILESDIR
#        sh packaging/make-install.sh pre-uninstall
#        sh packaging/make-install.sh post-uninstall
set -eu
systemd_up() { [ -d /run/systemd/system ]; }
if [ "$(id -u)" -ne 0 ]; then
	echo "make-install: not root: no user, directories or systemd reload (run as root for those)"
	exit 0
fi
case $1 in
post-install)
	etc=$2/ampstream sysusers=$3/ampstream.conf tmpfiles=$4/ampstream.conf
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$sysusers"
	elif ! getent passwd ampstream >/dev/null; then
		useradd --system --user-group --home-dir /nonexistent --no-create-home \
		    --shell /usr/sbin/nologin --comment "ampstream event stream forwarder" ampstream
	fi
	if command -v systemd-tmpfiles >/dev/null; then
		systemd-tmpfiles --create "$tmpfiles"
	else
		install -d -o ampstream -g ampstream -m 0750 /var/lib/ampstream /var/log/ampstream
	fi
	chgrp ampstream "$etc" "$etc/ampstream.conf"
	chmod 0750 "$etc"
	chmod 0640 "$etc/ampstream.conf"
	if systemd_up; then systemctl daemon-reload; fi
	echo "installed; next: edit $etc/ampstream.conf, check it with" \
	    "'ampstream -n -c $etc/ampstream.conf', then 'systemctl enable --now ampstream'"
	;;
pre-uninstall)
	if systemd_up; then
		systemctl disable --now ampstream.service 2>/dev/null || true
		systemctl stop 'ampstream@*.service' 2>/dev/null || true
	fi
	;;
post-uninstall)
	if systemd_up; then systemctl daemon-reload; fi
	echo "kept: /etc/ampstream (configuration), /var/lib/ampstream (spool, dead letters)," \
	    "/var/log/ampstream and the ampstream user; remove them by hand if wanted"
	;;
*)
	echo "usage: $0 post-install SYSCONFDIR SYSUSERSDIR TMPFILESDIR | pre-uninstall | post-uninstall" >&2
	exit 2
	;;
esac
