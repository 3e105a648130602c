import CleverMessaging
import Foundation
import NIOCore
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

    @Test("the seed corpus of Scripts/fuzz-seeds.py runs through every target; its signed beacons pass BeaconFuzz's key check")
    func seeds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clever-seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = Vectors.packageRoot.appendingPathComponent("Scripts/fuzz-seeds.py").path
        _ = try await PythonInterop.run(
            script: "import runpy, sys; sys.argv = ['fuzz-seeds.py', sys.stdin.read().strip()]; runpy.run_path(\(String(reflecting: script)), run_name='__main__')",
            input: directory.path
        )
        for target in FuzzTarget.allCases {
            let folder = directory.appendingPathComponent(target.rawValue)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(!names.isEmpty, "no seeds for \(target)")
            for name in names {
                let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
                bytes.withUnsafeBytes { FuzzHarness.run($0, target: target) }
            }
        }
        // The second beacon seed is signed with the harness's key at its instant: mutations start past the signature.
        let signed = try Data(contentsOf: directory.appendingPathComponent("beacon/seed-001"))
        #expect((try? BeaconFuzz.signed.verify(ByteBuffer(bytes: signed), now: BeaconFuzz.now).get()) != nil)
    }

    @Test("each saved input runs through its target without a crash", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        for url in Self.inputs(of: target) {
            let bytes = try Data(contentsOf: url)
            bytes.withUnsafeBytes { FuzzHarness.run($0, target: target) }
        }
    }
}
