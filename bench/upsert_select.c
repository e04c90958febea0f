/* The reference point for "FastCGI plus the SQLite work": a minimal C responder that, per
 * announce, runs one upsert and one select in a write transaction on a WAL database on tmpfs, with
 * a busy handler that yields instead of sleeping, and replies with the compact peers it found.
 * No validation, no counts, no expiry, IPv4 only: whatever Shoal costs above this is the price of
 * doing the job properly, plus Swift. The database is BENCH_DB. */
#include <fcgiapp.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

static int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copies the percent-decoded value of key into out (at most max bytes); returns its length or -1. */
static int param(const char *query, const char *key, unsigned char *out, int max) {
    size_t key_length = strlen(key);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, key, key_length) != 0 || p[key_length] != '=') continue;
        int n = 0;
        for (const char *v = p + key_length + 1; *v && *v != '&' && n < max; v++) {
            if (*v == '%' && hex(v[1]) >= 0 && hex(v[2]) >= 0) {
                out[n++] = (unsigned char)(hex(v[1]) * 16 + hex(v[2]));
                v += 2;
            } else {
                out[n++] = (unsigned char)*v;
            }
        }
        return n;
    }
    return -1;
}

static int yield_when_busy(void *unused, int attempts) {
    (void)unused;
    if (attempts > 200000) return 0;
    sched_yield();
    return 1;
}

int main(void) {
    sqlite3 *db;
    sqlite3_stmt *upsert, *select;
    if (sqlite3_open(getenv("BENCH_DB"), &db) != SQLITE_OK) return 1;
    sqlite3_busy_handler(db, yield_when_busy, NULL);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                     "CREATE TABLE IF NOT EXISTS peers (info_hash BLOB, endpoint BLOB, expires INTEGER,"
                     " PRIMARY KEY (info_hash, endpoint)) WITHOUT ROWID;", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO peers VALUES (?1, ?2, unixepoch() + 2700)"
                           " ON CONFLICT DO UPDATE SET expires = excluded.expires", -1, &upsert, NULL);
    sqlite3_prepare_v2(db, "SELECT endpoint FROM peers WHERE info_hash = ?1 AND endpoint > ?2 LIMIT 50", -1,
                       &select, NULL);

    FCGX_Request request;
    FCGX_Init();
    FCGX_InitRequest(&request, 0, 0);
    static char body[512], out[1024];
    while (FCGX_Accept_r(&request) >= 0) {
        const char *query = FCGX_GetParam("QUERY_STRING", request.envp);
        const char *remote = FCGX_GetParam("REMOTE_ADDR", request.envp);
        unsigned char hash[20], port_text[8], endpoint[6], start[6];
        int port_length = param(query, "port", port_text, 7);
        struct in_addr address;
        if (param(query, "info_hash", hash, 20) != 20 || port_length <= 0 || !remote || inet_pton(AF_INET, remote, &address) != 1) {
            static const char failure[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nd14:failure reason3:bade";
            FCGX_PutStr(failure, sizeof failure - 1, request.out);
            FCGX_Finish_r(&request);
            continue;
        }
        port_text[port_length] = 0;
        int port = atoi((char *)port_text);
        memcpy(endpoint, &address, 4);
        endpoint[4] = (unsigned char)(port >> 8);
        endpoint[5] = (unsigned char)port;
        for (int i = 0; i < 6; i++) start[i] = (unsigned char)rand();

        int peers = 0;
        char *cursor = body;
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_blob(upsert, 1, hash, 20, SQLITE_STATIC);
        sqlite3_bind_blob(upsert, 2, endpoint, 6, SQLITE_STATIC);
        sqlite3_step(upsert);
        sqlite3_reset(upsert);
        sqlite3_bind_blob(select, 1, hash, 20, SQLITE_STATIC);
        sqlite3_bind_blob(select, 2, start, 6, SQLITE_STATIC);
        char peer_bytes[300];
        while (sqlite3_step(select) == SQLITE_ROW && peers < 50) {
            if (sqlite3_column_bytes(select, 0) != 6) continue;
            memcpy(peer_bytes + 6 * peers++, sqlite3_column_blob(select, 0), 6);
        }
        sqlite3_reset(select);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

        cursor += sprintf(cursor, "d8:completei0e10:incompletei%de8:intervali1800e5:peers%d:", peers, peers * 6);
        memcpy(cursor, peer_bytes, 6 * peers);
        cursor += 6 * peers;
        *cursor++ = 'e';
        int length = sprintf(out, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
                             (int)(cursor - body));
        memcpy(out + length, body, cursor - body);
        FCGX_PutStr(out, length + (int)(cursor - body), request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
