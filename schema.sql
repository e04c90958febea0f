-- Shoal's database: the one source of truth for its tables. The program applies this text,
-- unchanged, every time it opens the database (Sources/TrackerStore/Schema.swift embeds a copy
-- that a test keeps equal to this file). Every statement is idempotent.
--
-- The database is meant for tmpfs (/dev/shm) or memory: peers re-announce every interval, so a
-- reboot loses only what the next half hour rebuilds.

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

CREATE TRIGGER IF NOT EXISTS peers_insert AFTER INSERT ON peers BEGIN
    INSERT INTO torrents (info_hash, seeders, leechers, downloaded)
    VALUES (new.info_hash, new.complete, 1 - new.complete, new.completed)
    ON CONFLICT (info_hash) DO UPDATE SET
        seeders = seeders + excluded.seeders,
        leechers = leechers + excluded.leechers,
        downloaded = downloaded + excluded.downloaded;
END;

CREATE TRIGGER IF NOT EXISTS peers_update AFTER UPDATE ON peers
WHEN new.complete <> old.complete OR new.completed <> old.completed BEGIN
    UPDATE torrents SET
        seeders = seeders + new.complete - old.complete,
        leechers = leechers + old.complete - new.complete,
        downloaded = downloaded + new.completed - old.completed
    WHERE info_hash = new.info_hash;
END;

CREATE TRIGGER IF NOT EXISTS peers_delete AFTER DELETE ON peers BEGIN
    UPDATE torrents SET
        seeders = seeders - old.complete,
        leechers = leechers - (1 - old.complete)
    WHERE info_hash = old.info_hash;
    DELETE FROM torrents
    WHERE info_hash = old.info_hash AND seeders = 0 AND leechers = 0 AND downloaded = 0;
END;
