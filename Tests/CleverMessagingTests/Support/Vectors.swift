import CleverMessaging
import Foundation
import NIOCore

/// The reference frames: the repository's copy of `../shared/protocol/vectors.json`
/// (`.ci/run` checks that the two are identical when the shared folder is there).
struct Vector: Sendable {
    var name: String
    var note: String
    var bytes: [UInt8]
}

enum Vectors {
    /// The repository's root (two levels above this file's folder).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The fixtures folder of the test target.
    static let fixtures: URL = packageRoot.appendingPathComponent("Tests/CleverMessagingTests/Fixtures")

    /// All vectors, loaded once.
    static let all: [Vector] = {
        let url = fixtures.appendingPathComponent("vectors.json")
        guard let data = try? Data(contentsOf: url),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = root["vectors"] as? [[String: String]]
        else { fatalError("cannot read \(url.path)") }
        return list.map { Vector(name: $0["name"]!, note: $0["note"]!, bytes: hexBytes($0["hex"]!)) }
    }()

    /// The vector called `name`.
    static func named(_ name: String) -> Vector {
        guard let v = all.first(where: { $0.name == name }) else { fatalError("no vector \(name)") }
        return v
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        guard let bytes = Hex.decode(hex) else { preconditionFailure("not hexadecimal: \(hex.prefix(40))") }
        return bytes
    }
}
