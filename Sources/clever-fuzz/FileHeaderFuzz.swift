import CleverMessaging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file push's header, as a receiver reads it: the input is one JSON
/// header (``FrameHeader`` parsing); its `filepath` goes through the file
/// policy's lexical checks and its resolution inside an empty root, its
/// digest keys are read, and its extension keys are answered as a
/// destination check (``FileDestinationCheck``) would be.
enum FileHeaderFuzz {
    /// A policy over an empty directory made once per process.
    static let policy: FilePolicy? = {
        var template = Array("/tmp/clever-fuzz-root-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return nil }
        return try? FilePolicy(allowedRoots: [String(cString: made)])
    }()

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let header = try? FrameHeader.parse(input, limits: FuzzHarness.configuration.json) else { return }
        if let path = header.filePath {
            _ = try? FilePolicy.lexicallyValidate(path)
            _ = try? policy?.resolveForWriting(path)
        }
        if let digest = header.extra["sha256"]?.stringValue {
            precondition(digest.utf8.count <= input.count, "a digest longer than its header")
        }
        _ = FileDestinationCheck.answer(header.extra, policy: policy)
        _ = FileDestinationCheck.answer(header.extra, policy: nil)
        // What a link writes back about a header must be writable.
        var out = ByteBuffer()
        do throws(FrameEncodingError) {
            try FrameWriter.writeHead(header, into: &out)
        } catch {
            // A header of more than 65,535 bytes once written is refused with a typed error.
            return
        }
    }
}
