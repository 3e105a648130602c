import Testing

@testable import CleverMessaging

/// ``FileChecksumAgreement`` without a socket: the offer, the pick, the answer
/// and what each side reads from the frames.
@Suite("Files: agreeing on a file's integrity check")
struct FileChecksumAgreementTests {
    @Test("a side that asks for xxh64 offers it; one that asks for SHA-256 offers nothing (the wire of before)")
    func offer() {
        #expect(FileChecksumAgreement.offer(.xxh64) == ["x-clever-checksums": ["xxh64"]])
        #expect(FileChecksumAgreement.offer(.sha256) == [:])
    }

    @Test("xxh64 is picked only when offered and asked for on both sides")
    func pick() {
        let offered = FileChecksumAgreement.offer(.xxh64).merging(["filepath": "a.bin"]) { a, _ in a }
        #expect(FileChecksumAgreement.pick(offered: offered, preference: .xxh64) == .xxh64)
        #expect(FileChecksumAgreement.pick(offered: offered, preference: .sha256) == .sha256)
        #expect(FileChecksumAgreement.pick(offered: ["filepath": "a.bin"], preference: .xxh64) == .sha256)
        #expect(FileChecksumAgreement.pick(offered: ["x-clever-checksums": ["crc32", "md5"]], preference: .xxh64) == .sha256)
        #expect(FileChecksumAgreement.pick(offered: ["x-clever-checksums": "xxh64"], preference: .xxh64) == .sha256)
        #expect(FileChecksumAgreement.pick(offered: ["x-clever-checksums": ["md5", "xxh64"]], preference: .xxh64) == .xxh64)
    }

    @Test("the destination check's answer: true for SHA-256 (as before), the name otherwise")
    func answer() {
        #expect(FileChecksumAgreement.answer(.sha256) == true)
        #expect(FileChecksumAgreement.answer(.xxh64) == ["checksum": "xxh64"])
        #expect(FileDestinationCheck.verdict(.success(FileChecksumAgreement.answer(.xxh64))) == .send)
    }

    @Test("the pusher uses what the answer names only when it offered it")
    func agreed() {
        #expect(FileChecksumAgreement.agreed(answer: ["checksum": "xxh64"], preference: .xxh64) == .xxh64)
        #expect(FileChecksumAgreement.agreed(answer: true, preference: .xxh64) == .sha256)
        #expect(FileChecksumAgreement.agreed(answer: ["checksum": "xxh64"], preference: .sha256) == .sha256)
        #expect(FileChecksumAgreement.agreed(answer: ["checksum": "md5"], preference: .xxh64) == .sha256)
        #expect(FileChecksumAgreement.agreed(answer: .null, preference: .xxh64) == .sha256)
    }

    @Test("the file's header announces the trailer and, unless SHA-256, its check")
    func announcement() {
        let sha = FileChecksumAgreement.trailerAnnouncement(.sha256)
        #expect(sha == ["x-clever-sha256-trailer": true])
        #expect(FileChecksumAgreement.announced(in: sha) == .sha256)
        let fast = FileChecksumAgreement.trailerAnnouncement(.xxh64)
        #expect(fast == ["x-clever-sha256-trailer": true, "x-clever-checksum": "xxh64"])
        #expect(FileChecksumAgreement.announced(in: fast) == .xxh64)
        #expect(FileChecksumAgreement.announced(in: ["x-clever-checksum": "md5"]) == nil)
        #expect(FileChecksumAgreement.announced(in: ["x-clever-checksum": 5]) == nil)
    }

    @Test("the trailer carries the digest under its check's name")
    func trailerDigest() {
        #expect(FileChecksumAgreement.trailerDigest(in: ["sha256": "ab"]) == "ab")
        #expect(FileChecksumAgreement.trailerDigest(in: ["xxh64": "cd"]) == "cd")
        #expect(FileChecksumAgreement.trailerDigest(in: ["md5": "ef"]) == nil)
        #expect(FileChecksum.xxh64.headerKey == "xxh64")
        #expect(FileChecksum.sha256.headerKey == ExtensionHeader.sha256)
    }
}
