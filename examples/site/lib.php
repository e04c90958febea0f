<?php
// What the example's pages and crons share: the database, the token recipe, bencoding and the
// tracker's control endpoint.

function config(): array
{
    static $config = null;
    return $config ??= require __DIR__ . '/config.php';
}

function site_db(): PDO
{
    $c = config();
    return new PDO($c['dsn'], $c['db_user'], $c['db_password'], [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

/**
 * Shoal's per-torrent token: uid (u32 BE) . key version (u16 BE) . the first 16 bytes of
 * HMAC-SHA256(secret, "shoal-announce-v1" . uid . kv . info_hash), as 44 hex characters.
 */
function shoal_token(int $user, int $keyVersion, string $infoHash, string $secret): string
{
    $head = pack('Nn', $user, $keyVersion);
    $tag = substr(hash_hmac('sha256', 'shoal-announce-v1' . $head . $infoHash, $secret, true), 0, 16);
    return bin2hex($head . $tag);
}

/** Decodes bencode; $infoSpan gets the byte range of the top-level `info` value (its hash). */
function bdecode(string $data, int &$at = 0, ?array &$infoSpan = null, int $depth = 0)
{
    $c = $data[$at] ?? '';
    if ($c === 'i') {
        $end = strpos($data, 'e', $at);
        $value = (int)substr($data, $at + 1, $end - $at - 1);
        $at = $end + 1;
        return $value;
    }
    if ($c === 'l' || $c === 'd') {
        $at++;
        $items = [];
        while (($data[$at] ?? 'e') !== 'e') {
            if ($c === 'l') {
                $items[] = bdecode($data, $at, $infoSpan, $depth + 1);
                continue;
            }
            $key = bdecode($data, $at, $infoSpan, $depth + 1);
            $start = $at;
            $items[$key] = bdecode($data, $at, $infoSpan, $depth + 1);
            if ($depth === 0 && $key === 'info') $infoSpan = [$start, $at];
        }
        $at++;
        return $c === 'l' ? $items : ['__dict' => true] + $items;
    }
    $colon = strpos($data, ':', $at);
    $length = (int)substr($data, $at, $colon - $at);
    $at = $colon + 1 + $length;
    return substr($data, $colon + 1, $length);
}

function bencode($value): string
{
    if (is_int($value)) return "i{$value}e";
    if (is_string($value)) return strlen($value) . ':' . $value;
    if (isset($value['__dict'])) {
        unset($value['__dict']);
        ksort($value, SORT_STRING);
        $out = 'd';
        foreach ($value as $k => $v) $out .= bencode((string)$k) . bencode($v);
        return $out . 'e';
    }
    return 'l' . implode('', array_map('bencode', $value)) . 'e';
}

/** A request to the tracker's control endpoint: [status, body]. */
function control(string $path, ?string $body = null): array
{
    $context = stream_context_create(['http' => [
        'method' => $body === null ? 'GET' : 'POST',
        'content' => $body ?? '',
        'header' => "Content-Type: text/tab-separated-values\r\n",
        'ignore_errors' => true,
        'timeout' => 30,
    ]]);
    $reply = @file_get_contents(config()['control_url'] . '/' . $path, false, $context);
    if ($reply === false) throw new RuntimeException("tracker unreachable: $path");
    preg_match('{HTTP/\S+ (\d+)}', $http_response_header[0] ?? '', $m);
    return [(int)($m[1] ?? 0), $reply];
}
