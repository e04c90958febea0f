<?php
// Cron, every minute: applies the tracker's ledger to the users' counters, exactly once.
//
// The position (epoch, seq) is stored in the same transaction as the counters it accounts for.
// Killed before the commit, nothing was applied and the rows are read again; killed after it but
// before the acknowledgement, the rows are read again from the stored position, which is past
// them. Either way no byte is lost or counted twice. Site policy (freeleech here; double upload,
// bonus points) is applied at ingest, from the site's own tables.
require __DIR__ . '/../lib.php';

$db = site_db();
$limit = 5000;
do {
    $db->beginTransaction();
    // FOR UPDATE: two drains running at once take turns instead of applying the same rows.
    $position = $db->query('SELECT epoch, seq FROM tracker_position WHERE id = 1 FOR UPDATE')->fetch(PDO::FETCH_ASSOC);
    [$epoch, $rows] = read_ledger((int)$position['seq'], $limit);
    if ($epoch !== (int)$position['epoch']) {
        // The tracker's peers database was made anew: its numbering starts again.
        [$epoch, $rows] = read_ledger(0, $limit);
    }
    $credit = $db->prepare('UPDATE users SET uploaded = uploaded + ?, downloaded = downloaded + ?,
        seed_seconds = seed_seconds + ? WHERE id = ?');
    $freeleech = $db->prepare('SELECT id, freeleech FROM torrents WHERE info_hash = UNHEX(?)');
    $snatch = $db->prepare('INSERT IGNORE INTO snatches (user_id, torrent_id, at) VALUES (?, ?, ?)');
    $count = $db->prepare('UPDATE torrents SET snatches = snatches + 1 WHERE id = ?');
    $last = (int)$position['seq'];
    foreach ($rows as $row) {
        $freeleech->execute([$row['info_hash']]);
        $torrent = $freeleech->fetch(PDO::FETCH_ASSOC) ?: ['id' => 0, 'freeleech' => 0];
        $downloaded = $torrent['freeleech'] ? 0 : $row['downloaded'];
        $credit->execute([$row['uploaded'], $downloaded, $row['seeding'], $row['user']]);
        if ($row['event'] === 'completed' && $torrent['id']) {
            $snatch->execute([$row['user'], $torrent['id'], $row['time']]);
            if ($snatch->rowCount() > 0) $count->execute([$torrent['id']]);
        }
        $last = (int)$row['seq'];
    }
    $db->prepare('UPDATE tracker_position SET epoch = ?, seq = ? WHERE id = 1')->execute([$epoch, $last]);
    $db->commit();
    if (getenv('DRAIN_EXIT_BEFORE_ACK')) exit(3);  // the test's kill between commit and ack
    if ($rows) control("ledger/ack?epoch=$epoch&through=$last");
} while (count($rows) === $limit);

/** [epoch, rows] of the ledger after $after. */
function read_ledger(int $after, int $limit): array
{
    [$status, $body] = control("ledger?after=$after&limit=$limit");
    if ($status !== 200) throw new RuntimeException("ledger: $status $body");
    $lines = explode("\n", rtrim($body, "\n"));
    preg_match('/epoch=(\d+)/', $lines[0], $m);
    $columns = explode("\t", $lines[1]);
    $rows = [];
    foreach (array_slice($lines, 2) as $line) $rows[] = array_combine($columns, explode("\t", $line));
    return [(int)$m[1], $rows];
}
