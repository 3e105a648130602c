import Foundation
import Testing

@testable import CleverMessaging

/// `FilePolicy.resolvesParentReferences`: `..` resolved by text, the result still confined.
@Suite("File policy: parent references")
struct FilePolicyParentTests {
    @Test("off (the default): every `..` is refused; on: resolved by text and kept inside the root")
    func parents() throws {
        let sandbox = try FilePolicySandbox()
        var policy = try sandbox.policy()
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("dir/../a.csv") }
        policy.resolvesParentReferences = true
        #expect(try policy.resolveForWriting("dir/../a.csv").path == sandbox.root + "/a.csv")
        #expect(try policy.resolveForWriting(sandbox.root + "/new/deeper/../map.txt").path == sandbox.root + "/new/map.txt")
        #expect(try policy.resolveForReading("dir/../a.csv").path == sandbox.root + "/a.csv")
        // Out of the root, past the path's start, or naming a directory: refused.
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("../outside/x") }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting(sandbox.root + "/../outside/x") }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("/../etc/passwd") }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("dir/..") }
        // A link is never resolved by `..`: the text decides, and the result is checked as usual.
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("link_to_outside/../link_to_outside/x") }
    }
}
