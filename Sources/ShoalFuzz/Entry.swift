import Glibc

// Built with `make fuzz` (swift build --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING),
// this is a libFuzzer program: `SHOAL_FUZZ_TARGET=query shoal-fuzz [libFuzzer options] CORPUS`.
// Built plainly (as every `swift build` does), `shoal-fuzz TARGET PATH...` replays the files and
// directories given through TARGET once each, so that a committed corpus is checked without the
// sanitizer runtime.

/// One line on stderr (through write(2): the C `stderr` global is not concurrency-safe to Swift 6).
func complain(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

#if FUZZING
/// The target named by SHOAL_FUZZ_TARGET; libFuzzer owns the command line.
let selectedTarget: FuzzTarget = {
    guard let name = getenv("SHOAL_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name)
    else {
        complain("set SHOAL_FUZZ_TARGET to one of: " + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif
