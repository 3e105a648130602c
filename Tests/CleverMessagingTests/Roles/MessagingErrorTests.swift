import CleverMessaging
import NIOCore
import Testing

/// The one error type: stable codes, messages, causes, and one catch over
/// files, requests and waits.
@Suite("MessagingError", .timeLimit(.minutes(1)))
struct MessagingErrorTests {
    @Test("codes are distinct, snake_case and stable")
    func codes() {
        let all = MessagingError.Code.all
        #expect(Set(all).count == all.count)
        for code in all {
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0 == "_" }, "\(code)")
        }
        #expect(MessagingError.Code.notConnected.rawValue == "not_connected")
        #expect(MessagingError.Code.timedOut.rawValue == "timed_out")
        #expect(MessagingError.Code.fileIO.rawValue == "file_io")
        #expect(MessagingError.Code.waitTimedOut.rawValue == "wait_timed_out")
        #expect(MessagingError.Code(rawValue: "queue_full") == .queueFull)
        #expect(MessagingError.queueFull(queuedBytes: 10, limit: 5).code == .queueFull)
        #expect(MessagingError.discoveryTimedOut(after: .seconds(1)).code.description == "discovery_timed_out")
    }

    @Test("message is the one-line text; cause is the underlying error")
    func messageAndCause() throws {
        let io = MessagingError.fileIO(operation: "open", path: "/x", errno: 2)
        #expect(io.message == "cannot open /x: No such file or directory")
        #expect(MessagingError.fileIO(operation: "receive", path: "", errno: 5).message == "cannot receive: Input/output error")
        #expect(FilePolicyError.io("/x", errno: 13).description == "\"/x\": Permission denied")
        #expect("\(io)" == io.message)
        let errno = try #require(io.cause as? IOError)
        #expect(errno.errnoCode == 2)
        let remote = RemoteError(code: RemoteError.Code.unknownRequest, message: "no")
        #expect(MessagingError.remote(remote).cause as? RemoteError == remote)
        #expect(MessagingError.fileRefused(.emptyPath).cause as? FilePolicyError == .emptyPath)
        #expect(MessagingError.notConnected.cause == nil)
    }

    @Test("one catch over a file call, a request and a wait, switching on code")
    func oneCatch() async throws {
        try await SwiftPairTests.withPair { server, client, _ in
            var seen: [MessagingError.Code] = []
            for step in 0..<3 {
                do throws(MessagingError) {
                    if step == 0 { _ = try await client.connection.pushFile("/nonexistent/file", to: "x") }
                    if step == 1 { _ = try await client.connection.request("no_such_value", timeout: .seconds(5)) }
                    if step == 2 { _ = try await server.waitForConnections(2, timeout: .milliseconds(50)) }
                } catch {
                    switch error.code {
                    case .fileIO, .fileRefused, .notRegularFile: seen.append(error.code)
                    case .remote: seen.append(error.code)
                    case .waitTimedOut: seen.append(error.code)
                    default: Issue.record("unexpected \(error.code): \(error.message)")
                    }
                }
            }
            #expect(seen == [.fileIO, .remote, .waitTimedOut])
        }
    }

    @Test("a server that cannot listen fails with listen_failed, not a system error")
    func listenFailed() async throws {
        let first = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            let port = try await first.localAddress().port!
            let second = MessagingServer(host: "127.0.0.1", port: port, registry: HandlerRegistry())
            await #expect(throws: MessagingError.self) { try await second.run() }
            do throws(MessagingError) {
                _ = try await second.localAddress()
                Issue.record("expected listen_failed")
            } catch {
                #expect(error.code == .listenFailed)
            }
            first.shutdown()
            try await group.waitForAll()
        }
    }
}
