import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

@Suite("Log formatting")
struct LogFormatTests {
    @Test("durations read as people write them, never as raw nanoseconds")
    func durations() {
        #expect(LogFormat.duration(TimeAmount.nanoseconds(1_981_619_889)) == "1.98 s")
        #expect(LogFormat.duration(TimeAmount.seconds(10)) == "10 s")
        #expect(LogFormat.duration(TimeAmount.milliseconds(250)) == "250 ms")
        #expect(LogFormat.duration(TimeAmount.microseconds(20)) == "20 µs")
        #expect(LogFormat.duration(TimeAmount.nanoseconds(500)) == "500 ns")
        #expect(LogFormat.duration(TimeAmount.seconds(125)) == "2 min 5 s")
        #expect(LogFormat.duration(TimeAmount.minutes(63)) == "1 h 3 min")
        #expect(LogFormat.duration(Duration.milliseconds(1500)) == "1.5 s")
        #expect(LogFormat.duration(Duration.zero) == "0 s")
    }

    @Test("byte counts")
    func bytes() {
        #expect(LogFormat.bytes(512) == "512 B")
        #expect(LogFormat.bytes(4 * 1024 * 1024) == "4 MiB")
        #expect(LogFormat.bytes(1536) == "1.5 KiB")
    }

    @Test("a refused connection reads as one phrase")
    func refused() async throws {
        // Port 1 on loopback: nobody listens there.
        do {
            _ = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: 1).get()
            Issue.record("connected to port 1")
        } catch {
            let text = LogFormat.error(error)
            #expect(text.contains("connection refused"), "\(text)")
            #expect(!text.contains(")"+" (errno"), "\(text)")
        }
        #expect(LogFormat.error(IOError(errnoCode: 111, reason: "connect")) == "connection refused (errno 111)")
    }

    @Test("a timed-out request names its timeout readably")
    func timedOut() {
        let error = MessagingError.timedOut(requestedValue: "id", requestID: "0001", timeout: .milliseconds(1500))
        #expect(error.description == "request 0001 for \"id\" timed out after 1.5 s")
    }
}
