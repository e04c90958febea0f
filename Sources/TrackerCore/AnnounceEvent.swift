/// The `event` parameter of an announce (BEP 3, plus `paused` from BEP 21).
public enum AnnounceEvent: Equatable, Sendable {
    /// A regular re-announce (`event` absent or empty).
    case none
    case started
    case completed
    case stopped
    /// BEP 21: a partial seed that wants nothing more; it counts as incomplete but, like a
    /// seeder, is handed only peers that are still downloading.
    case paused

    init?(_ raw: ArraySlice<UInt8>) {
        switch String(decoding: raw, as: UTF8.self) {
        case "": self = .none
        case "started": self = .started
        case "completed": self = .completed
        case "stopped": self = .stopped
        case "paused": self = .paused
        default: return nil
        }
    }
}
