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

extension FilePolicyTests {
    /// The hostile corpus: every entry must be refused for writing and for reading.
    static func hostilePaths(_ box: FilePolicySandbox) -> [String] {
        let root = box.root
        return [
            // parent references, relative and absolute, never normalized away
            "../x",
            "a/../../x",
            "a/..",
            "..",
            "./../x",
            "sub/../../etc/passwd",
            "a/../a.csv",
            root + "/../outside/x",
            root + "/dir/../a.csv",
            "../\u{0301}x",  // a combining mark after '/' must not hide the separator
            // absolute paths outside the root
            "/etc/passwd",
            "//etc/passwd",
            "/./etc/passwd",
            "/",
            "/tmp",
            "/dev/null",
            "/proc/self/environ",
            box.base,
            box.outside,
            box.outside + "/x",
            box.outside + "/secret.txt",
            box.evil + "/x",  // "<root>-evil" has the root as a string prefix
            box.evil,
            // symbolic links that leave the root, dangle or loop
            "symlink_to_root/etc/passwd",
            "symlink_to_root",
            "link_to_outside/x",
            "link_to_outside/secret.txt",
            "link_to_outside/new.csv",
            "link_to_outside",
            "link_to_outside_file",
            root + "/link_to_outside/x",
            root + "/symlink_to_root/etc/passwd",
            root + "/link_to_outside_file",
            "dangling",
            "dangling/x",
            "loop",
            "loop/x",
            "link_to_root2/x",  // a relative path stays in the first root
            // home references
            "~",
            "~/x",
            "~root/x",
            "~\u{0301}/x",
            // bad characters
            "",
            "a\u{0}b",
            "a.csv\u{0}.png",
            "a\nb",
            "a\rb",
            "a\u{7}b",
            "a\tb",
            "a\u{7F}b",
            "a\u{85}b",
            "a\u{9B}b",
            "a\u{2028}b",
            "\u{202E}txt.exe",
            "\u{2066}x.csv",
            "x\u{200F}.csv",
            "\u{FEFF}a.csv",
            "a/\u{200B}/b",
            "x\u{FFFF}.csv",
            "a\u{FF0F}..\u{FF0F}x",
            "a\u{2215}b",
            // dots and dot look-alikes, blanks
            "．．/x",
            "\u{2025}/x",
            "\u{2024}\u{2024}/x",
            "\u{2026}",
            "\u{FE52}\u{FE52}/x",
            "\u{3002}\u{3002}/x",
            ".\u{FF0E}/x",
            "..\u{0338}/x",
            "...",
            "...../x",
            "   ",
            "a/ /b",
            "\u{00A0}",
            "\u{3000}",
            "\u{3164}",
            // lengths
            String(repeating: "a/", count: 2500),  // 5000 bytes
            String(repeating: "b", count: 300),
            "dir/" + String(repeating: "é", count: 150) + ".csv",  // 305 bytes
            // not a regular file
            "fifo",
            "dir",
            "dir/",
            "inner_dir_link",
            "a.csv/",
            "a.csv/x",
            "fifo/x",
            ".",
            "./",
            root,
            root + "/",
            root + "/fifo",
        ]
    }
}
