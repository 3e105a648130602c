/// Why ``FilePolicy`` refused a path that a peer sent for a file transfer, or
/// why applying the policy failed.
///
/// Every `String` carried by a case is already made safe to log with
/// ``FilePolicyError/sanitize(_:)``: control characters, Unicode format and
/// bidi characters, and other invisible characters are written as `\u{XXXX}`
/// escapes and long text is shortened, so a hostile path cannot forge log
/// lines or reorder what a reader sees.
public enum FilePolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path is the empty string.
    case emptyPath
    /// The path contains a NUL byte (a C string would silently end there).
    case containsNUL
    /// The path contains a C0 or C1 control character, DEL, or a Unicode line
    /// or paragraph separator. Carries the code point, as `U+XXXX`.
    case controlCharacter(String)
    /// The path is longer than ``FilePolicy/maxPathBytes`` UTF-8 bytes (as
    /// received, or once resolved under a root). Carries the length in bytes.
    case tooLong(Int)
    /// A path component is longer than ``FilePolicy/maxComponentBytes`` UTF-8
    /// bytes. Carries the start of the (sanitized) component.
    case componentTooLong(String)
    /// The path has a `..` component, anywhere, in a relative or an absolute
    /// path. Carries the (sanitized) path.
    case parentReference(String)
    /// The path starts with `~` (a home directory reference, as in `~`, `~/x`
    /// or `~user/x`).
    case homeReference
    /// The path resolves outside every allowed root (relative paths: outside
    /// the first root). Carries the (sanitized) path as received.
    case outsideRoots(String)
    /// The path goes through a symbolic link that may not be followed: the
    /// final component of a write destination is a link, a link is dangling or
    /// loops, or a directory being created was replaced by a link.
    /// Carries the (sanitized) path.
    case symlink(String)
    /// The path names something that is not a regular file (a fifo, a socket,
    /// a device). Carries the (sanitized) path.
    case notRegularFile(String)
    /// The file to read does not exist. Carries the (sanitized) path.
    case notFound(String)
    /// The path names a directory (or ends with `/`), where a file is needed.
    /// Carries the (sanitized) path.
    case isDirectory(String)
    /// A component used as a directory exists but is not a directory.
    /// Carries the (sanitized) path.
    case notDirectory(String)
    /// The file to overwrite has more than one hard link, so writing it would
    /// also change a file that may live outside the roots. Carries the
    /// (sanitized) path.
    case hardLinked(String)
    /// The path holds characters that are used to disguise a path: Unicode
    /// format characters (bidi controls such as U+202E, zero-width characters,
    /// the BOM), noncharacters, slash and backslash look-alikes, or a component
    /// made only of dots, dot look-alikes (U+2024, U+2025, U+2026, U+FF0E,
    /// U+FE52, U+3002, ...), white space and combining marks.
    /// Carries the (sanitized) path or component.
    case suspiciousCharacters(String)
    /// No root was given to ``FilePolicy/init(allowedRoots:owner:)``.
    case noRoots
    /// No file policy is configured (``ConnectionConfiguration/filePolicy`` is
    /// `nil`, the default): every file push and pull is refused.
    case notConfigured
    /// A root does not exist, is not a directory, or cannot be resolved.
    /// Carries the (sanitized) root as given.
    case rootInvalid(String)
    /// A system call failed. Carries the (sanitized) path and the `errno`.
    case io(String, errno: Int32)

    /// A one-line explanation, safe to log.
    public var description: String {
        switch self {
        case .emptyPath: return "file path is empty"
        case .containsNUL: return "file path contains a NUL byte"
        case .controlCharacter(let codePoint): return "file path contains control character \(codePoint)"
        case .tooLong(let bytes): return "file path is too long (\(bytes) bytes)"
        case .componentTooLong(let component): return "file path component is too long: \"\(component)\""
        case .parentReference(let path): return "file path has a '..' component: \"\(path)\""
        case .homeReference: return "file path starts with '~'"
        case .outsideRoots(let path): return "file path is outside the allowed directories: \"\(path)\""
        case .symlink(let path): return "file path goes through a symbolic link that may not be followed: \"\(path)\""
        case .notRegularFile(let path): return "not a regular file: \"\(path)\""
        case .notFound(let path): return "no such file: \"\(path)\""
        case .isDirectory(let path): return "is a directory: \"\(path)\""
        case .notDirectory(let path): return "a path component is not a directory: \"\(path)\""
        case .hardLinked(let path): return "file has several hard links, refusing to overwrite: \"\(path)\""
        case .suspiciousCharacters(let text): return "file path has disguising characters: \"\(text)\""
        case .noRoots: return "no allowed root directory given"
        case .notConfigured: return "file transfers are refused: no file root is configured"
        case .rootInvalid(let root): return "allowed root is missing or not a directory: \"\(root)\""
        case .io(let path, let code): return "\"\(path)\": \(LogFormat.systemError(code))"
        }
    }

    /// The longest text (in Unicode scalars) that ``sanitize(_:)`` keeps.
    static let sanitizedLimit = 200

    /// Makes `text` safe to put in a log line: keeps printable characters,
    /// writes `\` as `\\` and control, format (bidi, zero-width), separator,
    /// private-use, unassigned, non-ASCII white-space, blank-looking and
    /// slash-looking characters as `\u{XXXX}`, and shortens text longer than
    /// 200 scalars.
    /// - Parameter text: untrusted text, such as a path from a peer.
    /// - Returns: the escaped, possibly shortened, text.
    public static func sanitize(_ text: String) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == sanitizedLimit {
                out += "...(\(text.utf8.count) bytes)"
                break
            }
            count += 1
            if scalar == "\\" {
                out += "\\\\"
            } else if scalar.value >= 0x20 && scalar.value < 0x7F {
                out.unicodeScalars.append(scalar)
            } else if needsEscape(scalar) {
                out += "\\u{" + hex(scalar.value) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether ``sanitize(_:)`` escapes this (non-ASCII-printable) scalar.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x20 || scalar.value == 0x7F { return true }
        if FilePolicy.isDisguising(scalar) || FilePolicy.blankLookAlikes.contains(scalar.value) { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator,
            .privateUse, .unassigned, .surrogate:
            return true
        default:
            return scalar.properties.isWhitespace
        }
    }

    /// `U+XXXX` for a code point, at least four upper-case hex digits.
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        "U+" + hex(scalar.value)
    }

    /// At least four upper-case hex digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
