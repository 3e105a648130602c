import ArgumentParser
import CleverMessaging
import Crypto
import NIOCore

/// `clever-msg inspect [FILE] [--hex]`: one JSON line per frame of a byte stream.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a byte stream into one JSON line per frame.",
        discussion: """
            Each frame prints as {"header": {...}, "content": ...} in the Python JSON \
            dialect (NaN, Infinity and big integers kept exactly). Binary content prints \
            as {"bytes": N, "sha256": "<hex>"}; it is hashed as it streams, so inputs of \
            any size are read in constant memory.

            A malformed or truncated frame prints {"error": {"code": "malformed_frame", \
            "message": "<description>"}} after the \
            frames decoded before it, and the exit code is 1.
            """
    )

    @Argument(help: "The file to read (default: standard input).")
    var file: String?

    @Flag(help: "Read hexadecimal text instead of raw bytes (whitespace and newlines ignored).")
    var hex = false

    /// Bytes read from the input per system call.
    static let chunkSize = 64 * 1024

    func run() throws {
        var output = FileOutput()
        var session = InspectSession()
        do {
            let input = try InputFile.open(file)
            try session.run(input: input, hex: hex, output: &output)
            try output.flush()
        } catch let error as InspectSession.Failure {
            output.writeLine(.object(ErrorReport(code: "malformed_frame", message: error.description).json))
            try output.flush()
            throw ExitCode.failure
        } catch {
            output.writeLine(.object(ErrorReport(error).json))
            try output.flush()
            throw ExitCode.failure
        }
    }
}

/// The state of one `inspect` run: the decoder, the binary frame being hashed,
/// and where in the stream the current frame started.
struct InspectSession {
    /// An error located in the stream.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var decoder = FrameDecoder()
    /// The binary frame in progress: its header, a running hash and its byte count.
    private var binary: (header: FrameHeader, hasher: SHA256, count: Int)?
    /// Frames completed so far.
    private var frameCount = 0
    /// The stream offset of the first byte of the frame being decoded.
    private var frameStart = 0
    /// Bytes dropped from the front of the buffer so far.
    private var discarded = 0

    /// Reads `input` to its end, printing a line per frame to `output`.
    /// - Throws: ``Failure`` for a malformed frame, ``ToolError`` for an I/O or hex error.
    mutating func run(input: InputFile, hex: Bool, output: inout FileOutput) throws {
        let allocator = ByteBufferAllocator()
        var buffer = allocator.buffer(capacity: Inspect.chunkSize * 2)
        var hexText = allocator.buffer(capacity: hex ? Inspect.chunkSize : 0)
        var hexDecoder = Hex.StreamDecoder()
        while true {
            // Drop consumed bytes so the buffer stays at a chunk or two
            // (plus at most one whole JSON frame, bounded by the decoder's limits).
            if buffer.readerIndex > 0 {
                discarded += buffer.readerIndex
                buffer.discardReadBytes()
            }
            let count: Int
            if hex {
                hexText.clear()
                count = try input.read(appendingTo: &hexText, maximum: Inspect.chunkSize)
                do {
                    try hexDecoder.decode(hexText, into: &buffer)
                } catch {
                    // Print the frames that came before the bad character first.
                    try decodeAvailable(&buffer, output: &output)
                    throw error
                }
            } else {
                count = try input.read(appendingTo: &buffer, maximum: Inspect.chunkSize)
            }
            if count == 0 { break }
            try decodeAvailable(&buffer, output: &output)
            try output.flushIfNeeded()
        }
        if hex { try hexDecoder.finish() }
        do {
            while let part = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
                try handle(part, output: &output)
            }
        } catch let error as FrameDecodingError {
            throw failure(error)
        }
    }

    private mutating func decodeAvailable(_ buffer: inout ByteBuffer, output: inout FileOutput) throws {
        do {
            while let part = try decoder.decode(buffer: &buffer) {
                try handle(part, output: &output)
                if case .frame = part { frameStart = discarded + buffer.readerIndex }
                if case .binaryEnd = part { frameStart = discarded + buffer.readerIndex }
            }
        } catch let error as FrameDecodingError {
            throw failure(error)
        }
    }

    private func failure(_ error: FrameDecodingError) -> Failure {
        Failure(description: "\(error) (frame \(frameCount + 1), starting at byte \(frameStart))")
    }

    private mutating func handle(_ part: FramePart, output: inout FileOutput) throws {
        switch part {
        case .frame(let frame):
            let content: JSONValue
            switch frame.content {
            case .json(let value): content = value
            case .binary(let bytes): content = Self.summary(of: bytes)
            }
            output.writeLine(["header": .object(frame.header.jsonObject), "content": content])
            frameCount += 1
        case .binaryHead(let header):
            binary = (header, SHA256(), 0)
        case .binaryBody(let chunk):
            guard binary != nil else { throw Failure(description: "binary body without a header") }
            chunk.withUnsafeReadableBytes { binary!.hasher.update(bufferPointer: $0) }
            binary!.count += chunk.readableBytes
        case .binaryEnd:
            guard let (header, hasher, count) = binary else {
                throw Failure(description: "binary end without a header")
            }
            binary = nil
            let content: JSONValue = ["bytes": .integer(count), "sha256": .string(Self.hex(hasher.finalize()))]
            output.writeLine(["header": .object(header.jsonObject), "content": content])
            frameCount += 1
        }
        try output.flushIfNeeded()
    }

    /// `{"bytes": N, "sha256": "<hex>"}` for bytes held whole.
    static func summary(of bytes: ByteBuffer) -> JSONValue {
        var hasher = SHA256()
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return ["bytes": .integer(bytes.readableBytes), "sha256": .string(hex(hasher.finalize()))]
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        var out = ByteBufferAllocator().buffer(capacity: 64)
        digest.withUnsafeBytes { Hex.encode($0, into: &out) }
        return String(buffer: out)
    }
}
