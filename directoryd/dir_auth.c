/* dir_auth.c - secret generation and hashing with libsodium. */
#include "dir_auth.h"

#include <sodium.h>
#include <string.h>

enum dir_rc dir_auth_init(void)
{
    return sodium_init() < 0 ? DIR_ERR_STATE : DIR_OK;
}

void dir_auth_hash(const char *secret, uint8_t out[DIR_AUTH_HASH_LEN])
{
    crypto_generichash(out, DIR_AUTH_HASH_LEN, (const unsigned char *)secret, strlen(secret),
                       NULL, 0);
}

void dir_auth_new_secret(char out[DIR_AUTH_SECRET_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, "dk_", 3);
    sodium_bin2hex(out + 3, 65, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

static const char *role_names[] = {"anonymous", "caseworker", "coordinator", "admin"};

int dir_auth_role_parse(const char *name)
{
    for (int i = 1; i < 4; i++)
        if (name && strcmp(name, role_names[i]) == 0)
            return i;
    return -1;
}

const char *dir_auth_role_name(enum dir_role role)
{
    return (unsigned)role < 4 ? role_names[role] : "unknown";
}
