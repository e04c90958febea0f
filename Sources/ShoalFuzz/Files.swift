import Glibc

/// `path` itself if it is a file, else the regular files directly inside it, sorted.
func filesBelow(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [path] }
    defer { closedir(directory) }
    var files: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard !name.hasPrefix(".") else { continue }
        files.append(path + "/" + name)
    }
    return files.sorted()
}

/// The whole file, or nil if it cannot be read.
func readAll(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[..<count]
        if count < chunk.count { return ferror(file) == 0 ? bytes : nil }
    }
}

#if !FUZZING
/// `shoal-fuzz TARGET PATH...` in a plain build: every input once through the target.
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " | ")
            complain("usage: shoal-fuzz \(names) [corpus directories or files]")
            exit(64)
        }
        var replayed = 0
        for path in arguments.dropFirst(2) {
            for file in filesBelow(path) {
                guard let bytes = readAll(file) else {
                    complain("shoal-fuzz: cannot read \(file)")
                    exit(66)
                }
                target.run(bytes)
                replayed += 1
            }
        }
        print("shoal-fuzz: \(target.rawValue): \(replayed) inputs replayed, none trapped")
    }
}
#endif
