<?php
// php bin/add-torrent.php FILE.torrent NAME [freeleech]: an upload, as the site's upload form
// would store it. The info_hash is the SHA-1 of the exact bytes of the `info` dictionary.
require __DIR__ . '/../lib.php';

[$script, $file, $name] = $argv + [null, null, null];
if ($file === null || $name === null) exit("usage: php add-torrent.php FILE.torrent NAME [freeleech]\n");
$data = file_get_contents($file);
$at = 0;
$span = null;
bdecode($data, $at, $span);
$infoHash = sha1(substr($data, $span[0], $span[1] - $span[0]), true);
site_db()->prepare('INSERT INTO torrents (info_hash, name, metainfo, freeleech) VALUES (?, ?, ?, ?)')
    ->execute([$infoHash, $name, $data, ($argv[3] ?? '') === 'freeleech' ? 1 : 0]);
echo bin2hex($infoHash), "\n";
