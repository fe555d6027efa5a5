/*
 * secret.h: read a secret (API key, AMQP password, TLS key) from a file or a
 * systemd credential, refusing files others could read.
 *
 * Accepted as PostgreSQL accepts a server key: owned by the running user with
 * mode 0600 or stricter, or owned by root with mode 0640 or stricter.
 */
#ifndef AMPSTREAM_SECRET_H
#define AMPSTREAM_SECRET_H

#include <stddef.h>

#define SECRET_MAX	4096	/* bytes; a longer file is refused */

/*
 * Read path; trailing CR/LF are removed.  Returns a malloc'd string, or NULL
 * with *cause set to a malloc'd message naming the path (and owner and mode
 * when permissions are the problem).
 */
char	*secret_read_file(const char *path, char **cause);

/* Same for $CREDENTIALS_DIRECTORY/id (systemd LoadCredential=). */
char	*secret_read_credential(const char *id, char **cause);

/* Check only the permissions of path (for TLS key files read by OpenSSL). */
int	 secret_check_perms(const char *path, char **cause);

/* Overwrite and free a secret. */
void	 secret_free(char *);

#endif
