import Testing
import TrackerCore
import TrackerTokens

/// The token recipe, checked against a value computed independently (Python's hmac module:
/// hmac.new(b"correct horse battery staple", b"shoal-announce-v1" + uid + kv + info_hash, sha256)).
@Suite struct HMACTokenKeysTests {
    let infoHash = InfoHash(Array(0..<20))!
    let keys = HMACTokenKeys(secrets: ["correct horse battery staple"])

    @Test func mintsTheDocumentedRecipe() throws {
        let token = try #require(keys.mint(userID: 42, keyVersion: 3, infoHash: infoHash))
        #expect(String(decoding: token.hex, as: UTF8.self) == GoldenToken.hex)
    }

    @Test func verifiesItsOwnTokensOnlyForTheirTorrent() throws {
        let token = try #require(keys.mint(userID: 7, keyVersion: 0, infoHash: infoHash))
        #expect(keys.verifies(token, for: infoHash))
        #expect(!keys.verifies(token, for: InfoHash(Array(repeating: 9, count: 20))!))
        var otherUser = token
        otherUser.userID = 8
        #expect(!keys.verifies(otherUser, for: infoHash))
        var otherVersion = token
        otherVersion.keyVersion = 1
        #expect(!keys.verifies(otherVersion, for: infoHash))
    }

    @Test func acceptsThePreviousSecretDuringARotation() throws {
        let old = HMACTokenKeys(secrets: ["the old secret, long enough"])
        let token = try #require(old.mint(userID: 1, keyVersion: 0, infoHash: infoHash))
        let rotated = HMACTokenKeys(secrets: ["the new secret, long enough", "the old secret, long enough"])
        #expect(rotated.verifies(token, for: infoHash))
        #expect(!HMACTokenKeys(secrets: ["the new secret, long enough"]).verifies(token, for: infoHash))
    }

    @Test func parsesWhatItMints() throws {
        let token = try #require(keys.mint(userID: 0xdead_beef, keyVersion: 0xfffe, infoHash: infoHash))
        guard case .token(let parsed) = Credential(token.hex) else {
            Issue.record("a minted token did not parse as a token")
            return
        }
        #expect(parsed == token)
        #expect(keys.verifies(parsed, for: infoHash))
    }
}

enum GoldenToken {
    static let hex = "0000002a00032e9a4fca904bfc97e5f377fbc24f4c07"
}
