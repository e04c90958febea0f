<?php
// Cron, every few minutes (and after a moderator acts): sends the site's whole control state to
// the tracker, each table replaced in one transaction there. Idempotent: a lost push is repaired
// by the next one.
require __DIR__ . '/../lib.php';

$db = site_db();
$tables = [
    'banned'     => "SELECT id, banned_reason FROM users WHERE banned_reason IS NOT NULL",
    'key_floors' => "SELECT id, key_version FROM users WHERE key_version > 0",
    'passkeys'   => "SELECT passkey, id FROM users WHERE passkey IS NOT NULL",
    'deleted'    => "SELECT LOWER(HEX(info_hash)), deleted_reason FROM torrents WHERE deleted_reason IS NOT NULL",
    'revoked'    => "SELECT r.user_id, LOWER(HEX(t.info_hash)) FROM revoked_tokens r JOIN torrents t ON t.id = r.torrent_id",
];
foreach ($tables as $table => $sql) {
    $lines = '';
    foreach ($db->query($sql, PDO::FETCH_NUM) as $row) {
        // A tab or line break would split a row (the tracker would refuse it): spaces instead.
        $lines .= implode("\t", array_map(fn($v) => strtr((string)$v, "\t\r\n", '   '), $row)) . "\n";
    }
    [$status, $reply] = control("site/$table", $lines);
    if ($status !== 200) {
        fwrite(STDERR, "push $table: $status $reply");
        exit(1);
    }
}
