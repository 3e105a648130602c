#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The user and group that written files are handed to.
public struct FileOwner: Sendable, Hashable {
    /// The numeric user id.
    public var uid: UInt32
    /// The numeric group id.
    public var gid: UInt32

    /// Creates an owner from numeric ids.
    /// - Parameters:
    ///   - uid: the numeric user id.
    ///   - gid: the numeric group id.
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

/// A path that ``FilePolicy`` accepted, in canonical form.
package struct ResolvedPath: Sendable, Hashable {
    /// The absolute path to open. For writing: the symlink-resolved existing
    /// directories followed by the missing ones and the file name. For reading:
    /// the `realpath` of the file.
    package var path: String
    /// The allowed root that contains ``path``.
    package var root: String
    /// The absolute parent directory of ``path`` (it may not exist yet for a
    /// write: see ``FilePolicy/createParentDirectories(of:)``).
    package var directory: String
    /// The last component of ``path``.
    package var fileName: String

    /// Creates a resolved path. ``FilePolicy`` makes these; the initializer is
    /// open to the package for tests.
    /// - Parameters:
    ///   - path: the absolute path.
    ///   - root: the allowed root containing it.
    ///   - directory: the absolute parent directory of `path`.
    ///   - fileName: the last component of `path`.
    package init(path: String, root: String, directory: String, fileName: String) {
        self.path = path
        self.root = root
        self.directory = directory
        self.fileName = fileName
    }
}

/// The receiver-side confinement of `filetransfer` paths (PROTOCOL.md 3.2,
/// 3.4 and 6): a peer may ask us to write a pushed file at any path, or to read
/// any path for a pull; this policy only lets it reach regular files inside a
/// few root directories.
///
/// The rules, applied to the path exactly as the peer sent it (compared byte
/// by byte, never by Unicode equivalence):
/// * refused outright: the empty path; a NUL byte; C0/C1 control characters,
///   DEL and U+2028/U+2029; Unicode format characters (bidi controls
///   U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C, zero-width
///   characters, the BOM, ...), noncharacters, and slash or backslash
///   look-alikes (U+2215, U+2044, U+FF0F, U+FF3C, ...); a leading `~`; more
///   than ``maxPathBytes`` bytes; a component longer than
///   ``maxComponentBytes`` bytes; a `..` component anywhere (nothing is
///   normalized first, absolute paths included); a component made only of
///   dots, dot look-alikes (U+2024, U+2025, U+2026, U+FF0E, U+FE52, U+3002,
///   ...), white space and combining marks, other than a single `.`, which is
///   skipped, like empty components (`a//b`); a path ending with `/` or `/.`.
/// * a relative path is taken under the first root and must stay inside it; an
///   absolute path must be inside one of the roots.
/// * "inside" is decided after resolving symbolic links: the longest existing
///   prefix of the path is resolved with `realpath`, the missing components are
///   appended, and the result must have a root's components as a prefix
///   (component-wise, so `/srv/root-evil` is not inside `/srv/root`). A link
///   inside a root that points inside the same root is followed; one that
///   leaves it is refused; a dangling or looping link is refused.
/// * writing: the destination may not exist yet, and neither may its parent
///   directories (they are created, one checked component at a time); if it exists
///   it must be a regular file with a single hard link, and not a symbolic
///   link, even one pointing inside the root. A directory, a fifo, a socket or
///   a device is refused.
/// * reading: the file must exist, and its `realpath` must be a regular file
///   inside a root.
///
/// A checked path is opened with `O_NOFOLLOW` and, for writing, written to a
/// temporary file in the same directory and renamed, which never writes
/// through a link swapped in after the check.
public struct FilePolicy: Sendable, Hashable {
    /// The longest accepted path, in UTF-8 bytes (`PATH_MAX`).
    public static let maxPathBytes = 4096
    /// The longest accepted path component, in UTF-8 bytes (`NAME_MAX`).
    public static let maxComponentBytes = 255

    /// Absolute, symlink-resolved root directories. Relative request paths
    /// resolve under the first.
    public var allowedRoots: [String]
    /// Optional owner applied after writing (replaces the reference's
    /// `whoami == "pi"` chown), with the `lchown` call, never a shell.
    public var owner: FileOwner?
    /// Whether a `..` component is resolved by removing the component before
    /// it, as the reference ground station's paths expect
    /// (`<clover_dir>/../aruco_pose/…`), instead of refusing the path
    /// (default `false`). The resolution is textual, before any other check:
    /// the result must still be inside a root, and a `..` past the path's
    /// start, or a path ending in `..`, is refused.
    public var resolvesParentReferences = false

    /// Creates a policy.
    ///
    /// Each root is resolved with `realpath` and must be an existing directory;
    /// duplicates are dropped, the order is kept.
    /// - Parameters:
    ///   - allowedRoots: the directories files may be read from and written
    ///     to. Default: the current working directory only.
    ///   - owner: the user and group to give written files and created
    ///     directories to, or `nil` to leave them to the current user.
    /// - Throws: ``FilePolicyError/noRoots`` for an empty list,
    ///   ``FilePolicyError/rootInvalid(_:)`` for a root that does not exist or
    ///   is not a directory.
    public init(
        allowedRoots: [String] = [FilePolicy.currentDirectory()],
        owner: FileOwner? = nil
    ) throws(FilePolicyError) {
        guard !allowedRoots.isEmpty else { throw .noRoots }
        var roots: [String] = []
        for root in allowedRoots {
            let shown = FilePolicyError.sanitize(root)
            guard !root.isEmpty, !root.utf8.contains(0) else { throw .rootInvalid(shown) }
            guard case .success(let real) = Self.realPath(root) else { throw .rootInvalid(shown) }
            guard case .success(let info) = Self.lstatInfo(real), info.kind == .directory else {
                throw .rootInvalid(shown)
            }
            if !roots.contains(where: { Self.sameBytes($0, real) }) {
                roots.append(real)
            }
        }
        self.allowedRoots = roots
        self.owner = owner
    }

    /// The current working directory (`getcwd`), or `""` when it cannot be
    /// read (which ``init(allowedRoots:owner:)`` then refuses).
    /// - Returns: the absolute current directory.
    public static func currentDirectory() -> String {
        guard let buffer = getcwd(nil, 0) else { return "" }
        defer { free(buffer) }
        return String(validatingCString: buffer) ?? ""
    }

    // MARK: - Public checks

    /// Validates `path` (as received from a peer) for writing a pushed file.
    ///
    /// Missing parent directories inside the root are allowed
    /// (``createParentDirectories(of:)`` creates them later); existing
    /// components are resolved with `realpath` and must stay inside the root;
    /// the final component, if it exists, must be a regular file with one hard
    /// link and not a symbolic link. See ``FilePolicy`` for all the rules.
    /// - Parameter path: the destination path from the peer.
    /// - Returns: the absolute, canonical destination.
    /// - Throws: a ``FilePolicyError`` saying why the path is refused.
    package func resolveForWriting(_ path: String) throws(FilePolicyError) -> ResolvedPath {
        let lexical = try Self.lexicallyValidate(path, resolvingParents: resolvesParentReferences)
        let located = try locate(lexical, original: path)
        let shown = FilePolicyError.sanitize(path)
        if let final = located.final {
            switch final.kind {
            case .symlink: throw .symlink(shown)
            case .directory: throw .isDirectory(shown)
            case .regular: if final.links > 1 { throw .hardLinked(shown) }
            case .other: throw .notRegularFile(shown)
            }
        }
        return located.resolved
    }

    /// Validates `path` for reading (pull).
    ///
    /// The file must exist, be a regular file (after following links), and
    /// its `realpath` must be inside a root (relative paths: the first root).
    /// See ``FilePolicy`` for all the rules.
    /// - Parameter path: the path from the peer.
    /// - Returns: the `realpath` of the file and its root.
    /// - Throws: a ``FilePolicyError`` saying why the path is refused;
    ///   ``FilePolicyError/notFound(_:)`` for a missing file inside a root.
    package func resolveForReading(_ path: String) throws(FilePolicyError) -> ResolvedPath {
        let lexical = try Self.lexicallyValidate(path, resolvingParents: resolvesParentReferences)
        let located = try locate(lexical, original: path)
        let shown = FilePolicyError.sanitize(path)
        guard located.final != nil else { throw .notFound(shown) }
        switch Self.lstatInfo(located.resolved.path) {
        case .failure(let error):
            if error.code == ENOENT { throw .notFound(shown) }
            throw .io(shown, errno: error.code)
        case .success(let info):
            switch info.kind {
            case .regular: return located.resolved
            case .directory: throw .isDirectory(shown)
            case .symlink: throw .symlink(shown)  // replaced since realpath
            case .other: throw .notRegularFile(shown)
            }
        }
    }

    /// Creates the missing parent directories of a resolved write destination
    /// (mode 0755, less the umask), one at a time from the root down,
    /// re-checking with `lstat` that each created or existing component is a
    /// real directory (not a symbolic link). Every component below the root
    /// must pass the same character rules as a path from a peer. Directories
    /// it creates are given to ``owner`` when it is set.
    /// - Parameter resolved: a destination from ``resolveForWriting(_:)``.
    /// - Throws: ``FilePolicyError/outsideRoots(_:)`` when `resolved` is not
    ///   inside one of ``allowedRoots``, ``FilePolicyError/symlink(_:)`` when a
    ///   component is (or became) a link, ``FilePolicyError/notDirectory(_:)``
    ///   when it is something else, ``FilePolicyError/io(_:errno:)`` when
    ///   `mkdir` fails.
    package func createParentDirectories(of resolved: ResolvedPath) throws(FilePolicyError) {
        let shownDirectory = FilePolicyError.sanitize(resolved.directory)
        guard allowedRoots.contains(where: { Self.sameBytes($0, resolved.root) }),
            let rootComponents = Self.cleanAbsoluteComponents(resolved.root),
            let directoryComponents = Self.cleanAbsoluteComponents(resolved.directory),
            Self.hasPrefix(directoryComponents, rootComponents)
        else { throw .outsideRoots(shownDirectory) }
        let missing = directoryComponents[rootComponents.count...]
        for component in missing {
            // Each directory to create must be a name a peer could have sent.
            let checked = try Self.lexicallyValidate(component)
            guard !checked.isAbsolute, checked.components.count == 1 else {
                throw .suspiciousCharacters(FilePolicyError.sanitize(component))
            }
        }

        switch Self.lstatInfo(resolved.root) {
        case .success(let info) where info.kind == .directory: break
        default: throw .rootInvalid(FilePolicyError.sanitize(resolved.root))
        }

        var current = resolved.root
        for component in missing {
            current = Self.join(current, component)
            let shown = FilePolicyError.sanitize(current)
            var created = false
            if mkdir(current, 0o755) == 0 {
                created = true
            } else {
                let code = errno
                switch code {
                case EEXIST: break
                case ENOTDIR: throw .notDirectory(shown)
                case ELOOP: throw .symlink(shown)
                default: throw .io(shown, errno: code)
                }
            }
            switch Self.lstatInfo(current) {
            case .failure(let error): throw .io(shown, errno: error.code)
            case .success(let info):
                switch info.kind {
                case .directory: break
                case .symlink: throw .symlink(shown)
                case .regular, .other: throw .notDirectory(shown)
                }
            }
            if created, let owner {
                try Self.changeOwner(current, to: owner)
            }
        }
    }

    /// Applies ``owner`` to a path, if set, with the libc `lchown` call (no
    /// shell; a symbolic link is never followed). Does nothing when ``owner``
    /// is `nil`.
    /// - Parameter path: an absolute path inside one of ``allowedRoots``,
    ///   normally the path of a file just written.
    /// - Throws: ``FilePolicyError/outsideRoots(_:)`` for a path that is not
    ///   lexically inside a root, ``FilePolicyError/notFound(_:)`` when it does
    ///   not exist, ``FilePolicyError/io(_:errno:)`` when `lchown` fails.
    public func applyOwner(to path: String) throws(FilePolicyError) {
        guard let owner else { return }
        guard !path.utf8.contains(0),
            let components = Self.cleanAbsoluteComponents(path),
            allowedRoots.contains(where: { root in
                guard let rootComponents = Self.cleanAbsoluteComponents(root) else { return false }
                return components.count > rootComponents.count && Self.hasPrefix(components, rootComponents)
            })
        else { throw .outsideRoots(FilePolicyError.sanitize(path)) }
        try Self.changeOwner(path, to: owner)
    }

    // MARK: - Resolution

    /// What ``locate(_:original:)`` found.
    struct Located {
        /// The canonical destination and its root.
        var resolved: ResolvedPath
        /// `lstat` of the final component, or `nil` when it does not exist.
        var final: FileInfo?
    }

    /// Resolves a lexically valid path against the roots: resolves the longest
    /// existing prefix with `realpath`, appends the missing components, and
    /// checks the result is inside a root (relative paths: the first).
    func locate(_ lexical: LexicalPath, original: String) throws(FilePolicyError) -> Located {
        let shown = FilePolicyError.sanitize(original)
        guard let firstRoot = allowedRoots.first else { throw .noRoots }

        var candidates: [(root: String, components: [String])] = []
        for root in lexical.isAbsolute ? allowedRoots : [firstRoot] {
            if let components = Self.cleanAbsoluteComponents(root) {
                candidates.append((root, components))
            }
        }
        guard !candidates.isEmpty else { throw .rootInvalid(FilePolicyError.sanitize(firstRoot)) }

        let full = lexical.isAbsolute ? lexical.components : candidates[0].components + lexical.components
        let fullPath = Self.path(of: full[...])
        if fullPath.utf8.count >= Self.maxPathBytes { throw .tooLong(fullPath.utf8.count) }

        // The innermost candidate root containing `components`, if any.
        func containingRoot(_ components: [String]) -> (root: String, count: Int)? {
            var best: (root: String, count: Int)?
            for candidate in candidates where Self.hasPrefix(components, candidate.components) {
                if candidate.components.count >= (best?.count ?? 0) {
                    best = (candidate.root, candidate.components.count)
                }
            }
            return best
        }

        // Walk down with lstat to find the longest existing prefix.
        var existing = 0
        var stopErrno: Int32 = 0
        var final: FileInfo?
        var prefix = ""
        for component in full {
            prefix += "/" + component
            let result = Self.lstatInfo(prefix)
            guard case .success(let info) = result else {
                if case .failure(let error) = result { stopErrno = error.code }
                final = nil
                break
            }
            existing += 1
            final = info
        }

        // Resolve it, append the rest, and check it is inside a root, before
        // reporting anything else (paths outside the roots all get the same error).
        let resolvedComponents: [String]
        switch Self.realPath(Self.path(of: full[..<existing])) {
        case .success(let real):
            guard let realComponents = Self.cleanAbsoluteComponents(real) else { throw .outsideRoots(shown) }
            resolvedComponents = realComponents + full[existing...]
        case .failure(let error):
            guard containingRoot(full) != nil else { throw .outsideRoots(shown) }
            switch error.code {
            case ENOENT, ELOOP, ENOTDIR: throw .symlink(shown)  // dangling or looping link
            case EILSEQ: throw .outsideRoots(shown)  // resolves to a name that is not UTF-8
            default: throw .io(shown, errno: error.code)
            }
        }
        guard let match = containingRoot(resolvedComponents) else { throw .outsideRoots(shown) }
        if resolvedComponents.count == match.count { throw .isDirectory(shown) }

        if existing < full.count {
            switch stopErrno {
            case ENOENT: break  // missing tail: fine for writing
            case ENOTDIR: throw .notDirectory(shown)
            case ELOOP: throw .symlink(shown)
            case ENAMETOOLONG: throw .tooLong(fullPath.utf8.count)
            default: throw .io(shown, errno: stopErrno)
            }
        }

        let resolvedPath = Self.path(of: resolvedComponents[...])
        if resolvedPath.utf8.count >= Self.maxPathBytes { throw .tooLong(resolvedPath.utf8.count) }
        let resolved = ResolvedPath(
            path: resolvedPath,
            root: match.root,
            directory: Self.path(of: resolvedComponents.dropLast()),
            fileName: resolvedComponents[resolvedComponents.count - 1]
        )
        return Located(resolved: resolved, final: final)
    }

    // MARK: - Helpers

    /// The kind of a file system object, from `lstat`.
    enum FileKind: Sendable, Hashable {
        case regular, directory, symlink, other
    }

    /// What ``lstatInfo(_:)`` reports.
    struct FileInfo: Sendable, Hashable {
        /// The kind of object.
        var kind: FileKind
        /// The number of hard links.
        var links: UInt64
    }

    /// An `errno` value, as the failure of a `Result`.
    struct SystemError: Error, Sendable, Hashable {
        /// The `errno` value.
        var code: Int32
    }

    /// `lstat` of a path (a final symbolic link is not followed).
    static func lstatInfo(_ path: String) -> Result<FileInfo, SystemError> {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .failure(SystemError(code: errno)) }
        let kind: FileKind
        switch info.st_mode & mode_t(0o170000) {
        case mode_t(0o100000): kind = .regular
        case mode_t(0o040000): kind = .directory
        case mode_t(0o120000): kind = .symlink
        default: kind = .other
        }
        return .success(FileInfo(kind: kind, links: UInt64(info.st_nlink)))
    }

    /// `realpath` of a path; `EILSEQ` when the result is not valid UTF-8.
    static func realPath(_ path: String) -> Result<String, SystemError> {
        guard let buffer = realpath(path, nil) else { return .failure(SystemError(code: errno)) }
        defer { free(buffer) }
        guard let text = String(validatingCString: buffer) else { return .failure(SystemError(code: EILSEQ)) }
        return .success(text)
    }

    /// `lchown` with errors mapped to ``FilePolicyError``.
    static func changeOwner(_ path: String, to owner: FileOwner) throws(FilePolicyError) {
        guard lchown(path, uid_t(owner.uid), gid_t(owner.gid)) == 0 else {
            let code = errno
            let shown = FilePolicyError.sanitize(path)
            if code == ENOENT { throw .notFound(shown) }
            throw .io(shown, errno: code)
        }
    }

    /// The components of an absolute path with no empty, `.` or `..`
    /// components (except a trailing `/`), or `nil` for any other path.
    static func cleanAbsoluteComponents(_ path: String) -> [String]? {
        let bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/"), !bytes.contains(0) else { return nil }
        if bytes.count == 1 { return [] }
        var pieces = bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        var components: [String] = []
        for piece in pieces {
            if piece.isEmpty || Array(piece) == [0x2E] || Array(piece) == [0x2E, 0x2E] { return nil }
            components.append(String(decoding: piece, as: UTF8.self))
        }
        return components
    }

    /// `/a/b/c` from `["a", "b", "c"]`; `/` from no components.
    static func path(of components: ArraySlice<String>) -> String {
        components.isEmpty ? "/" : components.reduce(into: "") { $0 += "/" + $1 }
    }

    /// `base/component`, without doubling the slash of `/`.
    static func join(_ base: String, _ component: String) -> String {
        base.utf8.last == UInt8(ascii: "/") ? base + component : base + "/" + component
    }

    /// Whether `components` starts with `prefix`, comparing bytes (Swift's
    /// `==` on strings would treat NFC and NFD spellings as equal, while the
    /// file system treats them as different names).
    static func hasPrefix(_ components: [String], _ prefix: [String]) -> Bool {
        guard components.count >= prefix.count else { return false }
        return zip(components, prefix).allSatisfy { sameBytes($0, $1) }
    }

    /// Byte-wise string equality.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }
}
