/* dir_rc.h - result codes shared by every directoryd module.
 *
 * Functions return an enum dir_rc (DIR_OK = 0) and write results through out-parameters,
 * freeing what they made on failure (as curl does).
 */
#ifndef DIR_RC_H
#define DIR_RC_H

enum dir_rc {
    DIR_OK = 0,
    DIR_ERR_INVALID,  /* bad input from a caller or a file */
    DIR_ERR_NOTFOUND, /* no such entity or file */
    DIR_ERR_IO,       /* the operating system said no */
    DIR_ERR_DB,       /* PostgreSQL said no, or is not there */
    DIR_ERR_LIMIT,    /* a size cap was reached */
    DIR_ERR_STATE     /* called in the wrong state */
};

/* A static English name for a result code; never NULL. */
const char *dir_rc_str(enum dir_rc rc);

#endif
