/* dir_pdpa.h - the personal-data access log (PDPA): who read whose non-public contact points.
 *
 * A face that may show people's non-public contact points to an authenticated caller opens a
 * read on its thread (dir_pdpa_begin: who, through which face, which operation), the code that
 * puts a person's non-public contact points into the answer notes that person
 * (dir_pdpa_note_person, or dir_pdpa_note_id when the caller knows the person has some), and
 * the face closes the read (dir_pdpa_end). A read that showed nobody's non-public contact
 * points records nothing; anonymous callers never open one (they never see such data).
 *
 * Recording never blocks a reader: dir_pdpa_end copies the read into one allocation and
 * appends it to a bounded in-memory queue (a mutex held for a pointer store); a writer thread
 * takes the whole queue about once a second, folds the reads of one actor, face and operation
 * into one row (first and last time, number of reads, the people shown) and copies the rows
 * into PostgreSQL's access_log (schema/migrations/0017_access_log.sql). When the queue is
 * full (the writer stalled: PostgreSQL down or slow) new reads are dropped and counted
 * (dir_pdpa_stats, logged once a minute); rows that could not be written are kept, folded,
 * and retried. The same thread purges rows older than the retention period at start and then
 * daily.
 *
 * Without dir_pdpa_start (tests, fuzzing, CLI commands) reads are collected and discarded.
 */
#ifndef DIR_PDPA_H
#define DIR_PDPA_H

#include "dir_model.h"
#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>

struct dir_db;

/* The faces a read goes through (access_log.face). */
#define DIR_PDPA_JSON "json"
#define DIR_PDPA_LDAP "ldap"
#define DIR_PDPA_EXPORT "export"
#define DIR_PDPA_VCARD "vcard"

/* One read being answered, on the reader's stack; fields are private to dir_pdpa.c. */
struct dir_pdpa_read {
    const char *actor_kind, *actor_id, *face, *operation;
    long long *ids;
    int n, cap;
    struct dir_pdpa_read *outer;
    long long inline_ids[32];
};

struct dir_pdpa_opts {
    struct dir_db *db;  /* where access_log lives (the primary); borrowed */
    int retention_days; /* rows older than this are purged (at start, then daily) */
    int queue;          /* reads queued before new ones are dropped */
    int flush_ms;       /* how often the writer copies the queue to PostgreSQL */
};

/* Counters since the process started (they survive dir_pdpa_stop). */
struct dir_pdpa_stats {
    long long recorded; /* reads queued */
    long long dropped;  /* reads lost because the queue was full */
    long long written;  /* reads written to PostgreSQL */
    long long rows;     /* access_log rows written */
    long long failures; /* flushes or purges that failed */
    long long purged;   /* rows removed by the retention purge */
    long long purges;   /* purges run */
};

/* Starts the writer thread (the process has one access log). DIR_ERR_IO when the thread
 * cannot be started. Stop it with dir_pdpa_stop after every face has stopped. */
enum dir_rc dir_pdpa_start(const struct dir_pdpa_opts *o, char *err, size_t errlen);
/* Writes what is queued (one last try), stops the writer and frees it. No-op when not
 * started. */
void dir_pdpa_stop(void);
/* The retention period in days (365 until dir_pdpa_start sets it). */
int dir_pdpa_retention_days(void);
/* Copies the counters into OUT. */
void dir_pdpa_stats(struct dir_pdpa_stats *out);
/* Reads dropped so far because the queue was full (for /metrics). */
long long dir_pdpa_dropped(void);

/* Opens read R on this thread for ACTOR_KIND (api_client, person, local, ldap_bind, cli) and
 * ACTOR_ID, through FACE (DIR_PDPA_*), for OPERATION (a route pattern or LDAP operation). The
 * strings are borrowed until dir_pdpa_end. Reads nest (the inner one collects until closed). */
void dir_pdpa_begin(struct dir_pdpa_read *r, const char *actor_kind, const char *actor_id,
                    const char *face, const char *operation);
/* Notes that P was shown with its non-public contact points, when P has any and a read is
 * open on this thread. */
void dir_pdpa_note_person(const struct dir_person *p);
/* Notes person ID (known to have non-public contact points shown) in the open read, if any. */
void dir_pdpa_note_id(long long id);
/* True when a read is open on this thread. */
bool dir_pdpa_active(void);
/* Changes the face of the read open on this thread (a route that answers vCard, say). */
void dir_pdpa_set_face(const char *face);
/* Closes R and queues it when it noted anyone. */
void dir_pdpa_end(struct dir_pdpa_read *r);

/* For one-shot commands (directoryd export ...): closes R and writes it to DB at once, as
 * one row. DIR_ERR_DB with ERR when it could not be written. */
enum dir_rc dir_pdpa_end_write(struct dir_pdpa_read *r, struct dir_db *db, char *err,
                               size_t errlen);
/* The name of the OS user running this process into OUT ("uid N" without a name). */
void dir_pdpa_os_user(char *out, size_t n);

/* True when P has at least one non-public contact point. */
bool dir_pdpa_person_private(const struct dir_person *p);

#endif
