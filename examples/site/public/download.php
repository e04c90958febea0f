<?php
// GET /download.php?torrent=ID: the .torrent with the user's own announce URL in it. The token
// is minted here, with the secret and nothing else: the tracker needs no list of users or
// torrents. (A real site takes the user from its login session; the example reads ?user=.)
require __DIR__ . '/../lib.php';

$db = site_db();
$user = $db->prepare('SELECT id, key_version, banned_reason FROM users WHERE id = ?');
$user->execute([(int)($_GET['user'] ?? 0)]);
$user = $user->fetch(PDO::FETCH_ASSOC);
$torrent = $db->prepare('SELECT info_hash, name, metainfo, deleted_reason FROM torrents WHERE id = ?');
$torrent->execute([(int)($_GET['torrent'] ?? 0)]);
$torrent = $torrent->fetch(PDO::FETCH_ASSOC);
if (!$user || !$torrent || $user['banned_reason'] !== null || $torrent['deleted_reason'] !== null) {
    http_response_code(404);
    exit("no such torrent\n");
}

$token = shoal_token((int)$user['id'], (int)$user['key_version'], $torrent['info_hash'], config()['secret']);
$metainfo = bdecode($torrent['metainfo']);
$metainfo['announce'] = config()['tracker_url'] . "/$token/announce";
unset($metainfo['announce-list']);  // other trackers would not know the user

header('Content-Type: application/x-bittorrent');
header('Content-Disposition: attachment; filename="' . preg_replace('/[^A-Za-z0-9._-]/', '_', $torrent['name']) . '.torrent"');
echo bencode($metainfo);
