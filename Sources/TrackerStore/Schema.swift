/// The text of `schema.sql`, applied on every open. A test keeps it byte-equal to the file;
/// regenerate with `make schema`.
enum Schema {
    static let sql = """
-- Shoal's two databases: the one source of truth for their tables. The program applies each
-- section below, unchanged, every time it opens that database (Sources/TrackerStore/Schema.swift
-- embeds a copy that a test keeps equal to this file). Every statement is idempotent.

-- ==== peers database ====
-- `database`: meant for tmpfs (/dev/shm) or memory. Peers re-announce every interval, so a
-- reboot loses only what the next half hour rebuilds; the completed counts are copied to the
-- control database and come back from there.

-- Every peer of every swarm, one row each. A peer is identified by (info_hash, endpoint): the
-- unique index below makes a re-announce update its row in place, and a client that restarts
-- with a new peer_id replaces its entry instead of duplicating it (as in opentracker).
--
-- The primary key orders each swarm by (seeding, shuffle): a reply is one range read starting at
-- a random shuffle value, so its cost does not depend on the swarm's size, and seeders can be
-- given only peers that still download. shuffle is drawn when a peer joins (or announces
-- `started`, or starts or stops seeding); a regular re-announce then updates its row in place,
-- which touches one page instead of moving the row in both B-trees.
CREATE TABLE IF NOT EXISTS peers (
    info_hash BLOB    NOT NULL,  -- 20 bytes, as the client sent it
    seeding   INTEGER NOT NULL,  -- 1: a seeder or BEP 21 partial seed (wants only downloaders)
    shuffle   INTEGER NOT NULL,  -- random signed 32-bit key (4 bytes on disk): the peer's place in the swarm's random order
    endpoint  BLOB    NOT NULL,  -- compact address + port: 6 bytes IPv4 (BEP 23), 18 IPv6 (BEP 7)
    peer_id   BLOB    NOT NULL,  -- 20 bytes, for non-compact replies
    complete  INTEGER NOT NULL,  -- 1 when left = 0: counted in `complete`, else `incomplete`
    completed INTEGER NOT NULL,  -- 1 once this peer's event=completed has been counted
    expires   INTEGER NOT NULL,  -- Unix time after which the peer is no longer handed out
    announced INTEGER NOT NULL DEFAULT 0,  -- Unix time of its last announce (early-announce); a
                                           -- database from before it gets the column on open
    PRIMARY KEY (info_hash, seeding, shuffle, endpoint)
) WITHOUT ROWID;

CREATE UNIQUE INDEX IF NOT EXISTS peers_by_endpoint ON peers (info_hash, endpoint);

-- Per-swarm counts, kept by the triggers below in the same transaction as the change to peers,
-- so that replies and scrapes never count rows (COUNT(*) over a big swarm is what made the PHP
-- trackers slow) and can never disagree with them. A row goes away with its last peer unless
-- the swarm has completed downloads to remember.
CREATE TABLE IF NOT EXISTS torrents (
    info_hash  BLOB    PRIMARY KEY,
    seeders    INTEGER NOT NULL DEFAULT 0,
    leechers   INTEGER NOT NULL DEFAULT 0,
    downloaded INTEGER NOT NULL DEFAULT 0   -- completions ever counted (BEP 48 `downloaded`)
) WITHOUT ROWID;

-- Swarms whose `downloaded` grew since it was last copied to the control database. The copy runs
-- every few minutes (`counts-save-interval`), so no announce writes to the disk.
CREATE TABLE IF NOT EXISTS unsaved_counts (
    info_hash BLOB PRIMARY KEY
) WITHOUT ROWID;

-- Facts about this database file, by name: `created` (Unix time), `counts_restored` (the control
-- database's counts were added once), `counts_saved_at` (Unix time of the last copy, which one
-- worker claims).
CREATE TABLE IF NOT EXISTS facts (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO facts (name, value) SELECT 'created', CAST(strftime('%s', 'now') AS INTEGER)
WHERE NOT EXISTS (SELECT 1 FROM facts WHERE name = 'created');

-- BEP 21 partial seeds per swarm (peers that seed what they want but are not complete): a scrape
-- reports `downloaders` = leechers - partial seeds. A row exists only while the count is not 0.
CREATE TABLE IF NOT EXISTS partial_seeds (
    info_hash BLOB    PRIMARY KEY,
    count     INTEGER NOT NULL
) WITHOUT ROWID;

-- Tracker-wide totals for /stats, kept by triggers in the same transaction as every change, so no
-- statistics request counts rows. One row; a database made by an earlier version (without it)
-- gets it from one count of its rows, once.
CREATE TABLE IF NOT EXISTS totals (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    torrents  INTEGER NOT NULL,  -- rows of `torrents`: swarms with peers or completions
    seeders   INTEGER NOT NULL,
    leechers  INTEGER NOT NULL,
    ipv4      INTEGER NOT NULL,  -- peers with an IPv4 endpoint
    ipv6      INTEGER NOT NULL,
    completed INTEGER NOT NULL   -- the sum of `torrents.downloaded`
);

INSERT INTO totals (id, torrents, seeders, leechers, ipv4, ipv6, completed)
SELECT 1, (SELECT count(*) FROM torrents), (SELECT count(*) FROM peers WHERE complete = 1),
    (SELECT count(*) FROM peers WHERE complete = 0), (SELECT count(*) FROM peers WHERE length(endpoint) = 6),
    (SELECT count(*) FROM peers WHERE length(endpoint) = 18), (SELECT coalesce(sum(downloaded), 0) FROM torrents)
WHERE NOT EXISTS (SELECT 1 FROM totals);

-- The triggers: one per change to `peers`, each keeping the swarm's counts (`torrents`), the
-- partial seeds, the totals and the marks for unsaved completions in the same transaction. One
-- trigger per event, not one per table it keeps: each trigger costs a sub-program run per row,
-- whatever its WHEN says, and a re-announce is the hot path. Names of earlier versions' triggers
-- are dropped first, so that a database made by one of them gets these.
DROP TRIGGER IF EXISTS peers_insert;
DROP TRIGGER IF EXISTS peers_update;
DROP TRIGGER IF EXISTS peers_delete;
DROP TRIGGER IF EXISTS torrents_count_grew;
DROP TRIGGER IF EXISTS torrents_count_new;
DROP TRIGGER IF EXISTS peers_partial_insert;
DROP TRIGGER IF EXISTS peers_partial_update;
DROP TRIGGER IF EXISTS peers_partial_delete;
DROP TRIGGER IF EXISTS peers_totals_insert;
DROP TRIGGER IF EXISTS peers_totals_update;
DROP TRIGGER IF EXISTS peers_totals_delete;
DROP TRIGGER IF EXISTS torrents_totals_insert;
DROP TRIGGER IF EXISTS torrents_totals_update;
DROP TRIGGER IF EXISTS torrents_totals_delete;

CREATE TRIGGER IF NOT EXISTS peer_joined AFTER INSERT ON peers BEGIN
    INSERT INTO torrents (info_hash, seeders, leechers, downloaded)
    VALUES (new.info_hash, new.complete, 1 - new.complete, new.completed)
    ON CONFLICT (info_hash) DO UPDATE SET
        seeders = seeders + excluded.seeders,
        leechers = leechers + excluded.leechers,
        downloaded = downloaded + excluded.downloaded;
    UPDATE totals SET seeders = seeders + new.complete, leechers = leechers + 1 - new.complete,
        ipv4 = ipv4 + (length(new.endpoint) = 6), ipv6 = ipv6 + (length(new.endpoint) = 18),
        completed = completed + new.completed;
    INSERT INTO partial_seeds (info_hash, count) SELECT new.info_hash, 1 WHERE new.seeding = 1 AND new.complete = 0
    ON CONFLICT (info_hash) DO UPDATE SET count = count + 1;
    INSERT INTO unsaved_counts (info_hash) SELECT new.info_hash WHERE new.completed = 1
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER IF NOT EXISTS peer_changed AFTER UPDATE ON peers
WHEN new.complete <> old.complete OR new.completed <> old.completed OR new.seeding <> old.seeding BEGIN
    UPDATE torrents SET
        seeders = seeders + new.complete - old.complete,
        leechers = leechers + old.complete - new.complete,
        downloaded = downloaded + new.completed - old.completed
    WHERE info_hash = new.info_hash;
    UPDATE totals SET seeders = seeders + new.complete - old.complete,
        leechers = leechers + old.complete - new.complete, completed = completed + new.completed - old.completed;
    -- +1 when the peer became a partial seed, -1 when it stopped being one.
    INSERT INTO partial_seeds (info_hash, count)
    SELECT new.info_hash, (new.seeding = 1 AND new.complete = 0) - (old.seeding = 1 AND old.complete = 0)
    WHERE (new.seeding = 1 AND new.complete = 0) <> (old.seeding = 1 AND old.complete = 0)
    ON CONFLICT (info_hash) DO UPDATE SET count = count + excluded.count;
    DELETE FROM partial_seeds WHERE info_hash = new.info_hash AND count = 0;
    INSERT INTO unsaved_counts (info_hash) SELECT new.info_hash WHERE new.completed > old.completed
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER IF NOT EXISTS peer_left AFTER DELETE ON peers BEGIN
    UPDATE torrents SET
        seeders = seeders - old.complete,
        leechers = leechers - (1 - old.complete)
    WHERE info_hash = old.info_hash;
    DELETE FROM torrents
    WHERE info_hash = old.info_hash AND seeders = 0 AND leechers = 0 AND downloaded = 0;
    UPDATE totals SET seeders = seeders - old.complete, leechers = leechers - 1 + old.complete,
        ipv4 = ipv4 - (length(old.endpoint) = 6), ipv6 = ipv6 - (length(old.endpoint) = 18);
    UPDATE partial_seeds SET count = count - 1 WHERE info_hash = old.info_hash AND old.seeding = 1 AND old.complete = 0;
    DELETE FROM partial_seeds WHERE info_hash = old.info_hash AND count = 0;
END;

-- Swarms come and go far less often than peers: counting them here costs nothing per announce.
CREATE TRIGGER IF NOT EXISTS torrent_added AFTER INSERT ON torrents BEGIN
    UPDATE totals SET torrents = torrents + 1;
END;

CREATE TRIGGER IF NOT EXISTS torrent_removed AFTER DELETE ON torrents BEGIN
    UPDATE totals SET torrents = torrents - 1, completed = completed - old.downloaded;
END;

-- A random number drawn when this database file was made: the ledger's `epoch`. A site that
-- drains the ledger keeps it with its position, and starts over when it changes (the peers
-- database was recreated, so its sequence numbers start again).
INSERT INTO facts (name, value) SELECT 'epoch', 1 + (random() & 4503599627370495)
WHERE NOT EXISTS (SELECT 1 FROM facts WHERE name = 'epoch');

-- Private tracking: one row per session, a client's run on a torrent for a user, keyed by
-- (user, info_hash, peer_id, port) and not by address, so that one client announcing over IPv4
-- and IPv6, from two interfaces or to two URLs is one session and is credited once. Each
-- announce compares the client's counters with the row's and appends what they grew by to the
-- ledger, in the same transaction. Sessions outlive the peer list by `session-days`.
CREATE TABLE IF NOT EXISTS sessions (
    user         INTEGER NOT NULL,  -- the site's user id (from the token or passkey)
    info_hash    BLOB    NOT NULL,
    peer_id      BLOB    NOT NULL,
    port         INTEGER NOT NULL,
    uploaded     INTEGER NOT NULL,  -- the client's counters at its last announce: the baseline
    downloaded   INTEGER NOT NULL,
    left         INTEGER NOT NULL,
    announced    INTEGER NOT NULL,  -- Unix time of the last announce
    snatched     INTEGER NOT NULL,  -- 1 once a `completed` was credited (a snatch, once per session)
    -- Credit not yet written because the ledger was at `ledger-max-rows`: it goes out with the
    -- session's next row. `ended`: stopped then; the upkeep's sweep writes its last row when it
    -- comes by with room in the ledger (no index on it: every announce would pay to keep one).
    owed_uploaded   INTEGER NOT NULL DEFAULT 0,
    owed_downloaded INTEGER NOT NULL DEFAULT 0,
    owed_seconds    INTEGER NOT NULL DEFAULT 0,
    owed_seeding    INTEGER NOT NULL DEFAULT 0,
    owed_flags      INTEGER NOT NULL DEFAULT 0,
    owed_snatch     INTEGER NOT NULL DEFAULT 0,
    ended           INTEGER NOT NULL DEFAULT 0,
    -- info_hash first: a popular torrent's sessions share pages, so a batch of announces dirties
    -- (and writes to the WAL) fewer of them than random keys would.
    PRIMARY KEY (info_hash, user, peer_id, port)
) WITHOUT ROWID;

-- What the site drains, exactly once: one row per private announce (and per session expiry),
-- numbered by `seq`, which only grows. Rows stay until the site acknowledges them; acknowledging
-- deletes them all but the newest, which stays as the high-water mark so that the next row is
-- numbered after it (a rowid is max + 1; AUTOINCREMENT would do the same at the cost of one more
-- page written per batch). The fact `ledger_acked` is the last seq acknowledged: rows up to it are
-- never served again.
CREATE TABLE IF NOT EXISTS ledger (
    seq        INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,  -- Unix time
    user       INTEGER NOT NULL,
    info_hash  BLOB    NOT NULL,
    event      TEXT    NOT NULL,  -- started, update, completed (a snatch), stopped, paused, expired
    uploaded   INTEGER NOT NULL,  -- bytes credited: what the client's counter grew by
    downloaded INTEGER NOT NULL,
    seconds    INTEGER NOT NULL,  -- since the session's previous announce
    seeding    INTEGER NOT NULL,  -- of which the client was seeding (its `left` was 0)
    left       INTEGER NOT NULL,  -- the client's `left` now
    flags      INTEGER NOT NULL   -- see LedgerFlags: new, reset, rate, overdownload, lone_upload, deferred, repeat
);

-- Request counters for /stats, by name (`announce_ok`, `refused_unregistered`, …). Each worker
-- adds what it counted about once a second, in its upkeep: no write per request.
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- When each client address last got a full scrape (`full-scrape-interval` throttles them); rows
-- older than the interval are deleted by the upkeep.
CREATE TABLE IF NOT EXISTS full_scrape_clients (
    address BLOB    PRIMARY KEY,  -- 4 or 16 bytes
    last    INTEGER NOT NULL      -- Unix time
) WITHOUT ROWID;

-- Results too costly to compute per request, shared by every responder: `top100` (the busiest
-- swarms, for /stats), recomputed by whoever finds it older than a minute.
CREATE TABLE IF NOT EXISTS cache (
    name TEXT    PRIMARY KEY,
    made INTEGER NOT NULL,  -- Unix time
    body BLOB    NOT NULL
) WITHOUT ROWID;

-- ==== control database ====
-- `control-database`: on disk. What the operator decides must survive a reboot: the access list
-- with what is known of each torrent, the client rules, and the completed counts. `shoal
-- torrents`, `shoal clients` and `shoal restore` write it; responders read it on every request
-- (one indexed lookup) and write only the counts, every few minutes.

-- One row per registered torrent: a .torrent file or a bare info_hash. In `access = whitelist`
-- these are the torrents tracked; in `access = blacklist`, the ones refused.
CREATE TABLE IF NOT EXISTS torrents (
    id          INTEGER PRIMARY KEY,
    name        TEXT,              -- info.name, invalid UTF-8 and control characters escaped; NULL for a bare hash
    size        INTEGER,           -- total bytes of its files; NULL for a bare hash
    files       INTEGER,           -- how many files; NULL for a bare hash
    added       INTEGER NOT NULL,  -- Unix time
    metainfo    BLOB,              -- the .torrent file's bytes, as read; NULL for a bare hash
    origin      TEXT,              -- the file `sync DIR` added it from (absolute), else NULL
    origin_seen TEXT               -- that file's size and modification time when it was read
);

CREATE INDEX IF NOT EXISTS torrents_by_origin ON torrents (origin) WHERE origin IS NOT NULL;

-- Every hash a registered torrent is announced with: the SHA-1 of its info dictionary (v1), the
-- SHA-256 truncated to 20 bytes (v2), or both (hybrid). The announce path's one lookup.
CREATE TABLE IF NOT EXISTS torrent_hashes (
    info_hash BLOB    PRIMARY KEY,      -- 20 bytes
    torrent   INTEGER NOT NULL,         -- torrents.id
    version   INTEGER NOT NULL          -- 1 (SHA-1), 2 (SHA-256 truncated) or 0 (a bare hash, either)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS torrent_hashes_by_torrent ON torrent_hashes (torrent);

CREATE TRIGGER IF NOT EXISTS torrents_remove AFTER DELETE ON torrents BEGIN
    DELETE FROM torrent_hashes WHERE torrent = old.id;
END;

-- peer_id prefixes (`-qB`, `-TR4`): any `allow` rule makes the rules an allow-list; a peer_id
-- matching a `deny` rule is refused whatever else matches.
CREATE TABLE IF NOT EXISTS client_rules (
    prefix BLOB    PRIMARY KEY,  -- 1 to 20 bytes
    rule   TEXT    NOT NULL CHECK (rule IN ('allow', 'deny')),
    added  INTEGER NOT NULL      -- Unix time
) WITHOUT ROWID;

-- Completed downloads per swarm (BEP 48 `downloaded`), copied from the peers database's
-- `torrents` every few minutes and added back to a new, empty one.
CREATE TABLE IF NOT EXISTS completed (
    info_hash  BLOB    PRIMARY KEY,
    downloaded INTEGER NOT NULL
) WITHOUT ROWID;

-- The site's control state (private tracking), written by `shoal site`, the control endpoint or
-- plain SQL; each table can be replaced whole in one transaction, so a site may re-send all of
-- it every few minutes. On disk: a reboot never lets a banned user back in.

-- Per user: tokens with a key version below `floor` are refused (a key reset).
CREATE TABLE IF NOT EXISTS key_floors (
    user  INTEGER PRIMARY KEY,
    floor INTEGER NOT NULL CHECK (floor BETWEEN 0 AND 65535)
);

-- Banned users and the message their client shows.
CREATE TABLE IF NOT EXISTS banned_users (
    user    INTEGER PRIMARY KEY,
    message TEXT NOT NULL
);

-- Users who may seed but not download (ratio watch), and the message a download gets.
CREATE TABLE IF NOT EXISTS ratio_watch (
    user    INTEGER PRIMARY KEY,
    message TEXT NOT NULL
);

-- Single revoked tokens: this user's token for this torrent (a leaked URL).
CREATE TABLE IF NOT EXISTS revoked_tokens (
    user      INTEGER NOT NULL,
    info_hash BLOB    NOT NULL,
    PRIMARY KEY (user, info_hash)
) WITHOUT ROWID;

-- Torrents the site deleted, with the reason announces get ("Unregistered torrent: dupe").
CREATE TABLE IF NOT EXISTS deleted_torrents (
    info_hash BLOB PRIMARY KEY,
    reason    TEXT NOT NULL
) WITHOUT ROWID;

-- A site's existing per-user passkeys (16-64 characters A-Z a-z 0-9), so that torrents
-- downloaded before tokens keep working.
CREATE TABLE IF NOT EXISTS passkeys (
    passkey TEXT    PRIMARY KEY,
    user    INTEGER NOT NULL
) WITHOUT ROWID;

"""
}
