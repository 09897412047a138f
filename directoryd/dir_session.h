/* dir_session.h - staff log in: passwords checked by the city LDAP (or a local account),
 * sessions as signed cookies, CSRF tokens, and a brake on password guessing.
 *
 * Staff passwords are checked by a simple bind against the city LDAP (search the user's DN
 * with the service account, then bind as the user) and never stored. Partners' coordinators
 * who are not in the city LDAP have local accounts with argon2id hashes. A session is a
 * token "v2.<sid>.<kind>.<role>.<issued ms>.<expires>.<hex username>.<mac>" signed with
 * HMAC-SHA-256 under the database's server key, so any directoryd on the same database
 * accepts it. The role in the token is only where the role starts from (for city staff, their
 * LDAP groups at login): each request takes the role the database gives now (the local
 * account's role, or an admin's staff-role setting), so a lowered role applies at once, and a
 * removed or disabled local account ends its sessions. A logout ends every session of the
 * user (on every daemon): it records the mark "u.<hex username>.<ms>" among the revoked
 * session ids, which reach all daemons through the change log, and sessions issued before
 * it are refused. Requests that change state with a session cookie (every method but GET and
 * HEAD, logout included, login excepted) must carry the session's CSRF token in
 * X-CSRF-Token.
 *
 * Usernames are [a-z0-9._@-]{1,64} after ASCII lower-casing (the city LDAP matches uid
 * without regard to case, spaces or compatibility forms, so any looser spelling would be a
 * second name for the same account, with a brake entry, logout mark and staff role of its
 * own); any other name is refused like a wrong password and counted against the address
 * only. Failed logins are limited per username
 * (5 in 15 minutes) and per address (20 in 15 minutes), in memory per daemon (login_brake_slots);
 * a braked entry is kept until its window ends, so a flood of new names cannot evict it, and
 * when every slot is braked, new names wait too (429). Answers never say whether the name or
 * the password was wrong.
 */
#ifndef DIR_SESSION_H
#define DIR_SESSION_H

#include "dir_auth.h"
#include "dir_cfg.h"
#include "dir_db.h"
#include "dir_model.h"

struct dir_sessions;

struct dir_session_info {
    char sid[33];
    char username[65];
    char kind[8]; /* person (city LDAP staff) or local */
    enum dir_role role;
    enum dir_role base_role; /* at login: the city LDAP groups' role, or the local account's */
    long long expires;       /* epoch seconds */
    long long issued_ms;     /* epoch milliseconds */
    char csrf[33];
};

enum dir_login {
    DIR_LOGIN_OK = 0,
    DIR_LOGIN_BAD,        /* wrong username or password (which, we never say) */
    DIR_LOGIN_LIMITED,    /* too many failures: wait *RETRY_AFTER seconds */
    DIR_LOGIN_UNAVAILABLE /* the city LDAP or PostgreSQL could not be asked */
};

/* Loads the server key from READ_DB (may be NULL, or a standby), else loads or creates it
 * through DB (the write database, used for every session write too). CFG and DB are
 * borrowed and must outlive the result; free with dir_session_free. */
enum dir_rc dir_session_init(const struct dir_cfg *cfg, struct dir_db *db, struct dir_db *read_db,
                             struct dir_sessions **out, char *err, size_t errlen);
void dir_session_free(struct dir_sessions *s);
/* Sessions signed with KEY and no database, for unit tests and fuzzing: tokens verify
 * against the model only (roles as in the token), logins and logouts answer unavailable.
 * CFG is borrowed; free with dir_session_free. */
struct dir_sessions *dir_session_new_for_tests(const struct dir_cfg *cfg, const uint8_t key[32]);

/* The session username for IN (ASCII lower-cased into OUT) when IN is [A-Za-z0-9._@-]{1,64};
 * false (OUT empty) for any other name, which can never log in. */
bool dir_session_username(const char *in, char out[65]);
/* IN as it may be written to a log: bytes outside [A-Za-z0-9._@-] as \xNN, cut to fit N
 * (N > 0) bytes with its NUL. */
void dir_session_log_name(const char *in, char *out, size_t n);

/* Checks USERNAME/PASSWORD; on DIR_LOGIN_OK writes the cookie value into TOKEN and fills
 * INFO. ADDRESS is the caller's IP (for the failure brake). ERR says why for the log only. */
enum dir_login dir_session_login(struct dir_sessions *s, const char *username, const char *password,
                                 const char *address, char *token, size_t tn,
                                 struct dir_session_info *info, int *retry_after, char *err,
                                 size_t errlen);

/* Verifies a cookie value: signature, expiry, (against M) revocation and logout, and sets
 * INFO->role from the database now (see above); false when the session no longer holds. */
bool dir_session_verify(struct dir_sessions *s, const struct dir_model *m, const char *token,
                        struct dir_session_info *info);

/* Checks a login made earlier (INFO as dir_session_login or dir_session_verify filled it)
 * against now: false when its user logged out everywhere since (logout marks in M), or the
 * account is gone or disabled; else sets INFO->role to the role the database gives now (the
 * role at login when the database cannot answer). Asks PostgreSQL: call it from a thread
 * that may wait a little, and not on every request of a busy connection. */
bool dir_session_recheck(struct dir_sessions *s, const struct dir_model *m,
                         struct dir_session_info *info);

/* Ends every session of INFO's user on every daemon; *SEQ is the change that carries it. */
enum dir_rc dir_session_logout(struct dir_sessions *s, const struct dir_session_info *info,
                               long long *seq, char *err, size_t errlen);

/* Hashes PASSWORD for a local account (argon2id); HASH needs 128 bytes. */
enum dir_rc dir_session_hash_password(const char *password, char *hash, size_t n);

/* Ends every session of USERNAME issued until now, on every daemon (a logout mark, as
 * dir_session_logout; used when an admin sets a new password). *SEQ is the change to wait for. */
enum dir_rc dir_session_end_all(struct dir_db *db, const char *username, long long *seq,
                                char *err, size_t errlen);

#endif
