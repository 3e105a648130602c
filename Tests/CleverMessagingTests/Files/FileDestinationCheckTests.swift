import Testing

@testable import CleverMessaging

/// ``FileDestinationCheck`` without a socket: the receiver's answer from its
/// policy, and the pusher's verdict from the answer.
@Suite("Files: the destination check before a push's body")
struct FileDestinationCheckTests {
    @Test("the receiver accepts a path inside its root and refuses others with file_refused")
    func answer() throws {
        let root = TemporaryDirectory("check")
        defer { root.remove() }
        let policy = try FilePolicy(allowedRoots: [root.path])
        #expect(FileDestinationCheck.answer(FileDestinationCheck.arguments(path: "shows/a.csv", bytes: 10), policy: policy) == nil)
        for path in ["../escape.bin", "/etc/passwd", "~/x", ""] {
            let refusal = FileDestinationCheck.answer(FileDestinationCheck.arguments(path: path, bytes: 10), policy: policy)
            #expect(refusal?.code == RemoteError.Code.fileRefused, "\(path)")
        }
        let unconfigured = FileDestinationCheck.answer(FileDestinationCheck.arguments(path: "a.csv", bytes: 1), policy: nil)
        #expect(unconfigured?.code == RemoteError.Code.fileRefused)
        #expect(unconfigured?.message.contains("no file root is configured") == true, "\(String(describing: unconfigured))")
    }

    @Test("the pusher sends after a yes or a peer that does not know the check, and fails on a refusal or no answer")
    func verdict() {
        #expect(FileDestinationCheck.verdict(.success(true)) == .send)
        let unknown = RemoteError(code: RemoteError.Code.unknownRequest, message: "no handler")
        #expect(FileDestinationCheck.verdict(.failure(.remote(unknown))) == .send)
        let refused = RemoteError(code: RemoteError.Code.fileRefused, message: "path refused")
        #expect(FileDestinationCheck.verdict(.failure(.remote(refused))) == .fail(.remote(refused)))
        #expect(FileDestinationCheck.verdict(.failure(.connectionLost)) == .fail(.connectionLost))
        let timedOut = MessagingError.timedOut(requestedValue: FileDestinationCheck.requestedValue, requestID: "0001", timeout: .seconds(1))
        #expect(FileDestinationCheck.verdict(.failure(timedOut)) == .fail(timedOut))
    }

    @Test("the request carries the path and the size")
    func arguments() {
        #expect(FileDestinationCheck.arguments(path: "a/b.csv", bytes: 42) == ["filepath": "a/b.csv", "bytes": 42])
        #expect(FileDestinationCheck.requestedValue == "x-clever-file-check")
    }
}
