import Testing
import TrackerCore

@Suite struct PolicyAndRouteTests {
    @Test(arguments: [
        ("/announce", Route.announce), ("/tracker/announce", .announce), ("/announce.php", .announce),
        ("/scrape", .scrape), ("/a/b/scrape.php", .scrape), ("/", .statusPage), ("", .statusPage),
        ("/tracker/", .statusPage), ("/tracker/file", .torrentFile),
    ])
    func routesByLastSegment(path: String, route: Route) {
        #expect(Route(path: Array(path.utf8)) == route)
    }

    @Test(arguments: ["/announce/", "/scrape.php/", "/stats", "/announcex", "/scrapes", "/files"])
    func otherPathsHaveNoRoute(path: String) {
        #expect(Route(path: Array(path.utf8)) == nil)
    }

    @Test func numWantDefaultsAndIsCapped() {
        let policy = Policy()
        #expect(policy.numWant(requested: nil) == 50)
        #expect(policy.numWant(requested: 0) == 0)
        #expect(policy.numWant(requested: 80) == 80)
        #expect(policy.numWant(requested: 5000) == 200)
    }

    @Test func jitterStaysWithinTenPercent() {
        let policy = Policy()
        #expect(policy.jitteredInterval(unit: 0) == 1620)
        #expect(policy.jitteredInterval(unit: 0.5) == 1800)
        #expect(policy.jitteredInterval(unit: 0.999_999) == 1979)
        #expect(policy.peerTTL(interval: 1800) == 2700)
    }

    @Test func validationNamesTheBadSetting() {
        var policy = Policy()
        #expect(policy.validate() == nil)
        policy.minInterval = 5000
        #expect(policy.validate()?.contains("min-interval") == true)
        policy = Policy()
        policy.defaultNumWant = 500
        #expect(policy.validate()?.contains("default-numwant") == true)
        policy = Policy()
        policy.peerTTLFactor = 0.5
        #expect(policy.validate()?.contains("peer-ttl-factor") == true)
    }
}
