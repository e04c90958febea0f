import ArgumentParser
import TrackerCore

/// The options every way of running shares: the database and the tracker's policy.
struct TrackerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The SQLite database file shared by every responder; its directory must be writable. "
            + "Use a tmpfs path. ':memory:' keeps peers in this one process only.",
        valueName: "path"))
    var database: String = "/dev/shm/shoal.db"

    @Option(help: ArgumentHelp("Seconds between announces that clients are told (BEP 3 'interval').", valueName: "seconds"))
    var interval: Int = 1800

    @Option(help: ArgumentHelp("Random jitter added to each interval, as a fraction of it (0 to 0.5).", valueName: "fraction"))
    var intervalJitter: Double = 0.1

    @Option(help: ArgumentHelp("The 'min interval' clients are asked to respect.", valueName: "seconds"))
    var minInterval: Int = 900

    @Option(help: ArgumentHelp(
        "A peer silent for interval x this factor is no longer handed out, and is purged.", valueName: "factor"))
    var peerTTLFactor: Double = 1.5

    @Option(name: .customLong("default-numwant"), help: ArgumentHelp(
        "Peers sent when the client gives no numwant.", valueName: "count"))
    var defaultNumWant: Int = 50

    @Option(name: .customLong("max-numwant"), help: ArgumentHelp(
        "The most peers sent in one reply, whatever the client asks.", valueName: "count"))
    var maxNumWant: Int = 200

    @Option(help: ArgumentHelp("The most info_hash values one scrape may ask for.", valueName: "count"))
    var maxScrapeHashes: Int = 64

    @Option(help: ArgumentHelp(
        "How long a request waits for another process's database lock before answering 503.",
        valueName: "milliseconds"))
    var busyTimeout: Int = 2000

    func policy() throws -> Policy {
        var policy = Policy()
        policy.interval = interval
        policy.intervalJitter = intervalJitter
        policy.minInterval = minInterval
        policy.peerTTLFactor = peerTTLFactor
        policy.defaultNumWant = defaultNumWant
        policy.maxNumWant = maxNumWant
        policy.maxScrapeHashes = maxScrapeHashes
        if let problem = policy.validate() { throw ValidationError(problem) }
        if busyTimeout < 0 { throw ValidationError("--busy-timeout must not be negative (got \(busyTimeout))") }
        return policy
    }
}
