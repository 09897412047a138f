/* dir_auth.h - API client secrets: generation and hashing (libsodium).
 *
 * Secrets are 32 random bytes shown once as "dk_" + 64 hex digits. Only their BLAKE2b-256
 * hash (crypto_generichash) is stored: a secret of 256 random bits needs no slow password
 * hash, and a fast one lets every request be checked without a database round trip. Staff
 * and local passwords (a later issue) use argon2id instead. Secrets are never logged.
 */
#ifndef DIR_AUTH_H
#define DIR_AUTH_H

#include "dir_rc.h"
#include <stddef.h>
#include <stdint.h>

#define DIR_AUTH_HASH_LEN 32
#define DIR_AUTH_SECRET_LEN 67 /* "dk_" + 64 hex digits */

enum dir_role { DIR_ROLE_ANON = 0, DIR_ROLE_CASEWORKER, DIR_ROLE_COORDINATOR, DIR_ROLE_ADMIN };

/* Initialises libsodium; call once before threads start. DIR_ERR_STATE if it cannot. */
enum dir_rc dir_auth_init(void);
/* Hashes SECRET into OUT. */
void dir_auth_hash(const char *secret, uint8_t out[DIR_AUTH_HASH_LEN]);
/* Writes a new random secret, NUL-terminated, into OUT (DIR_AUTH_SECRET_LEN + 1 bytes). */
void dir_auth_new_secret(char out[DIR_AUTH_SECRET_LEN + 1]);
/* Parses "caseworker", "coordinator" or "admin"; -1 for anything else. */
int dir_auth_role_parse(const char *name);
/* A static name for ROLE ("anonymous" for DIR_ROLE_ANON). */
const char *dir_auth_role_name(enum dir_role role);

#endif
