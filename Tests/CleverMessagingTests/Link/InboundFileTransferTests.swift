import Testing

@testable import CleverMessaging

@Suite("InboundFileTransfer")
struct InboundFileTransferTests {
    @Test("a body with a trailer: the next frame is the digest, consumed and given to its receiver")
    func trailer() {
        var files = InboundFileTransfer<String>()
        files.bodyBegan("a", digestFollows: true)
        #expect(files.receiver == "a")
        let r1 = files.bodyEnded()
        #expect(r1 == "a")
        #expect(files.trailerPending)
        guard case .trailer(let receiver, let digest) = files.frameArrived(isTrailer: true, digest: "ff") else {
            Issue.record("not settled as a trailer")
            return
        }
        #expect(receiver == "a" && digest == "ff")
        guard case .notDue = files.frameArrived(isTrailer: true, digest: "ff") else {
            Issue.record("a second trailer was taken")
            return
        }
    }

    @Test("another frame in the trailer's place: the receiver gets no digest, the frame is handled as usual")
    func missingTrailer() {
        var files = InboundFileTransfer<String>()
        files.bodyBegan("a", digestFollows: true)
        _ = files.bodyEnded()
        guard case .missing(let receiver) = files.frameArrived(isTrailer: false, digest: nil) else {
            Issue.record("not missing")
            return
        }
        #expect(receiver == "a")
    }

    @Test("a body without a trailer announces nothing after it; a discarded body still expects its trailer")
    func noTrailer() {
        var files = InboundFileTransfer<String>()
        files.bodyBegan("a", digestFollows: false)
        _ = files.bodyEnded()
        guard case .notDue = files.frameArrived(isTrailer: true, digest: "ff") else {
            Issue.record("a trailer was expected")
            return
        }
        files.bodyBegan(nil, digestFollows: true)
        let r2 = files.bodyEnded()
        #expect(r2 == nil)
        guard case .trailer(nil, "ee") = files.frameArrived(isTrailer: true, digest: "ee") else {
            Issue.record("the discarded body's trailer was not consumed")
            return
        }
    }

    @Test("a link that ends aborts the body in progress and the one waiting for its digest")
    func linkEnded() {
        var files = InboundFileTransfer<String>()
        files.bodyBegan("a", digestFollows: true)
        _ = files.bodyEnded()
        files.bodyBegan("b", digestFollows: false)
        let r3 = files.linkEnded()
        #expect(r3.sorted() == ["a", "b"])
        let r4 = files.linkEnded()
        #expect(r4.isEmpty)
        #expect(!files.trailerPending)
    }
}
