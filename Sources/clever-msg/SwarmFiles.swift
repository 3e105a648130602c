import ArgumentParser
import CleverDrone
import CleverMessaging
import Foundation

/// `swarm --root DIR`: each simulated drone's own directory DIR/ID for file
/// pushes and pulls, created when the drone is made.
struct SwarmFiles {
    /// The directory every drone's directory is in (absolute).
    let root: String

    /// Reads `--root`, creating the directory; `nil` without one.
    /// - Throws: a `ValidationError` when it cannot be created.
    init?(root: String?) throws {
        guard let root else { return nil }
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("--root \(root): \(error.localizedDescription)")
        }
        self.root = absolute
    }

    /// Drone `id`'s directory.
    func directory(for id: String) -> String {
        "\(root)/\(id)"
    }

    /// Creates drone `id`'s sandbox DIR/ID.
    /// - Throws: a `ValidationError` for an id that is not a plain file name, or a directory that cannot be made.
    func sandbox(for id: String) throws -> DroneSandbox {
        guard !id.isEmpty, id != ".", id != "..", !id.contains("/") else {
            throw ValidationError("drone id \(id) cannot name a directory under --root")
        }
        let directory = directory(for: id)
        do {
            return try DroneSandbox(directory: directory)
        } catch {
            throw ValidationError("--root: \(directory): \(error)")
        }
    }
}
