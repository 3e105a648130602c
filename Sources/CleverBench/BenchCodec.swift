import ArgumentParser
import CleverMessaging
import Foundation
import NIOCore

extension Bench {
    /// `clever-msg bench codec`: frame encoding and decoding throughput on one
    /// thread, against Foundation's `JSONSerialization` doing the same work.
    struct Codec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Frames/s encoding and decoding small action frames, vs JSONSerialization.",
            discussion: """
                The frame is the reference's send_message('start', args=(1, 'two', 3.5, \
                None, True), kwargs={'time': '1700000000.5'}) (vector action_args_kwargs). \
                Encoding writes it with FrameWriter into a reused buffer; decoding runs \
                FrameDecoder over a buffer of --count copies, parsing header and content \
                fully. The baselines do the same with JSONSerialization. A last \
                encode measurement writes an array of 1,000 floats alone.
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "Frames per batch (the decode buffer holds this many copies).")
        var count: Int = 10_000

        @Option(help: "Run only the encode or the decode measurements (e.g. to profile one).")
        var only: Part?

        /// The halves of the benchmark.
        enum Part: String, ExpressibleByArgument, CaseIterable {
            case encode, decode
        }

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
        }

        /// The frame measured.
        static let frame = Frame.action(
            "start",
            args: [1, "two", 3.5, nil, true],
            kwargs: ["time": "1700000000.5"]
        )

        func run() throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            let seconds = options.seconds
            let count = self.count

            // The bytes of one frame, and a buffer of `count` copies.
            var writer = FrameWriter()
            var one = ByteBufferAllocator().buffer(capacity: 256)
            try writer.write(Self.frame, into: &one)
            var many = ByteBufferAllocator().buffer(capacity: one.readableBytes * count)
            for _ in 0..<count { many.writeImmutableBuffer(one) }
            let manyData = Data(many.readableBytesView)
            try Self.checkDecoders(many: many, manyData: manyData, count: count)
            reporter.note(
                "frame: \(one.readableBytes) bytes; \(count) frames per batch; best of 3 runs of \(seconds) s (\(options.clock.rawValue) clock)"
            )

            if only != .decode {
                measureEncoding(count: count, seconds: seconds, reporter: reporter)
            }
            if only != .encode {
                measureDecoding(many: many, manyData: manyData, frameSize: one.readableBytes, seconds: seconds, reporter: reporter)
            }
        }

        private func measureEncoding(count: Int, seconds: Double, reporter: Reporter) {
            var writer = FrameWriter()
            var scratch = ByteBufferAllocator().buffer(capacity: 512)
            let encode = Bench.bestRate(seconds: seconds, clock: options.clock) {
                Self.encodeBatch(count: count, writer: &writer, into: &scratch)
            }
            let foundationEncode = Bench.bestRate(seconds: seconds, clock: options.clock) { Self.foundationEncodeBatch(count: count) }
            reporter.report(
                Measurement(name: "codec.encode", value: encode, unit: "frames/s",
                            baseline: foundationEncode, label: "encode (FrameWriter)")
            )
            reporter.report(
                Measurement(name: "codec.encode.foundation", value: foundationEncode, unit: "frames/s",
                            baseline: nil, label: "encode (JSONSerialization)")
            )

            // Floats alone: Python's repr layout of shortest round-trip digits.
            let floats = JSONValue.array(Self.floatSample.map { .double($0) })
            let floatEncode = Bench.bestRate(seconds: seconds, clock: options.clock) {
                Self.encodeFloats(floats, count: Self.floatSample.count, into: &scratch)
            }
            reporter.report(
                Measurement(name: "codec.encode.floats", value: floatEncode, unit: "floats/s",
                            baseline: nil, label: "encode floats (JSONWriter)")
            )
        }

        /// 1,000 floats such as telemetry carries: coordinates, timestamps,
        /// small and tiny magnitudes, and whole numbers from 2^53 to 1e16.
        static let floatSample: [Double] = {
            var state: UInt64 = 0x0123_4567_89AB_CDEF
            func unit() -> Double {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Double(state >> 11) / Double(1 << 53)
            }
            return (0..<1_000).map { i in
                switch i % 5 {
                case 0: return unit() * 360 - 180
                case 1: return 1_700_000_000 + unit() * 1e8
                case 2: return unit()
                case 3: return unit() * 1e-6
                default: return 9_007_199_254_740_992 + unit() * 9.9e14
                }
            }
        }()

        /// Writes `floats` (an array of `count` doubles) into the cleared buffer `out`.
        static func encodeFloats(_ floats: JSONValue, count: Int, into out: inout ByteBuffer) -> Int {
            out.clear()
            JSONWriter.write(floats, into: &out)
            blackHole(out.readableBytes)
            return count
        }

        private func measureDecoding(many: ByteBuffer, manyData: Data, frameSize: Int, seconds: Double, reporter: Reporter) {
            let decode = Bench.bestRate(seconds: seconds, clock: options.clock) { Self.decodeBatch(many) }
            let foundationDecode = Bench.bestRate(seconds: seconds, clock: options.clock) { Self.foundationDecodeBatch(manyData) }
            reporter.report(
                Measurement(name: "codec.decode", value: decode, unit: "frames/s",
                            baseline: foundationDecode, label: "decode (FrameDecoder)")
            )
            reporter.report(
                Measurement(name: "codec.decode.foundation", value: foundationDecode, unit: "frames/s",
                            baseline: nil, label: "decode (JSONSerialization)")
            )
            reporter.report(
                Measurement(name: "codec.decode.bytes", value: decode * Double(frameSize) / 1e6,
                            unit: "MB/s", baseline: foundationDecode * Double(frameSize) / 1e6,
                            label: "decode throughput")
            )

            // Where decoding time goes: each half of the frame alone.
            let (header, content) = Self.halves(of: many)
            let count = self.count
            let headerOnly = Bench.bestRate(seconds: seconds, clock: options.clock) {
                Self.parseRepeatedly(header, count: count) { bytes in
                    guard let header = try? FrameHeader.parse(bytes) else { fatalError("header does not parse") }
                    return header.contentLength
                }
            }
            let contentOnly = Bench.bestRate(seconds: seconds, clock: options.clock) {
                Self.parseRepeatedly(content, count: count) { bytes in
                    guard case .object(let object)? = try? JSONParser.parse(bytes) else { fatalError("content does not parse") }
                    return object.count
                }
            }
            reporter.report(
                Measurement(name: "codec.decode.header_only", value: headerOnly, unit: "headers/s",
                            baseline: nil, label: "  of which FrameHeader.parse")
            )
            reporter.report(
                Measurement(name: "codec.decode.content_only", value: contentOnly, unit: "contents/s",
                            baseline: nil, label: "  of which JSONParser.parse")
            )
        }

        /// The header and content bytes of the first frame of `buffer`.
        static func halves(of buffer: ByteBuffer) -> (header: [UInt8], content: [UInt8]) {
            var buffer = buffer
            let length = Int(buffer.readInteger(as: UInt16.self)!)
            let header = buffer.readBytes(length: length)!
            guard let parsed = try? header.withUnsafeBytes({ try FrameHeader.parse($0) }) else {
                fatalError("header does not parse")
            }
            return (header, buffer.readBytes(length: parsed.contentLength)!)
        }

        /// Parses `bytes` `count` times with `parse`.
        static func parseRepeatedly(
            _ bytes: [UInt8],
            count: Int,
            _ parse: (UnsafeRawBufferPointer) -> Int
        ) -> Int {
            var total = 0
            bytes.withUnsafeBytes { raw in
                for _ in 0..<count { total &+= parse(raw) }
            }
            blackHole(total)
            return count
        }

        // MARK: - The measured work

        /// Writes `count` frames, each into the same cleared buffer `out`.
        static func encodeBatch(count: Int, writer: inout FrameWriter, into out: inout ByteBuffer) -> Int {
            var total = 0
            for _ in 0..<count {
                out.clear()
                do {
                    try writer.write(frame, into: &out)
                } catch {
                    fatalError("encoding failed: \(error)")
                }
                total &+= out.readableBytes
            }
            blackHole(total)
            return count
        }

        /// The same frame through `JSONSerialization`: content, then the header
        /// with its content-length, then prefix, header and content into one reused `Data`.
        static func foundationEncodeBatch(count: Int) -> Int {
            let content: [String: Any] = [
                "args": [1, "two", 3.5, NSNull(), true] as [Any],
                "kwargs": ["time": "1700000000.5"],
            ]
            var out = Data(capacity: 512)
            var total = 0
            for _ in 0..<count {
                do {
                    let body = try JSONSerialization.data(withJSONObject: content)
                    let header: [String: Any] = [
                        "byteorder": "little",
                        "content-type": "json",
                        "content-encoding": "utf-8",
                        "content-length": body.count,
                        "message-type": "message",
                        "action": "start",
                    ]
                    let head = try JSONSerialization.data(withJSONObject: header)
                    out.removeAll(keepingCapacity: true)
                    out.append(UInt8(truncatingIfNeeded: head.count >> 8))
                    out.append(UInt8(truncatingIfNeeded: head.count))
                    out.append(head)
                    out.append(body)
                    total &+= out.count
                } catch {
                    fatalError("JSONSerialization failed: \(error)")
                }
            }
            blackHole(total)
            return count
        }

        /// Decodes every frame of `buffer` (header and content parsed to `JSONValue`).
        static func decodeBatch(_ buffer: ByteBuffer) -> Int {
            var buffer = buffer
            var decoder = FrameDecoder()
            var frames = 0
            var total = 0
            do {
                while let part = try decoder.decode(buffer: &buffer) {
                    if case .frame(let frame) = part {
                        frames += 1
                        // Touch header and content so neither can be skipped.
                        total &+= frame.header.contentLength &+ (frame.content.jsonValue?.objectValue?.count ?? 0)
                    }
                }
            } catch {
                fatalError("decoding failed: \(error)")
            }
            blackHole(total)
            return frames
        }

        /// The same decode with `JSONSerialization`: read the 2-byte length, parse the
        /// header, read its content-length, parse the content (fragments allowed).
        static func foundationDecodeBatch(_ data: Data) -> Int {
            var frames = 0
            var offset = data.startIndex
            var total = 0
            do {
                while offset < data.endIndex {
                    let length = Int(data[offset]) << 8 | Int(data[offset + 1])
                    let headStart = offset + 2
                    let header = try JSONSerialization.jsonObject(with: data[headStart..<(headStart + length)])
                    guard let fields = header as? [String: Any], let contentLength = Self.integer(fields["content-length"])
                    else { fatalError("JSONSerialization: bad header") }
                    let contentStart = headStart + length
                    let content = try JSONSerialization.jsonObject(
                        with: data[contentStart..<(contentStart + contentLength)],
                        options: .fragmentsAllowed
                    )
                    blackHole(content)
                    total &+= contentLength
                    offset = contentStart + contentLength
                    frames += 1
                }
            } catch {
                fatalError("JSONSerialization failed: \(error)")
            }
            blackHole(total)
            return frames
        }

        static func integer(_ value: Any?) -> Int? {
            if let value = value as? Int { return value }
            if let value = value as? NSNumber { return value.intValue }
            return nil
        }

        /// Checks once, outside the timed runs, that both decoders see every frame
        /// and read the same values.
        static func checkDecoders(many: ByteBuffer, manyData: Data, count: Int) throws {
            let ours = decodeBatch(many)
            let theirs = foundationDecodeBatch(manyData)
            guard ours == count, theirs == count else {
                throw BenchError("decoder self-check failed: \(ours) and \(theirs) frames of \(count)")
            }
            var buffer = many
            var decoder = FrameDecoder()
            guard case .frame(let decoded)? = try decoder.decode(buffer: &buffer), decoded.content == frame.content,
                decoded.header.action == "start"
            else { throw BenchError("decoder self-check failed: the frame does not read back") }
        }
    }
}
