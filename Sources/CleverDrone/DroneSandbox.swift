import CleverMessaging
import Foundation

/// A simulated drone's folder: its working directory (`animation.csv`,
/// `temp.params`, `config/client.ini`) with a Clover package inside it, so
/// that every path the ground station pushes to (DRONE.md §6.1), the aruco
/// map beside `clover_dir` included, lands inside it and nothing outside it
/// is ever written.
public struct DroneSandbox: Sendable, Hashable {
    /// The drone's working folder (absolute, links resolved): relative paths land here.
    public let root: String

    /// Creates the folder and its Clover package folder when missing.
    /// - Parameter directory: the folder (created with its parents).
    /// - Throws: the file system's error when it cannot be created.
    public init(directory: String) throws {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        root = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: cloverDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
    }

    /// The `clover_dir` the drone reports: a Clover package inside the sandbox.
    public var cloverDirectory: String { root + "/catkin_ws/src/clover/clover" }
    /// `animation.csv`.
    public var animationPath: String { root + "/animation.csv" }
    /// `temp.params`.
    public var parametersPath: String { root + "/temp.params" }
    /// `config/client.ini`.
    public var configPath: String { root + "/config/client.ini" }

    /// The policy that confines the drone's file pushes and pulls to the sandbox; `..` is
    /// resolved by text, as `<clover_dir>/../aruco_pose/…` needs, and must stay inside.
    /// - Returns: the policy.
    /// - Throws: `FilePolicyError` when the folder is gone.
    public func filePolicy() throws -> FilePolicy {
        var policy = try FilePolicy(allowedRoots: [root])
        policy.resolvesParentReferences = true
        return policy
    }

    /// Reads a file of the sandbox as text.
    /// - Parameter path: an absolute path inside the sandbox.
    /// - Returns: the text, or `nil` when it cannot be read (or is outside the sandbox).
    public func read(_ path: String) -> String? {
        guard path.hasPrefix(root + "/") else { return nil }
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes `text` to a file of the sandbox (replacing it atomically).
    /// - Parameters:
    ///   - text: the contents.
    ///   - path: an absolute path inside the sandbox; any other is ignored.
    public func write(_ text: String, to path: String) {
        guard path.hasPrefix(root + "/"), !path.contains("/../") else { return }
        try? Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
