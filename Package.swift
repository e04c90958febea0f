// swift-tools-version:6.0
// Debian/Ubuntu: apt-get install libfcgi-dev libsqlite3-dev zlib1g-dev (all ship pkg-config files).
import PackageDescription

let package = Package(
    name: "Shoal",
    products: [
        .executable(name: "shoal", targets: ["shoal"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-1 and SHA-256 of .torrent info dictionaries and the HMAC of private tracking's tokens: a well-kept library.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // gzip for full scrapes.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Pure protocol logic: no I/O, no Foundation.
        .target(name: "TrackerCore"),
        .target(name: "TrackerStore", dependencies: ["TrackerCore", "CSQLite", "CZlib"]),
        .target(name: "TrackerFastCGI", dependencies: ["TrackerCore", "CFastCGI"]),
        // .torrent files: the info dictionary's exact bytes, its v1 and v2 hashes, name and size.
        .target(name: "Metainfo", dependencies: ["TrackerCore", .product(name: "Crypto", package: "swift-crypto")]),
        // Private tracking's per-torrent tokens: HMAC-SHA256 behind TrackerCore's `TokenVerifier`.
        .target(name: "TrackerTokens", dependencies: ["TrackerCore", .product(name: "Crypto", package: "swift-crypto")]),
        // Settings from a file, the environment, the command line and per-request parameters.
        .target(name: "TrackerConfig", dependencies: ["TrackerCore", "TrackerFastCGI"]),
        .executableTarget(
            name: "shoal",
            dependencies: [
                "TrackerCore", "TrackerStore", "TrackerFastCGI", "TrackerConfig", "Metainfo", "TrackerTokens",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets for every parser (`make fuzz`); built plainly, it replays a corpus.
        .executableTarget(
            name: "shoal-fuzz", dependencies: ["TrackerCore", "TrackerFastCGI", "TrackerConfig"], path: "Sources/ShoalFuzz"),
        .testTarget(name: "TrackerCoreTests", dependencies: ["TrackerCore"]),
        .testTarget(name: "TrackerStoreTests", dependencies: ["TrackerStore", "TrackerCore"]),
        .testTarget(name: "TrackerFastCGITests", dependencies: ["TrackerFastCGI", "TrackerCore"]),
        .testTarget(name: "TrackerConfigTests", dependencies: ["TrackerConfig", "TrackerCore"]),
        .testTarget(name: "MetainfoTests", dependencies: ["Metainfo", "TrackerCore"]),
        .testTarget(name: "TrackerTokensTests", dependencies: ["TrackerTokens", "TrackerCore"]),
    ]
)
