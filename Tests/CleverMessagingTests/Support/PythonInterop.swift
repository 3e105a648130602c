import Foundation

@testable import CleverMessaging

/// Runs CPython (`python3` from `PATH`) as a subprocess, for interop checks
/// against the reference's own `json` module.
enum PythonInterop {
    /// Why the Python side could not be run.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The `python3` executable found on `PATH`.
    static func findPython() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return URL(fileURLWithPath: candidate)
            }
        }
        throw Failure(
            description: "python3 was not found on PATH (\(path)). The interop tests need CPython 3 and its json "
                + "module, which the reference peers use; install python3 and make it reachable through PATH."
        )
    }

    /// Runs `python3 -c script` with `input` on its standard input and returns its standard output.
    /// Fails when python3 is missing or exits with a non-zero status.
    static func run(script: String, input: String) async throws -> String {
        let python = try findPython()
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        environment["PYTHONHASHSEED"] = "0"
        let output: ChildProcess.Output
        do {
            output = try await ChildProcess.run(python, ["-c", script], input: Data(input.utf8), environment: environment)
        } catch {
            throw Failure(description: "cannot start \(python.path): \(error)")
        }
        guard output.status == 0 else {
            throw Failure(description: "python3 exited with status \(output.status):\n\(String(decoding: output.stderr, as: UTF8.self))")
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    /// The Python side's canonical text for a value, shared by both directions:
    /// `n`, `T`, `F`, `i<digits>`, `f<16 hex digits of the IEEE bits>` or `fnan`,
    /// `s<hex of UTF-8>`, `[a,b]`, `{k:v,...}` (keys in order).
    static let canonicalFunction = #"""
        import sys, json, math, struct, random

        def canon(x):
            if x is None:
                return "n"
            if x is True:
                return "T"
            if x is False:
                return "F"
            if isinstance(x, int):
                return "i" + str(x)
            if isinstance(x, float):
                if math.isnan(x):
                    return "fnan"
                return "f" + struct.pack(">d", x).hex()
            if isinstance(x, str):
                return "s" + x.encode("utf-8", "surrogatepass").hex()
            if isinstance(x, list):
                return "[" + ",".join(canon(e) for e in x) + "]"
            if isinstance(x, dict):
                return "{" + ",".join(canon(k) + ":" + canon(v) for k, v in x.items()) + "}"
            raise TypeError("unexpected type %r" % type(x))
        """#

    /// The same canonical text computed on the Swift side.
    static func canonical(_ value: JSONValue) -> String {
        var out = ""
        appendCanonical(value, to: &out)
        return out
    }

    private static func appendCanonical(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "n"
        case .bool(let b): out += b ? "T" : "F"
        case .integer(let i): out += "i\(i)"
        case .bigInteger(let digits): out += "i" + digits
        case .double(let d):
            if d.isNaN {
                out += "fnan"
            } else {
                out += "f" + hex(of: d.bitPattern)
            }
        case .string(let s): out += "s" + hex(Array(s.utf8))
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                appendCanonical(element, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, (key, member)) in object.enumerated() {
                if i > 0 { out += "," }
                out += "s" + hex(Array(key.utf8)) + ":"
                appendCanonical(member, to: &out)
            }
            out += "}"
        }
    }

    /// Lower-case hex of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }

    /// 16 lower-case hex digits of `bits`, big-endian.
    static func hex(of bits: UInt64) -> String {
        hex((0..<8).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) })
    }

    /// The bytes of a hex string (lower or upper case).
    static func bytes(fromHex hex: Substring) -> [UInt8] {
        Vectors.hexBytes(String(hex))
    }
}
