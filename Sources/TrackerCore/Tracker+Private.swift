/// Private tracking: who announces (a token or passkey), whether the site lets them, and what
/// the ledger is told.
extension Tracker {
    /// Checks the announce's credential against the secrets and the site's control state;
    /// returns what the ledger records. Throws the refusal the client sees (nothing is stored).
    func admitPrivate(_ parsed: AnnounceRequest, credential: ArraySlice<UInt8>?, query: [UInt8]) throws -> SessionReport {
        var passkeyUser: UInt32?? = nil
        let (user, keyVersion) = try identify(credential, query: query, infoHash: parsed.infoHash, passkeyUser: &passkeyUser)
        guard let site else { throw AccessListMissing() }
        let standing = try site.standing(of: user, on: parsed.infoHash)
        if let message = standing.banned { throw TrackerFailure.site(message, kind: "banned_user") }
        if let reason = standing.deletedReason { throw TrackerFailure.site(reason, kind: "deleted_torrent") }
        if let keyVersion, keyVersion < standing.keyFloor { throw TrackerFailure.revokedCredential }
        if standing.tokenRevoked { throw TrackerFailure.revokedCredential }
        // Ratio watch: seeding goes on, and a download may still say it stopped.
        if let message = standing.ratioWatch, parsed.left > 0, parsed.event != .stopped {
            throw TrackerFailure.site(message, kind: "ratio_watch")
        }
        // SQLite integers are signed: a counter past 2^63 - 1 cannot be honest, so it is refused
        // rather than credited.
        let limit = UInt64(Int64.max)
        if parsed.uploaded > limit { throw TrackerFailure.counterOutOfRange("uploaded") }
        if parsed.downloaded > limit { throw TrackerFailure.counterOutOfRange("downloaded") }
        if parsed.left > limit { throw TrackerFailure.counterOutOfRange("left") }
        return SessionReport(
            user: user, uploaded: Int64(parsed.uploaded), downloaded: Int64(parsed.downloaded), left: Int64(parsed.left),
            event: parsed.event, implausibleRate: policy.implausibleRate)
    }

    /// The hashes a private scrape may answer: with a token, only the torrent it was minted for;
    /// with a passkey, any the site has not deleted. A banned user's scrape is refused.
    func privateScrapeHashes(_ hashes: [InfoHash], credential: ArraySlice<UInt8>?, query: [UInt8]) throws -> [InfoHash] {
        guard let site else { throw AccessListMissing() }
        var served: [InfoHash] = []
        var refusedCredential = false
        // A token is checked per torrent; a passkey names the same user for all, looked up once.
        var passkeyUser: UInt32?? = nil
        for hash in hashes {
            let user: UInt32
            let keyVersion: UInt16?
            do {
                (user, keyVersion) = try identify(credential, query: query, infoHash: hash, passkeyUser: &passkeyUser)
            } catch let refusal as TrackerFailure where refusal == .unknownCredential {
                refusedCredential = true  // a token verifies for its own torrent only
                continue
            }
            let standing = try site.standing(of: user, on: hash)
            if let message = standing.banned { throw TrackerFailure.site(message, kind: "banned_user") }
            if standing.deletedReason != nil || standing.tokenRevoked { continue }
            if let keyVersion, keyVersion < standing.keyFloor { continue }
            served.append(hash)
        }
        if served.isEmpty && refusedCredential { throw TrackerFailure.unknownCredential }
        return served
    }

    /// The user (and, for a token, its key version) a credential names for `infoHash`: from the
    /// path, else `passkey=` in the query. A 44-hex-digit value whose tag does not verify may
    /// still be a site's passkey. `passkeyUser` remembers the passkey lookup across the torrents of
    /// one request.
    private func identify(
        _ credential: ArraySlice<UInt8>?, query: [UInt8], infoHash: InfoHash, passkeyUser: inout UInt32??
    ) throws -> (UInt32, UInt16?) {
        guard let raw = credential.map(Array.init) ?? Self.queryValue(query, "passkey") else {
            throw TrackerFailure.credentialRequired
        }
        guard let parsed = Credential(raw), let tokens, let site else {
            guard tokens != nil, site != nil else { throw AccessListMissing() }
            throw TrackerFailure.unknownCredential
        }
        if case .token(let token) = parsed, tokens.verifies(token, for: infoHash) {
            return (token.userID, token.keyVersion)
        }
        if passkeyUser == nil { passkeyUser = .some(try site.user(forPasskey: parsed.text)) }
        guard let user = passkeyUser ?? nil else { throw TrackerFailure.unknownCredential }
        return (user, nil)
    }
}
