import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "clever") {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        // Resolve symlinks (e.g. /tmp -> /private/tmp) so paths compare equal to resolved ones.
        path = URL(fileURLWithPath: base.path).resolvingSymlinksInPath().path
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) {
        let url = URL(fileURLWithPath: file(name))
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(bytes).write(to: url)
    }

    func read(_ name: String) -> [UInt8]? {
        (try? Data(contentsOf: URL(fileURLWithPath: file(name)))).map { Array($0) }
    }

    /// Names in the directory (recursively), sorted.
    var contents: [String] {
        (FileManager.default.subpaths(atPath: path) ?? []).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Test content: every byte value, repeated, then a seeded pseudo-random tail.
func sampleBytes(count: Int) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in 0..<count {
        if i < 256 * 4 {
            out.append(UInt8(i & 0xFF))
        } else {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            out.append(UInt8(truncatingIfNeeded: x))
        }
    }
    return out
}

/// Waits until `condition` holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        if clock.now >= deadline { return false }
        // A poll, for state that tells no one when it changes (files on disk, counters): prefer ``Watched``.
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}
