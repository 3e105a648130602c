#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension FilePolicy {
    // MARK: - Lexical validation

    /// A path that passed the lexical checks.
    package struct LexicalPath: Sendable, Hashable {
        /// Whether the path starts with `/`.
        package var isAbsolute: Bool
        /// The components, without empty and `.` components.
        package var components: [String]
    }

    /// Applies the rules that need only the text of the path.
    /// - Parameters:
    ///   - path: the path from the peer.
    ///   - resolvingParents: whether a `..` component removes the component
    ///     before it (never past the path's start) instead of refusing the path.
    package static func lexicallyValidate(_ path: String, resolvingParents: Bool = false) throws(FilePolicyError) -> LexicalPath {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { throw .emptyPath }
        if bytes.contains(0) { throw .containsNUL }
        if bytes.count > maxPathBytes { throw .tooLong(bytes.count) }
        for scalar in path.unicodeScalars where isControl(scalar) {
            throw .controlCharacter(FilePolicyError.codePoint(scalar))
        }
        let shown = FilePolicyError.sanitize(path)
        for scalar in path.unicodeScalars where isDisguising(scalar) {
            throw .suspiciousCharacters(shown)
        }
        if bytes[0] == UInt8(ascii: "~") { throw .homeReference }

        // Split on the byte '/', as the kernel does (never on Characters: a
        // combining mark after '/' would hide the separator from them).
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        let raw = bytes.split(separator: slash, omittingEmptySubsequences: false)
        let isParent: (ArraySlice<UInt8>) -> Bool = { $0.count == 2 && $0.allSatisfy { $0 == dot } }
        for piece in raw where isParent(piece) && !resolvingParents {
            throw .parentReference(shown)
        }
        if let last = raw.last, isParent(last) { throw .isDirectory(shown) }
        var components: [String] = []
        for piece in raw {
            if piece.isEmpty || (piece.count == 1 && piece.first == dot) { continue }
            if isParent(piece) {
                // Resolved by text alone: the kernel never sees the `..`, so a link cannot redirect it.
                guard !components.isEmpty else { throw .parentReference(shown) }
                components.removeLast()
                continue
            }
            let component = String(decoding: piece, as: UTF8.self)
            if piece.count > maxComponentBytes {
                throw .componentTooLong(FilePolicyError.sanitize(String(component.unicodeScalars.prefix(40))))
            }
            if isBlankOrDots(component) {
                throw .suspiciousCharacters(FilePolicyError.sanitize(component))
            }
            components.append(component)
        }
        if let last = raw.last, raw.count > 1, !components.isEmpty,
            last.isEmpty || (last.count == 1 && last.first == dot)
        {
            throw .isDirectory(shown)  // "a/", "a/.": names a directory
        }
        return LexicalPath(isAbsolute: bytes[0] == slash, components: components)
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value)
            || value == 0x2028 || value == 0x2029
    }

    /// Bidi controls, other format characters, noncharacters, and slash or
    /// backslash look-alikes: characters that disguise what a path looks like.
    static func isDisguising(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if bidiControls.contains(value) || slashLookAlikes.contains(value) { return true }
        if (0xFDD0...0xFDEF).contains(value) || value & 0xFFFE == 0xFFFE { return true }  // noncharacters
        switch scalar.properties.generalCategory {
        case .format, .surrogate: return true
        default: return false
        }
    }

    /// Whether a component is made only of dots, dot look-alikes, white space,
    /// blank-looking letters and combining marks (never a file name anyone
    /// means; `...`, `．．` or `‥` can turn into `..` once normalized).
    static func isBlankOrDots(_ component: String) -> Bool {
        component.unicodeScalars.allSatisfy { scalar in
            if dotLookAlikes.contains(scalar.value) || blankLookAlikes.contains(scalar.value) { return true }
            if scalar.properties.isWhitespace { return true }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return true
            default: return false
            }
        }
    }

    /// U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069.
    static let bidiControls: Set<UInt32> = [
        0x200E, 0x200F, 0x061C,
        0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x2066, 0x2067, 0x2068, 0x2069,
    ]

    /// Characters that look like `/` or `\`.
    static let slashLookAlikes: Set<UInt32> = [
        0x2044,  // FRACTION SLASH
        0x2215,  // DIVISION SLASH
        0x2571,  // BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT
        0x29F8,  // BIG SOLIDUS
        0xFF0F,  // FULLWIDTH SOLIDUS
        0x1735,  // PHILIPPINE SINGLE PUNCTUATION
        0x2216,  // SET MINUS
        0x2572,  // BOX DRAWINGS LIGHT DIAGONAL UPPER LEFT TO LOWER RIGHT
        0x29F5,  // REVERSE SOLIDUS OPERATOR
        0x29F9,  // BIG REVERSE SOLIDUS
        0xFE68,  // SMALL REVERSE SOLIDUS
        0xFF3C,  // FULLWIDTH REVERSE SOLIDUS
    ]

    /// `.` and characters that look like one or several dots.
    static let dotLookAlikes: Set<UInt32> = [
        0x002E,  // FULL STOP
        0x00B7,  // MIDDLE DOT
        0x02D9,  // DOT ABOVE
        0x0387,  // GREEK ANO TELEIA
        0x0660,  // ARABIC-INDIC DIGIT ZERO
        0x06D4,  // ARABIC FULL STOP
        0x06F0,  // EXTENDED ARABIC-INDIC DIGIT ZERO
        0x0701,  // SYRIAC SUPRALINEAR FULL STOP
        0x0702,  // SYRIAC SUBLINEAR FULL STOP
        0x0F0B,  // TIBETAN MARK INTERSYLLABIC TSHEG
        0x16EB,  // RUNIC SINGLE PUNCTUATION
        0x2022,  // BULLET
        0x2024,  // ONE DOT LEADER
        0x2025,  // TWO DOT LEADER
        0x2026,  // HORIZONTAL ELLIPSIS
        0x2027,  // HYPHENATION POINT
        0x2219,  // BULLET OPERATOR
        0x22C5,  // DOT OPERATOR
        0x22EF,  // MIDLINE HORIZONTAL ELLIPSIS
        0x2E31,  // WORD SEPARATOR MIDDLE DOT
        0x2E33,  // RAISED DOT
        0x3002,  // IDEOGRAPHIC FULL STOP
        0x30FB,  // KATAKANA MIDDLE DOT
        0xA4F8,  // LISU LETTER TONE MYA TI
        0xA60E,  // VAI FULL STOP
        0xFE19,  // PRESENTATION FORM FOR VERTICAL HORIZONTAL ELLIPSIS
        0xFE30,  // PRESENTATION FORM FOR VERTICAL TWO DOT LEADER
        0xFE52,  // SMALL FULL STOP
        0xFF0E,  // FULLWIDTH FULL STOP
        0xFF61,  // HALFWIDTH IDEOGRAPHIC FULL STOP
        0xFF65,  // HALFWIDTH KATAKANA MIDDLE DOT
        0x10A50,  // KHAROSHTHI PUNCTUATION DOT
        0x1D16D,  // MUSICAL SYMBOL COMBINING AUGMENTATION DOT
    ]

    /// Letters and symbols that draw as nothing.
    static let blankLookAlikes: Set<UInt32> = [
        0x115F, 0x1160, 0x3164, 0xFFA0,  // Hangul fillers
        0x2800,  // BRAILLE PATTERN BLANK
    ]
}
