import Foundation
import Testing

@testable import clever_fuzz

/// Every input that libFuzzer found a crash, hang or runaway allocation with
/// (`Scripts/fuzz.sh`) runs again through the same harness target, so the fix
/// stays fixed. The inputs live in `Fixtures/fuzz/TARGET/`, one file each,
/// named for what they found.
@Suite("libFuzzer findings stay fixed")
struct FuzzRegressionTests {
    static let directory = Vectors.fixtures.appendingPathComponent("fuzz")

    static func inputs(of target: FuzzTarget) -> [URL] {
        let folder = directory.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test("each saved input runs through its target without a crash", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        for url in Self.inputs(of: target) {
            let bytes = try Data(contentsOf: url)
            bytes.withUnsafeBytes { FuzzHarness.run($0, target: target) }
        }
    }
}
