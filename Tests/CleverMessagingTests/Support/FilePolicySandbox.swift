import Foundation
import Testing

@testable import CleverMessaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A throw-away directory tree under /tmp for one test:
///
///     <base>/root/                 the allowed root
///         a.csv                    regular file
///         dir/inner.csv            directory with a file
///         fifo                     named pipe
///         symlink_to_root   -> /
///         link_to_outside   -> <base>/outside
///         link_to_outside_file -> <base>/outside/secret.txt
///         dangling          -> <base>/outside/missing.txt
///         loop              -> loop
///         inner_link        -> a.csv            (inside the root)
///         inner_dir_link    -> dir              (inside the root)
///         link_to_root2     -> <base>/root2
///         hardlink.csv      hard link to <base>/outside/secret.txt
///     <base>/outside/secret.txt, <base>/outside/x
///     <base>/root-evil/x       sibling whose name has the root as prefix
///     <base>/root2/            a second root
///
/// Cleanup never follows a symbolic link (the tree holds a link to `/`).
final class FilePolicySandbox {
    let base: String
    let root: String
    let outside: String
    let evil: String
    let root2: String

    init() throws {
        var template = Array("/tmp/clever-filepolicy-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let name = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: name)
        }
        guard let raw = made else { throw SandboxError("mkdtemp failed: errno \(errno)") }
        guard let real = realpath(raw, nil) else { throw SandboxError("realpath failed") }
        base = String(cString: real)
        free(real)
        root = base + "/root"
        outside = base + "/outside"
        evil = base + "/root-evil"
        root2 = base + "/root2"

        for directory in [root, outside, evil, root2, root + "/dir"] {
            try Self.check(mkdir(directory, 0o755), "mkdir \(directory)")
        }
        try Self.write("hello\n", to: root + "/a.csv")
        try Self.write("inner\n", to: root + "/dir/inner.csv")
        try Self.write("secret\n", to: outside + "/secret.txt")
        try Self.write("x\n", to: outside + "/x")
        try Self.write("evil\n", to: evil + "/x")
        try Self.check(mkfifo(root + "/fifo", 0o644), "mkfifo")
        let links: [(String, String)] = [
            ("/", "symlink_to_root"),
            (outside, "link_to_outside"),
            (outside + "/secret.txt", "link_to_outside_file"),
            (outside + "/missing.txt", "dangling"),
            ("loop", "loop"),
            ("a.csv", "inner_link"),
            ("dir", "inner_dir_link"),
            (root2, "link_to_root2"),
        ]
        for (target, name) in links {
            try Self.check(symlink(target, root + "/" + name), "symlink \(name)")
        }
        try Self.check(link(outside + "/secret.txt", root + "/hardlink.csv"), "link")
    }

    deinit {
        Self.removeTree(base)
    }

    func policy(_ roots: [String]? = nil, owner: FileOwner? = nil) throws -> FilePolicy {
        try FilePolicy(allowedRoots: roots ?? [root], owner: owner)
    }

    struct SandboxError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw SandboxError("\(what) failed: errno \(errno)") }
    }

    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw SandboxError("cannot create \(path)")
        }
    }

    static func kind(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & mode_t(0o170000)
    }

    static func exists(_ path: String) -> Bool { kind(path) != nil }

    /// Removes a tree without ever following a symbolic link: only real
    /// directories (per lstat) are descended into.
    static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/clever-filepolicy-") || path.contains("/clever-filepolicy-") else { return }
        guard let kind = kind(path) else { return }
        if kind == mode_t(0o040000) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for entry in entries where entry != "." && entry != ".." {
                removeTree(path + "/" + entry)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
