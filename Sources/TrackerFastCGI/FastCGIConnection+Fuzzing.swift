import TrackerCore

extension FastCGIConnection {
    /// Feeds `bytes` to a new connection the way the connection loop does, in reads of the sizes
    /// the first byte picks, answering every request with a small reply, and checks what must
    /// always hold. For the fuzzer (Sources/ShoalFuzz); traps on a broken invariant.
    public static func fuzz(_ bytes: [UInt8]) {
        var connection = FastCGIConnection()
        let step = 1 + Int(bytes.first ?? 0) % 64
        var offset = 0
        var replies = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + (step == 64 ? bytes.count : step))
            bytes[offset..<end].withUnsafeBytes { connection.receive($0) }
            connection.process { parameters in
                replies += 1
                let request = CGIVariables.trackerRequest(parameters.value)
                _ = parameters.parameters(prefixed: "SHOAL_")
                return TrackerResponse(status: 200, body: request.query)
            }
            offset = end
            if replies % 2 == 1 { connection.settleReplies(replacingWith: TrackerResponse(status: 503, body: [])) }
            while connection.hasPendingOutput {
                let written = connection.withPendingOutput { min($0.count, 7) }
                connection.wrote(written)
            }
        }
        precondition(!connection.hasPendingOutput)
    }
}
