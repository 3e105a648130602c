import Testing

@testable import CleverMessaging

@Suite("HandlerBacklog")
struct HandlerBacklogTests {
    @Test("past the limit reading stops once; at half of it, it starts again")
    func pauseAndResume() {
        var backlog = HandlerBacklog(limit: 4)
        var pauses = 0
        for _ in 0..<6 where backlog.started() { pauses += 1 }
        #expect(pauses == 1)
        #expect(backlog.paused && backlog.running == 6)
        var resumes = 0
        for _ in 0..<6 where backlog.finished() { resumes += 1 }
        #expect(resumes == 1)
        #expect(!backlog.paused && backlog.running == 0)
    }

    @Test("without a link to stop, nothing pauses; a new link reads whatever still runs")
    func noLink() {
        var backlog = HandlerBacklog(limit: 1)
        let first = backlog.started(canPause: false)
        let second = backlog.started(canPause: false)
        #expect(!first && !second)
        let third = backlog.started()
        #expect(third)
        backlog.linkChanged()
        #expect(!backlog.paused)
        #expect(backlog.running == 3)
    }
}
