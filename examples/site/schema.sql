-- A torrent site's own tables (MariaDB/MySQL), as small as the example needs. Shoal never
-- connects to this database: the site mints tokens with the shared secret, pushes its bans and
-- deletions to the tracker, and drains the tracker's ledger into these tables.

CREATE TABLE users (
    id            INT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
    username      VARCHAR(64)       NOT NULL UNIQUE,
    key_version   SMALLINT UNSIGNED NOT NULL DEFAULT 0,  -- bumped to reset the user's tokens
    passkey       CHAR(32)          NULL UNIQUE,         -- a passkey from before tokens (kept working)
    banned_reason VARCHAR(200)      NULL,                -- set: banned, with what the client shows
    uploaded      BIGINT UNSIGNED   NOT NULL DEFAULT 0,
    downloaded    BIGINT UNSIGNED   NOT NULL DEFAULT 0,
    seed_seconds  BIGINT UNSIGNED   NOT NULL DEFAULT 0
) ENGINE = InnoDB;

CREATE TABLE torrents (
    id             INT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
    info_hash      BINARY(20)   NOT NULL UNIQUE,
    name           VARCHAR(255) NOT NULL,
    metainfo       MEDIUMBLOB   NOT NULL,          -- the uploaded .torrent; download.php puts the user's URL in
    freeleech      TINYINT(1)   NOT NULL DEFAULT 0, -- downloads of it are not counted (applied at ingest)
    deleted_reason VARCHAR(200) NULL,              -- set: deleted, with the reason announces get
    snatches       INT UNSIGNED NOT NULL DEFAULT 0
) ENGINE = InnoDB;

-- A user's token for one torrent, revoked (a leaked URL).
CREATE TABLE revoked_tokens (
    user_id    INT UNSIGNED NOT NULL,
    torrent_id INT UNSIGNED NOT NULL,
    PRIMARY KEY (user_id, torrent_id)
) ENGINE = InnoDB;

CREATE TABLE snatches (
    user_id    INT UNSIGNED NOT NULL,
    torrent_id INT UNSIGNED NOT NULL,
    at         BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (user_id, torrent_id)
) ENGINE = InnoDB;

-- Where the drain is in the tracker's ledger. Updated in the same transaction as the users'
-- counters: that is what makes the drain exactly once.
CREATE TABLE tracker_position (
    id    TINYINT PRIMARY KEY,
    epoch BIGINT UNSIGNED NOT NULL,
    seq   BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB;

INSERT INTO tracker_position (id, epoch, seq) VALUES (1, 0, 0);
