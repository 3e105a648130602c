import Testing

@testable import CleverMessaging

/// ``XXH64`` against the xxHash reference implementation's outputs, fed whole and in pieces.
@Suite("Files: the 64-bit xxHash")
struct XXH64Tests {
    /// Lengths of the pattern `(i * 7 + 3) & 0xFF` and their XXH64 (seed 0), from the reference implementation.
    static let vectors: [(Int, String)] = [
        (0, "ef46db3751d8e999"),
        (1, "1f25c8d0bc1f4bb6"),
        (3, "31d2363f52e564c9"),
        (4, "9bb64b7d66ee9fda"),
        (7, "9a7b149959ce60d8"),
        (8, "dab99d95c6f90092"),
        (12, "d52e407833af5133"),
        (31, "a2aa5f33cc4a6119"),
        (32, "23c3c17ef790fd97"),
        (33, "50a7cfc7ba588784"),
        (63, "5e3e54b431c7493c"),
        (64, "0eb64b3ef6eeb01f"),
        (100, "a61f8d4c170fe531"),
        (1000, "5f235fa033f1a3fb"),
        (100_003, "924a64f3ae9ea839"),
    ]

    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }

    static func xxh64(_ bytes: [UInt8]) -> String {
        var hasher = XXH64()
        hasher.update(bytes)
        return hasher.hexDigest()
    }

    @Test("known strings")
    func strings() {
        #expect(Self.xxh64([]) == "ef46db3751d8e999")
        #expect(Self.xxh64(Array("a".utf8)) == "d24ec4f1a98c6e5b")
        #expect(Self.xxh64(Array("abc".utf8)) == "44bc2cf5ad770999")
    }

    @Test("the reference's digests, fed whole", arguments: vectors.map { $0.0 })
    func whole(count: Int) {
        let expected = Self.vectors.first { $0.0 == count }!.1
        #expect(Self.xxh64(Self.pattern(count)) == expected)
    }

    @Test("the same digests, fed in pieces of every size from 1 to 70 bytes")
    func pieces() {
        for (count, expected) in Self.vectors where count <= 1000 {
            let bytes = Self.pattern(count)
            for piece in 1...70 {
                var hasher = XXH64()
                var start = 0
                while start < count {
                    let end = min(start + piece, count)
                    bytes[start..<end].withUnsafeBytes { hasher.update($0) }
                    start = end
                }
                #expect(hasher.hexDigest() == expected, "\(count) bytes in pieces of \(piece)")
            }
        }
    }

    @Test("finalizing leaves the state as it is: more bytes can follow")
    func finalizeThenContinue() {
        let bytes = Self.pattern(100)
        var hasher = XXH64()
        hasher.update(bytes[0..<40])
        _ = hasher.finalize()
        hasher.update(bytes[40...])
        #expect(hasher.hexDigest() == "a61f8d4c170fe531")
    }
}
