import ArgumentParser
import CleverMessaging
import NIOCore

/// `clever-msg encode ...`: the bytes of one frame on standard output.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the bytes of one frame to standard output.",
        discussion: """
            JSON arguments are read in the Python dialect (NaN, Infinity, integers of \
            any size); the frame is written exactly as the reference Python peer writes it.
            """,
        subcommands: [Action.self, Request.self, Response.self, File.self]
    )
}

extension Encode {
    /// Options every `encode` subcommand shares.
    struct OutputOptions: ParsableArguments {
        @Flag(help: "Write hexadecimal text and a newline instead of raw bytes.")
        var hex = false

        /// Writes `frame` to standard output.
        /// - Parameter frame: the frame.
        /// - Throws: ``ToolError`` when the frame cannot be encoded or written.
        func emit(_ frame: Frame) throws {
            var bytes = ByteBufferAllocator().buffer(capacity: 512)
            var writer = FrameWriter()
            do {
                try writer.write(frame, into: &bytes)
            } catch {
                throw ToolError("cannot encode the frame: \(error)")
            }
            var output = FileOutput()
            write(bytes, to: &output)
            finish(&output)
            try output.flush()
        }

        /// Appends `bytes` to `output`, as hex text with `--hex`.
        func write(_ bytes: ByteBuffer, to output: inout FileOutput) {
            if hex {
                bytes.withUnsafeReadableBytes { Hex.encode($0, into: &output.buffer) }
            } else {
                output.buffer.writeImmutableBuffer(bytes)
            }
        }

        /// Appends the final newline of `--hex` output.
        func finish(_ output: inout FileOutput) {
            if hex { output.buffer.writeInteger(UInt8(ascii: "\n")) }
        }
    }

    /// Reading JSON option values.
    enum JSONArgument {
        /// Parses `text` as JSON (Python dialect).
        /// - Parameters:
        ///   - text: the option's value.
        ///   - option: the option's name, for the message.
        /// - Returns: the value.
        /// - Throws: `ValidationError` when it is not JSON.
        static func value(_ text: String, option: String) throws -> JSONValue {
            do {
                return try JSONParser.parse(text)
            } catch {
                throw ValidationError("\(option) is not valid JSON: \(error)")
            }
        }

        /// Parses `text` as a JSON array, or returns `[]` for `nil`.
        /// - Throws: `ValidationError` when it is not a JSON array.
        static func array(_ text: String?, option: String) throws -> [JSONValue] {
            guard let text else { return [] }
            let value = try value(text, option: option)
            guard case .array(let elements) = value else {
                throw ValidationError("\(option) must be a JSON array (positional arguments), got \(value)")
            }
            return elements
        }

        /// Parses `text` as a JSON object, or returns `[:]` for `nil`.
        /// - Throws: `ValidationError` when it is not a JSON object.
        static func object(_ text: String?, option: String) throws -> JSONObject {
            guard let text else { return [:] }
            let value = try value(text, option: option)
            guard case .object(let members) = value else {
                throw ValidationError("\(option) must be a JSON object (keyword arguments), got \(value)")
            }
            return members
        }
    }

    /// `encode action NAME [--args JSON] [--kwargs JSON]`.
    struct Action: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An action message (send_message): {\"args\": [...], \"kwargs\": {...}}.",
            discussion: """
                Example: clever-msg encode action start --args '[1, "two", 3.5, null, true]' \
                --kwargs '{"time": "1700000000.5"}'
                """
        )

        @Argument(help: "The action name.")
        var name: String

        @Option(help: ArgumentHelp("Positional arguments, a JSON array (default []).", valueName: "json"))
        var args: String?

        @Option(help: ArgumentHelp("Keyword arguments, a JSON object (default {}).", valueName: "json"))
        var kwargs: String?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try JSONArgument.array(args, option: "--args")
            _ = try JSONArgument.object(kwargs, option: "--kwargs")
        }

        func run() throws {
            let frame = Frame.action(
                name,
                args: try JSONArgument.array(args, option: "--args"),
                kwargs: try JSONArgument.object(kwargs, option: "--kwargs")
            )
            try output.emit(frame)
        }
    }

    /// `encode request NAME --id ID [--args JSON] [--kwargs JSON]`.
    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A request (get_response) for a named value.",
            discussion: "Example: clever-msg encode request time --id 0042"
        )

        @Argument(help: "The requested value.")
        var name: String

        @Option(help: "The request id, sent as a JSON string exactly as given (the reference uses 4 digits, e.g. 0042).")
        var id: String

        @Option(help: ArgumentHelp("Positional arguments, a JSON array (default []).", valueName: "json"))
        var args: String?

        @Option(help: ArgumentHelp("Keyword arguments, a JSON object (default {}).", valueName: "json"))
        var kwargs: String?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try JSONArgument.array(args, option: "--args")
            _ = try JSONArgument.object(kwargs, option: "--kwargs")
        }

        func run() throws {
            let frame = Frame.request(
                name,
                id: .string(id),
                args: try JSONArgument.array(args, option: "--args"),
                kwargs: try JSONArgument.object(kwargs, option: "--kwargs")
            )
            try output.emit(frame)
        }
    }

    /// `encode response NAME --id ID --value JSON`.
    struct Response: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A value response: {\"value\": ...} answering a request.",
            discussion: "Example: clever-msg encode response time --id 0042 --value 1700000000.25"
        )

        @Argument(help: "The requested value being answered.")
        var name: String

        @Option(help: "The id of the request answered, sent as a JSON string exactly as given.")
        var id: String

        @Option(help: ArgumentHelp("The value, any JSON (Python dialect).", valueName: "json"))
        var value: String

        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try JSONArgument.value(value, option: "--value")
        }

        func run() throws {
            let frame = Frame.response(name, id: .string(id), value: try JSONArgument.value(value, option: "--value"))
            try output.emit(frame)
        }
    }

    /// `encode file --path DEST FILE`: a file push, streamed.
    struct File: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A file push (send_file): FILE's bytes, to be written at DEST on the receiver.",
            discussion: """
                The file is copied in chunks after the header, so files of any size \
                are encoded in constant memory. Example: clever-msg encode file \
                --path animation.csv ./local.csv
                """
        )

        @Option(help: ArgumentHelp("The destination path on the receiver (the filepath header).", valueName: "dest"))
        var path: String

        @Argument(help: "The local file to send (a regular file).")
        var file: String

        @OptionGroup var output: OutputOptions

        /// Bytes copied per read.
        static let chunkSize = 256 * 1024

        func run() throws {
            let input = try InputFile.open(file)
            guard let size = try input.regularFileSize() else {
                throw ToolError("\(file) is not a regular file: its size must be known to write the header")
            }
            var header = Frame.filePush(path: path, bytes: ByteBuffer()).header
            header.contentLength = size
            var out = FileOutput(threshold: Self.chunkSize)
            do {
                try FrameWriter.writeHead(header, into: &out.buffer)
            } catch {
                throw ToolError("cannot encode the frame: \(error)")
            }
            if output.hex {
                let head = out.buffer
                out.buffer.clear()
                output.write(head, to: &out)
            }
            var chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
            var copied = 0
            while copied < size {
                chunk.clear()
                let count = try input.read(appendingTo: &chunk, maximum: min(Self.chunkSize, size - copied))
                guard count > 0 else {
                    throw ToolError("\(file) shrank while it was read: \(copied) of \(size) bytes")
                }
                copied += count
                output.write(chunk, to: &out)
                try out.flushIfNeeded()
            }
            output.finish(&out)
            try out.flush()
        }
    }
}
