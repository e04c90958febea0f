<?php
// The example's settings. A real site keeps them out of its web root; here the environment may
// override each one, which is how the end-to-end test points the site at its own servers.
return [
    'dsn'         => getenv('SITE_DSN') ?: 'mysql:host=localhost;dbname=site;charset=utf8mb4',
    'db_user'     => getenv('SITE_DB_USER') ?: 'site',
    'db_password' => getenv('SITE_DB_PASSWORD') ?: '',
    // The tracker's public base URL: announce URLs are TRACKER_URL/<token>/announce.
    'tracker_url' => getenv('TRACKER_URL') ?: 'http://tracker.example.org',
    // The control endpoint, reachable from this machine only: http://127.0.0.1/<control-secret>.
    'control_url' => getenv('TRACKER_CONTROL_URL') ?: 'http://127.0.0.1/change-me-control-secret',
    // Shoal's `secret`: the same value on both sides, never sent anywhere.
    'secret'      => getenv('TRACKER_SECRET') ?: 'change me: openssl rand -hex 32',
];
