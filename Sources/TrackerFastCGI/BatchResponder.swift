import TrackerCore

/// Answers requests a batch at a time: a worker answers every request its turn takes, then
/// finishes the batch, and only then writes the replies.
///
/// A batch lets the store commit once for many requests (`SQLitePeerStore.beginBatch`). The
/// price is that a reply is only true once the batch is stored, so `finishBatch` decides whether
/// the replies go out as they are.
public protocol BatchResponder: AnyObject {
    func beginBatch()
    func respond(_ parameters: CGIParameters) -> TrackerResponse
    /// Stores the batch. `nil` when it is stored; otherwise the reply to send instead of each of
    /// the batch's replies, none of which may go out.
    func finishBatch() -> TrackerResponse?
    /// Upkeep that must not wait for requests (expiring peers, the disk reserve), called about
    /// once a second outside any batch while the worker holds the turn.
    func maintain()
    /// Upkeep that takes long and needs no turn (making a shared cache), called right after
    /// `maintain` once the turn is given up, so that the other workers go on meanwhile.
    func maintainOutsideTurn()
}

extension BatchResponder {
    public func maintainOutsideTurn() {}
}
