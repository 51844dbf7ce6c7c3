#ifndef EMBDIAG_CLIBPQ_SHIM_H
#define EMBDIAG_CLIBPQ_SHIM_H
// PostgreSQL's C client (Debian libpq-dev): connection URLs, ~/.pgpass, PGPASSWORD, cursors.
#include <libpq-fe.h>

// The one-line primary message of a failed result ('M' field).
static inline const char *embdiag_pq_primary_message(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
}

static void embdiag_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }

// Server NOTICE/WARNING messages would otherwise be printed on stderr by libpq.
static inline void embdiag_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, embdiag_pq_ignore_notice, 0);
}
#endif
