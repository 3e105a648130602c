/// The 64-bit xxHash (XXH64, seed 0) of a byte stream, fed in pieces of any
/// size: the fast integrity check two peers of this library may agree on for a
/// file (``FileChecksum/xxh64``) in place of SHA-256.
///
/// It detects accidental damage (a torn write, a wrong block, a bug) as well as
/// any 64-bit check can, at several times SHA-256's speed, but it is no
/// cryptographic hash: it says nothing against a peer that lies on purpose, who
/// could send other bytes and their SHA-256 just as well.
///
/// The result is the one the xxHash reference implementation gives (canonical
/// form: big-endian, 16 lowercase hex digits).
package struct XXH64: Sendable {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64 = 0 &+ prime1 &+ prime2
    private var v2: UInt64 = prime2
    private var v3: UInt64 = 0
    private var v4: UInt64 = 0 &- prime1
    /// Bytes fed so far.
    private var length: UInt64 = 0
    /// Bytes of an unfinished 32-byte stripe.
    private var tail: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var tailCount = 0

    /// A hash of nothing yet.
    package init() {}

    /// Feeds `bytes`.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress, bytes.count > 0 else { return }
        var count = bytes.count
        length &+= UInt64(count)
        if tailCount > 0 {
            let take = min(32 - tailCount, count)
            withUnsafeMutableBytes(of: &tail) { t in
                t.baseAddress!.advanced(by: tailCount).copyMemory(from: base, byteCount: take)
            }
            tailCount += take
            base += take
            count -= take
            guard tailCount == 32 else { return }
            withUnsafeBytes(of: tail) { stripes($0.baseAddress!, 32) }
            tailCount = 0
        }
        let whole = count & ~31
        if whole > 0 { stripes(base, whole) }
        let rest = count - whole
        if rest > 0 {
            withUnsafeMutableBytes(of: &tail) { t in
                t.baseAddress!.copyMemory(from: base + whole, byteCount: rest)
            }
            tailCount = rest
        }
    }

    /// Feeds `bytes`.
    package mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { update($0) }
        }
    }

    /// The hash of everything fed so far (the state is left as it is).
    package func finalize() -> UInt64 {
        var h: UInt64
        if length >= 32 {
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = Self.merge(h, v1)
            h = Self.merge(h, v2)
            h = Self.merge(h, v3)
            h = Self.merge(h, v4)
        } else {
            h = Self.prime5
        }
        h &+= length
        withUnsafeBytes(of: tail) { t in
            var p = 0
            while p + 8 <= tailCount {
                let k = Self.round(0, UInt64(littleEndian: t.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
                h ^= k
                h = rotl(h, 27) &* Self.prime1 &+ Self.prime4
                p += 8
            }
            if p + 4 <= tailCount {
                h ^= UInt64(UInt32(littleEndian: t.loadUnaligned(fromByteOffset: p, as: UInt32.self))) &* Self.prime1
                h = rotl(h, 23) &* Self.prime2 &+ Self.prime3
                p += 4
            }
            while p < tailCount {
                h ^= UInt64(t[p]) &* Self.prime5
                h = rotl(h, 11) &* Self.prime1
                p += 1
            }
        }
        h ^= h >> 33
        h &*= Self.prime2
        h ^= h >> 29
        h &*= Self.prime3
        h ^= h >> 32
        return h
    }

    /// The hash of everything fed so far, 16 lowercase hex digits (the canonical, big-endian form).
    package func hexDigest() -> String {
        let value = finalize()
        return hexString((0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) })
    }

    /// Runs the four lanes over `count` bytes (a multiple of 32) at `base`.
    @inline(__always)
    private mutating func stripes(_ base: UnsafeRawPointer, _ count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var p = base
        let end = base + count
        while p < end {
            a = Self.round(a, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            p += 32
        }
        v1 = a
        v2 = b
        v3 = c
        v4 = d
    }

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* prime1 &+ prime4
    }
}

@inline(__always)
private func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 {
    (x << r) | (x >> (64 - r))
}
