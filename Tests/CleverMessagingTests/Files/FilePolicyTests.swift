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

@Suite("FilePolicy: receiver-side confinement of filetransfer paths")
struct FilePolicyTests {

    /// Runs a check and returns its outcome instead of throwing.
    static func outcome(_ body: () throws(FilePolicyError) -> ResolvedPath) -> Result<ResolvedPath, FilePolicyError> {
        do {
            return .success(try body())
        } catch {
            return .failure(error)
        }
    }

    static func error(_ result: Result<ResolvedPath, FilePolicyError>) -> FilePolicyError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test("at least 30 hostile paths are refused both for writing and for reading")
    func hostileCorpus() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let corpus = Self.hostilePaths(box)
        #expect(corpus.count >= 30)
        for path in corpus {
            let written = Self.outcome { () throws(FilePolicyError) in try policy.resolveForWriting(path) }
            let read = Self.outcome { () throws(FilePolicyError) in try policy.resolveForReading(path) }
            #expect(Self.error(written) != nil, "write accepted: \(FilePolicyError.sanitize(path)) -> \(written)")
            #expect(Self.error(read) != nil, "read accepted: \(FilePolicyError.sanitize(path)) -> \(read)")
        }
        // Nothing was created by the checks.
        #expect(!FilePolicySandbox.exists(box.outside + "/new.csv"))
    }

    @Test("the reason given for refused paths")
    func specificErrors() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let s = FilePolicyError.sanitize
        let writing: [(String, FilePolicyError)] = [
            ("", .emptyPath),
            ("a\u{0}b", .containsNUL),
            ("a\nb", .controlCharacter("U+000A")),
            ("a\u{7}b", .controlCharacter("U+0007")),
            ("a\u{85}b", .controlCharacter("U+0085")),
            ("../x", .parentReference("../x")),
            ("a/..", .parentReference("a/..")),
            (box.root + "/../outside/x", .parentReference(s(box.root + "/../outside/x"))),
            ("~", .homeReference),
            ("~root/x", .homeReference),
            (String(repeating: "a/", count: 2500), .tooLong(5000)),
            ("\u{202E}txt.exe", .suspiciousCharacters("\\u{202E}txt.exe")),
            ("．．/x", .suspiciousCharacters("．．")),
            ("\u{2025}/x", .suspiciousCharacters("\u{2025}")),
            ("   ", .suspiciousCharacters("   ")),
            ("/etc/passwd", .outsideRoots("/etc/passwd")),
            ("/", .outsideRoots("/")),
            (box.evil + "/x", .outsideRoots(s(box.evil + "/x"))),
            ("symlink_to_root/etc/passwd", .outsideRoots("symlink_to_root/etc/passwd")),
            ("link_to_outside/x", .outsideRoots("link_to_outside/x")),
            ("link_to_outside/new.csv", .outsideRoots("link_to_outside/new.csv")),
            ("link_to_outside_file", .outsideRoots("link_to_outside_file")),
            ("link_to_root2/x", .outsideRoots("link_to_root2/x")),
            ("dangling", .symlink("dangling")),
            ("loop", .symlink("loop")),
            ("inner_link", .symlink("inner_link")),
            ("inner_dir_link", .symlink("inner_dir_link")),
            ("fifo", .notRegularFile("fifo")),
            ("dir", .isDirectory("dir")),
            ("dir/", .isDirectory("dir/")),
            (".", .isDirectory(".")),
            (box.root, .isDirectory(s(box.root))),
            ("a.csv/x", .notDirectory("a.csv/x")),
            ("hardlink.csv", .hardLinked("hardlink.csv")),
        ]
        for (path, expected) in writing {
            let got = Self.error(Self.outcome { () throws(FilePolicyError) in try policy.resolveForWriting(path) })
            #expect(got == expected, "writing \(s(path))")
        }
        let componentError = Self.error(
            Self.outcome { () throws(FilePolicyError) in try policy.resolveForWriting(String(repeating: "b", count: 300)) })
        guard case .componentTooLong = componentError else {
            Issue.record("expected componentTooLong, got \(String(describing: componentError))")
            return
        }
        let reading: [(String, FilePolicyError)] = [
            ("missing.csv", .notFound("missing.csv")),
            ("nodir/missing.csv", .notFound("nodir/missing.csv")),
            ("fifo", .notRegularFile("fifo")),
            ("dir", .isDirectory("dir")),
            ("inner_dir_link", .isDirectory("inner_dir_link")),
            ("/proc/self/environ", .outsideRoots("/proc/self/environ")),
            ("/dev/null", .outsideRoots("/dev/null")),
            ("/nonexistent/x", .outsideRoots("/nonexistent/x")),  // no existence leak outside
            ("link_to_outside_file", .outsideRoots("link_to_outside_file")),
            ("link_to_outside/missing", .outsideRoots("link_to_outside/missing")),
            ("dangling", .symlink("dangling")),
        ]
        for (path, expected) in reading {
            let got = Self.error(Self.outcome { () throws(FilePolicyError) in try policy.resolveForReading(path) })
            #expect(got == expected, "reading \(s(path))")
        }
    }

    @Test("allowed write destinations resolve to canonical absolute paths")
    func allowedWrites() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let root = box.root
        let cases: [(String, String)] = [
            ("a.csv", root + "/a.csv"),
            ("new.csv", root + "/new.csv"),
            ("./x", root + "/x"),
            ("a//b.csv", root + "/a/b.csv"),
            (root + "/abs.csv", root + "/abs.csv"),
            (root + "/./dir/./inner.csv", root + "/dir/inner.csv"),
            ("animations/show.csv", root + "/animations/show.csv"),
            ("Дрон.csv", root + "/Дрон.csv"),
            ("動画/ショー.csv", root + "/動画/ショー.csv"),
            ("émoji_🚁.csv", root + "/émoji_🚁.csv"),
            ("back\\slash.csv", root + "/back\\slash.csv"),
            ("name with spaces.csv", root + "/name with spaces.csv"),
            (".hidden", root + "/.hidden"),
            ("a..b", root + "/a..b"),
            ("..a", root + "/..a"),
            ("a~", root + "/a~"),
            ("x/~/y", root + "/x/~/y"),
            ("inner_dir_link/new.csv", root + "/dir/new.csv"),  // link inside the root, to inside
            (String(repeating: "c", count: 255), root + "/" + String(repeating: "c", count: 255)),
        ]
        for (path, expected) in cases {
            let result = Self.outcome { () throws(FilePolicyError) in try policy.resolveForWriting(path) }
            guard case .success(let resolved) = result else {
                Issue.record("refused \(path): \(result)")
                continue
            }
            #expect(resolved.path == expected)
            #expect(resolved.root == root)
            #expect(resolved.path.hasPrefix(resolved.directory + "/"))
            #expect(resolved.directory + "/" + resolved.fileName == resolved.path)
        }
    }

    @Test("missing parent directories are created inside the root, then the file can be read")
    func createsParents() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let resolved = try policy.resolveForWriting("animations/show.csv")
        #expect(resolved.directory == box.root + "/animations")
        #expect(resolved.fileName == "show.csv")
        #expect(!FilePolicySandbox.exists(resolved.directory))
        try policy.createParentDirectories(of: resolved)
        #expect(FilePolicySandbox.kind(resolved.directory) == mode_t(0o040000))
        try FilePolicySandbox.write("frame\n", to: resolved.path)
        let read = try policy.resolveForReading("animations/show.csv")
        #expect(read.path == resolved.path)
        #expect(try policy.resolveForWriting("animations/show.csv") == resolved)

        let deep = try policy.resolveForWriting("a1/b2/c3/d.csv")
        try policy.createParentDirectories(of: deep)
        #expect(FilePolicySandbox.kind(box.root + "/a1/b2/c3") == mode_t(0o040000))
        try policy.createParentDirectories(of: deep)  // idempotent

        let plain = try policy.resolveForWriting("top.csv")
        try policy.createParentDirectories(of: plain)  // nothing to create
    }

    @Test("createParentDirectories re-checks components: a link swapped in after the check is refused")
    func createParentsRace() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let resolved = try policy.resolveForWriting("x/y/z.csv")
        // An attacker with local access replaces the missing directory by a link.
        try FilePolicySandbox.check(symlink(box.outside, box.root + "/x"), "symlink")
        #expect(throws: FilePolicyError.symlink(FilePolicyError.sanitize(box.root + "/x"))) {
            try policy.createParentDirectories(of: resolved)
        }
        #expect(!FilePolicySandbox.exists(box.outside + "/y"))

        let blocked = try policy.resolveForWriting("q/r.csv")
        try FilePolicySandbox.write("in the way\n", to: box.root + "/q")
        #expect(throws: FilePolicyError.notDirectory(FilePolicyError.sanitize(box.root + "/q"))) {
            try policy.createParentDirectories(of: blocked)
        }
    }

    @Test("createParentDirectories refuses a forged ResolvedPath")
    func createParentsForged() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let forged = [
            ResolvedPath(path: box.outside + "/n/f", root: box.outside, directory: box.outside + "/n", fileName: "f"),
            ResolvedPath(path: box.outside + "/n/f", root: box.root, directory: box.outside + "/n", fileName: "f"),
            ResolvedPath(path: box.root + "/../n/f", root: box.root, directory: box.root + "/../n", fileName: "f"),
            ResolvedPath(path: box.evil + "/n/f", root: box.root, directory: box.evil + "/n", fileName: "f"),
            ResolvedPath(path: "n/f", root: box.root, directory: "n", fileName: "f"),
            ResolvedPath(path: box.root + "/\u{202E}n/f", root: box.root, directory: box.root + "/\u{202E}n", fileName: "f"),
            ResolvedPath(path: box.root + "/.../f", root: box.root, directory: box.root + "/...", fileName: "f"),
        ]
        for resolved in forged {
            #expect(throws: FilePolicyError.self) { try policy.createParentDirectories(of: resolved) }
        }
        #expect(!FilePolicySandbox.exists(box.outside + "/n"))
        #expect(!FilePolicySandbox.exists(box.base + "/n"))
        #expect(!FilePolicySandbox.exists(box.evil + "/n"))
        #expect(!FilePolicySandbox.exists(box.root + "/\u{202E}n"))
        #expect(!FilePolicySandbox.exists(box.root + "/..."))
    }

    @Test("reading: existing regular files inside the root; links are followed only inside it")
    func allowedReads() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        let cases: [(String, String)] = [
            ("a.csv", box.root + "/a.csv"),
            ("./a.csv", box.root + "/a.csv"),
            (box.root + "/a.csv", box.root + "/a.csv"),
            ("dir/inner.csv", box.root + "/dir/inner.csv"),
            ("inner_link", box.root + "/a.csv"),
            ("inner_dir_link/inner.csv", box.root + "/dir/inner.csv"),
        ]
        for (path, expected) in cases {
            let resolved = try policy.resolveForReading(path)
            #expect(resolved.path == expected)
            #expect(resolved.root == box.root)
        }
        #expect(throws: FilePolicyError.notFound("missing.csv")) { try policy.resolveForReading("missing.csv") }
    }

    @Test("a second root: absolute paths may use it, relative paths stay in the first")
    func secondRoot() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy([box.root, box.root2])
        #expect(policy.allowedRoots == [box.root, box.root2])
        let inSecond = try policy.resolveForWriting(box.root2 + "/y.csv")
        #expect(inSecond.root == box.root2)
        #expect(inSecond.path == box.root2 + "/y.csv")
        let relative = try policy.resolveForWriting("y.csv")
        #expect(relative.root == box.root)
        #expect(throws: FilePolicyError.outsideRoots("link_to_root2/y.csv")) {
            try policy.resolveForWriting("link_to_root2/y.csv")
        }
        // Absolute path through a link in the first root into the second: inside a root.
        let viaLink = try policy.resolveForWriting(box.root + "/link_to_root2/y.csv")
        #expect(viaLink.path == box.root2 + "/y.csv")
        #expect(viaLink.root == box.root2)
        try FilePolicySandbox.write("y\n", to: box.root2 + "/y.csv")
        #expect(try policy.resolveForReading(box.root2 + "/y.csv").root == box.root2)
        #expect(throws: FilePolicyError.self) { try policy.resolveForReading(box.evil + "/x") }
    }

    @Test("roots are compared byte-wise: an NFD sibling of an NFC root is outside")
    func unicodeNormalizationSibling() throws {
        let box = try FilePolicySandbox()
        let nfc = box.base + "/caf\u{E9}"
        let nfd = box.base + "/cafe\u{301}"
        #expect(nfc == nfd)  // Swift's == says equal; the file system does not
        try FilePolicySandbox.check(mkdir(nfc, 0o755), "mkdir nfc")
        try FilePolicySandbox.check(mkdir(nfd, 0o755), "mkdir nfd")
        try FilePolicySandbox.write("secret\n", to: nfd + "/secret.txt")
        try FilePolicySandbox.check(symlink(nfd, nfc + "/link"), "symlink")
        let policy = try FilePolicy(allowedRoots: [nfc])
        for path in [nfd + "/secret.txt", nfd + "/new.csv", "link/secret.txt", "link/new.csv"] {
            #expect(throws: FilePolicyError.self) { try policy.resolveForWriting(path) }
            #expect(throws: FilePolicyError.self) { try policy.resolveForReading(path) }
        }
    }

    @Test("hard-linked files are not overwritten")
    func hardLink() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        #expect(throws: FilePolicyError.hardLinked("hardlink.csv")) { try policy.resolveForWriting("hardlink.csv") }
    }

    @Test("init resolves roots and refuses missing roots and files")
    func initialisation() throws {
        let box = try FilePolicySandbox()
        #expect(throws: FilePolicyError.noRoots) { try FilePolicy(allowedRoots: []) }
        #expect(throws: FilePolicyError.rootInvalid(FilePolicyError.sanitize(box.base + "/missing"))) {
            try FilePolicy(allowedRoots: [box.base + "/missing"])
        }
        #expect(throws: FilePolicyError.rootInvalid(FilePolicyError.sanitize(box.root + "/a.csv"))) {
            try FilePolicy(allowedRoots: [box.root + "/a.csv"])
        }
        #expect(throws: FilePolicyError.rootInvalid("")) { try FilePolicy(allowedRoots: [""]) }
        #expect(throws: FilePolicyError.self) { try FilePolicy(allowedRoots: [box.root + "/dangling"]) }

        let viaLink = try FilePolicy(allowedRoots: [box.root + "/inner_dir_link", box.root + "/dir/"])
        #expect(viaLink.allowedRoots == [box.root + "/dir"])
        let dotted = try FilePolicy(allowedRoots: [box.root + "/dir/../dir"])
        #expect(dotted.allowedRoots == [box.root + "/dir"])

        let cwd = try FilePolicy()
        let real = realpath(FileManager.default.currentDirectoryPath, nil)
        defer { free(real) }
        #expect(cwd.allowedRoots == [String(cString: real!)])
        #expect(cwd.owner == nil)
    }

    @Test("applyOwner changes the owner with lchown, only inside a root")
    func owner() throws {
        let box = try FilePolicySandbox()
        let me = FileOwner(uid: UInt32(getuid()), gid: UInt32(getgid()))
        let policy = try box.policy(owner: me)
        #expect(policy.owner == me)
        let resolved = try policy.resolveForWriting("owned/file.csv")
        try policy.createParentDirectories(of: resolved)
        try FilePolicySandbox.write("data\n", to: resolved.path)
        try policy.applyOwner(to: resolved.path)
        var info = stat()
        #expect(lstat(resolved.path, &info) == 0)
        #expect(UInt32(info.st_uid) == me.uid)
        #expect(UInt32(info.st_gid) == me.gid)

        #expect(throws: FilePolicyError.outsideRoots(FilePolicyError.sanitize(box.outside + "/secret.txt"))) {
            try policy.applyOwner(to: box.outside + "/secret.txt")
        }
        #expect(throws: FilePolicyError.outsideRoots(FilePolicyError.sanitize(box.root + "/../outside/secret.txt"))) {
            try policy.applyOwner(to: box.root + "/../outside/secret.txt")
        }
        #expect(throws: FilePolicyError.outsideRoots("relative.csv")) { try policy.applyOwner(to: "relative.csv") }
        #expect(throws: FilePolicyError.notFound(FilePolicyError.sanitize(box.root + "/none.csv"))) {
            try policy.applyOwner(to: box.root + "/none.csv")
        }

        // Without an owner it does nothing, whatever the path.
        let noOwner = try box.policy()
        try noOwner.applyOwner(to: "/etc/passwd")

        // As root, hand files and created directories to another user.
        if getuid() == 0 {
            let other = FileOwner(uid: 4321, gid: 4322)
            let giving = try box.policy(owner: other)
            let target = try giving.resolveForWriting("given/sub/f.csv")
            try giving.createParentDirectories(of: target)
            try FilePolicySandbox.write("f\n", to: target.path)
            try giving.applyOwner(to: target.path)
            for path in [box.root + "/given", box.root + "/given/sub", target.path] {
                var st = stat()
                #expect(lstat(path, &st) == 0)
                #expect(UInt32(st.st_uid) == 4321, "\(path)")
                #expect(UInt32(st.st_gid) == 4322, "\(path)")
            }
            // lchown does not follow a link: the outside file keeps its owner.
            try giving.applyOwner(to: box.root + "/link_to_outside_file")
            var secret = stat()
            #expect(lstat(box.outside + "/secret.txt", &secret) == 0)
            #expect(secret.st_uid == 0)
        }
    }

    @Test("error descriptions are safe to log")
    func descriptions() throws {
        let box = try FilePolicySandbox()
        let policy = try box.policy()
        for path in ["\u{202E}txt.exe", "a\nb", "x\u{2066}y", "a\u{0}b", "\u{200B}", "../\n/x", "~\u{1B}[31m"] {
            let error = Self.error(Self.outcome { () throws(FilePolicyError) in try policy.resolveForWriting(path) })
            let text = error.map { "\($0)" } ?? ""
            #expect(!text.isEmpty)
            #expect(!text.unicodeScalars.contains { FilePolicy.isControl($0) || FilePolicy.isDisguising($0) }, "\(text)")
        }
        #expect(FilePolicyError.sanitize("a\u{202E}b\\c\nd") == "a\\u{202E}b\\\\c\\u{000A}d")
        let long = FilePolicyError.sanitize(String(repeating: "z", count: 5000))
        #expect(long.count < 300)
        #expect(FilePolicyError.parentReference("../x").description.contains("../x"))
    }

    @Test("lexical validation alone")
    func lexical() throws {
        let relative = try FilePolicy.lexicallyValidate("./a//b/./c.csv")
        #expect(relative == FilePolicy.LexicalPath(isAbsolute: false, components: ["a", "b", "c.csv"]))
        let absolute = try FilePolicy.lexicallyValidate("/srv/show/Дрон.csv")
        #expect(absolute == FilePolicy.LexicalPath(isAbsolute: true, components: ["srv", "show", "Дрон.csv"]))
        #expect(FilePolicy.cleanAbsoluteComponents("/a/b/") == ["a", "b"])
        #expect(FilePolicy.cleanAbsoluteComponents("/") == [])
        #expect(FilePolicy.cleanAbsoluteComponents("a/b") == nil)
        #expect(FilePolicy.cleanAbsoluteComponents("/a/../b") == nil)
        #expect(FilePolicy.hasPrefix(["srv", "root"], ["srv", "root"]))
        #expect(!FilePolicy.hasPrefix(["srv", "root-evil", "x"], ["srv", "root"]))
        #expect(!FilePolicy.hasPrefix(["srv"], ["srv", "root"]))
        #expect(try FilePolicy.lexicallyValidate(String(repeating: "a/", count: 2047) + "aa").components.count == 2048)
        #expect(throws: FilePolicyError.tooLong(4097)) {
            try FilePolicy.lexicallyValidate(String(repeating: "a/", count: 2048) + "a")
        }
    }
}
