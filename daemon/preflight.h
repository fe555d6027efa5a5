/*
 * preflight.h: what start-up would hit, for `ampstream -n`.
 *
 * config_load() checks the syntax and the values; preflight_check() checks the
 * files behind them as the calling user: every CA, certificate and key
 * readable and parseable, every file sink's directory and state_dir
 * writable.  Errors ("FILE:LINE: KEY: message\n") fail the check; warnings
 * (a file sink the packaged unit cannot write) do not.
 */
#ifndef AMPSTREAM_PREFLIGHT_H
#define AMPSTREAM_PREFLIGHT_H

#include "config.h"

/* Directories the packaged unit may write (ProtectSystem=strict). */
#define PREFLIGHT_LOGS_DIR	"/var/log/ampstream"
#define PREFLIGHT_STATE_DIR	"/var/lib/ampstream"

/* Append errors and warnings to *errors / *warnings (malloc'd or NULL). */
int	 preflight_check(const struct config *, char **errors, char **warnings);

/* Become user (and its groups) for the checks; -1 and *cause on failure. */
int	 preflight_become(const char *user, const char **cause);

#endif
