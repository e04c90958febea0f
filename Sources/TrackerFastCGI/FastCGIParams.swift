/// The name-value pairs of one request's FCGI_PARAMS stream, read in place.
struct FastCGIParams {
    let bytes: [UInt8]
    private var entries: [(name: Range<Int>, value: Range<Int>)] = []

    /// Splits the stream into pairs; nil when a length runs past the end (a broken peer).
    init?(_ bytes: [UInt8]) {
        self.bytes = bytes
        entries.reserveCapacity(32)
        var index = 0
        while index < bytes.count {
            guard let nameLength = FastCGIParams.length(bytes, &index),
                let valueLength = FastCGIParams.length(bytes, &index),
                bytes.count - index >= nameLength + valueLength
            else { return nil }
            entries.append((index..<index + nameLength, index + nameLength..<index + nameLength + valueLength))
            index += nameLength + valueLength
        }
    }

    /// A length is one byte below 128, else four bytes with the top bit set (FastCGI 1.0, 3.4).
    private static func length(_ bytes: [UInt8], _ index: inout Int) -> Int? {
        guard index < bytes.count else { return nil }
        if bytes[index] < 0x80 {
            index += 1
            return Int(bytes[index - 1])
        }
        guard bytes.count - index >= 4 else { return nil }
        let value = Int(bytes[index] & 0x7f) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8
            | Int(bytes[index + 3])
        index += 4
        return value
    }

    func value(_ name: String) -> [UInt8]? {
        var name = name
        return name.withUTF8 { wanted in
            for entry in entries where entry.name.count == wanted.count {
                if bytes[entry.name].elementsEqual(wanted) { return Array(bytes[entry.value]) }
            }
            return nil
        }
    }

    func parameters(prefixed prefix: StaticString) -> [(name: String, value: String)] {
        let wanted = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var found: [(name: String, value: String)] = []
        for entry in entries where bytes[entry.name].starts(with: wanted) {
            found.append((String(decoding: bytes[entry.name], as: UTF8.self), String(decoding: bytes[entry.value], as: UTF8.self)))
        }
        return found
    }
}
