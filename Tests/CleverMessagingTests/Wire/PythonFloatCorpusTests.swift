import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// Floats written by ``JSONWriter`` are byte for byte what CPython's
/// `json.dumps` writes (`float.__repr__`), over a large seeded corpus.
@Suite("Python float corpus")
struct PythonFloatCorpusTests {
    /// Reads a file path from standard input, then one IEEE bit pattern (16 hex
    /// digits, big-endian) a line from that file; prints `json.dumps` of each.
    static let script = #"""
        import sys, json, struct
        path = sys.stdin.readline().strip()
        out = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.dumps(struct.unpack(">d", bytes.fromhex(line))[0]))
        sys.stdout.write("\n".join(out) + "\n")
        """#

    /// The corpus: boundaries, every power of ten and of two with their
    /// neighbours, short decimals at every exponent, and seeded random bit
    /// patterns (normal, subnormal, both signs). Only finite values.
    static func corpus() -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(140_000)
        func add(_ value: Double) {
            guard value.isFinite else { return }
            values.append(value)
            values.append(-value)
        }
        func addWithNeighbours(_ value: Double) {
            add(value)
            add(value.nextUp)
            add(value.nextDown)
        }

        // Boundaries of Python's layout (exponent form below 1e-4 and from 1e16)
        // and of Swift's (which changes layout above 2^53).
        let twoTo53 = 9_007_199_254_740_992.0
        for value in [
            0.0, 1.0, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.5, 1.5, 100.0, 1e-4, 1e16, 1e15, 1e17, twoTo53, 2 * twoTo53,
            twoTo53 + 2, twoTo53 - 1, 9_999_999_999_999_998.0, 1.7e9, 1_700_000_000.123,
            Double.greatestFiniteMagnitude, Double.leastNormalMagnitude, Double.leastNonzeroMagnitude,
            Double.ulpOfOne, Double.pi,
        ] {
            addWithNeighbours(value)
        }
        // Every power of ten (correctly rounded by the parser) and of two.
        for exponent in -330...308 {
            if let value = Double("1e\(exponent)") { addWithNeighbours(value) }
        }
        for exponent in -1074...1023 {
            addWithNeighbours(Double(sign: .plus, exponent: exponent, significand: 1))
        }
        // Whole numbers and halves.
        for n in 0..<2_000 {
            add(Double(n))
            add(Double(n) + 0.5)
        }

        var rng = WireTestKit.SeededRNG(seed: 0x5EED_F10A_7C0D_EC01)
        // Random bit patterns over the whole range.
        for _ in 0..<40_000 {
            let value = Double(bitPattern: rng.next())
            if value.isFinite { values.append(value) }
        }
        // Subnormals.
        for _ in 0..<5_000 {
            let bits = rng.next() & ((1 << 52) - 1) | (rng.next() & (1 << 63))
            values.append(Double(bitPattern: bits))
        }
        // Short decimals (1 to 17 significant digits) at every decimal exponent.
        for _ in 0..<15_000 {
            let digits = Int.random(in: 1...17, using: &rng)
            var mantissa: UInt64 = 0
            for _ in 0..<digits { mantissa = mantissa * 10 + rng.next() % 10 }
            if let value = Double("\(mantissa)e\(Int.random(in: -340...300, using: &rng))") { add(value) }
        }
        // Dense around the layout boundaries: (2^53, 1e16), near 1e-4 and 1e16.
        for _ in 0..<5_000 {
            add(Double.random(in: twoTo53...1e16, using: &rng))
            add(Double.random(in: 0.9e-4...1.1e-4, using: &rng))
            add(Double.random(in: 0.9e16...1.1e16, using: &rng))
        }
        // Telemetry-like values: timestamps and coordinates.
        for _ in 0..<2_000 {
            add(Double.random(in: 1.6e9...1.8e9, using: &rng))
            add(Double.random(in: -180...180, using: &rng))
        }
        return values
    }

    /// Our text for each value, one a line.
    static func encoded(_ values: [Double]) -> [Substring] {
        var buffer = ByteBufferAllocator().buffer(capacity: values.count * 24)
        for value in values {
            JSONWriter.write(.double(value), into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return String(buffer: buffer).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    }

    @Test("every double of the corpus is written as CPython's json.dumps writes it")
    func corpusMatchesCPython() async throws {
        let values = Self.corpus()
        #expect(values.count >= 100_000)

        let directory = TemporaryDirectory("float-corpus")
        defer { directory.remove() }
        let hex = values.map { PythonInterop.hex(of: $0.bitPattern) }.joined(separator: "\n") + "\n"
        directory.write("values.hex", Array(hex.utf8))

        let python = try await PythonInterop.run(script: Self.script, input: directory.file("values.hex") + "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        try #require(python.count == values.count, "python printed \(python.count) lines for \(values.count) values")

        let ours = Self.encoded(values)
        try #require(ours.count == values.count)
        var differences: [String] = []
        var count = 0
        for index in values.indices where ours[index] != python[index] {
            count += 1
            if differences.count < 20 {
                differences.append("\(PythonInterop.hex(of: values[index].bitPattern)): ours \(ours[index]), Python \(python[index])")
            }
        }
        #expect(count == 0, "\(count) of \(values.count) doubles differ; first:\n\(differences.joined(separator: "\n"))")
    }

    @Test("ServerAnnouncement's str(float) agrees with the JSON text of finite values")
    func announcementAgrees() {
        var rng = WireTestKit.SeededRNG(seed: 7)
        for _ in 0..<10_000 {
            let value = Double(bitPattern: rng.next())
            guard value.isFinite else { continue }
            let json = String(decoding: JSONWriter.bytes(of: .double(value)), as: UTF8.self)
            #expect(ServerAnnouncement.pythonFloatString(value) == json)
        }
    }
}
