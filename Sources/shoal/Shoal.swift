import ArgumentParser

@main
struct Shoal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "A BitTorrent tracker that runs as a FastCGI responder and keeps its peers in SQLite.",
        discussion: """
            Started with no subcommand, shoal answers requests the way the web server started it: \
            FastCGI on the socket it inherited as file descriptor 0 (Apache mod_fcgid, spawn-fcgi), \
            or plain CGI (one request from the environment, then exit).

            `shoal serve` opens the socket itself (or serves the one systemd socket activation \
            passes) and runs a pool of worker processes, for nginx's fastcgi_pass or Apache's \
            mod_proxy_fcgi.

            All processes sharing one --database file form one tracker; any of them can be killed at \
            any moment without losing what was stored.

            What must survive a reboot lives in a control database on disk (--control-database): \
            the torrent list of a closed tracker (`shoal torrents`, with access = whitelist or \
            blacklist), client rules (`shoal clients`) and completed counts; `shoal dump` and \
            `shoal restore` copy it as text. A change is live on the next request.

            Settings come from a file (--config or SHOAL_CONFIG, see shoal.conf.sample), the \
            environment (SHOAL_INTERVAL=900 …), the command line, and SHOAL_* parameters the web \
            server sends with a request, each later source winning. `shoal check-config` shows \
            what is in effect and exits.
            """,
        subcommands: [Respond.self, Serve.self, CheckConfig.self, Torrents.self, Clients.self, Site.self, Dump.self, Restore.self, MergeScrape.self],
        defaultSubcommand: Respond.self
    )
}
