import CleverTestSupport
import Foundation
import Testing

/// The tests' own child processes: exits are seen whatever other children run beside them.
@Suite("Test support: spawned processes", .timeLimit(.minutes(1)))
struct SpawnedProcessTests {
    @Test("short children spawned beside long-lived ones are seen to exit, with their statuses")
    func exitsSeenBesideLongLivedChildren() async throws {
        let sleepers = try await withThrowingTaskGroup(of: SpawnedProcess.self) { group in
            for _ in 0..<16 { group.addTask { try SpawnedProcess(executable: "/bin/sleep", arguments: ["600"]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for code in 0..<16 {
                group.addTask {
                    // Spawned while more long-lived children are being spawned.
                    let sleeper = try SpawnedProcess(executable: "/bin/sleep", arguments: ["600"])
                    let short = try SpawnedProcess(executable: "/bin/sh", arguments: ["-c", "exit \(code)"])
                    let status = await short.waitForExit()
                    sleeper.terminate()
                    #expect(await sleeper.waitForExit() == SIGTERM)
                    return status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.sorted() == Array(0..<16))
        for sleeper in sleepers {
            #expect(sleeper.isRunning)
            sleeper.terminate()
            #expect(await sleeper.waitForExit() == SIGTERM)
            #expect(!sleeper.isRunning)
            sleeper.terminate()  // after the exit: nothing to signal, nothing happens
        }
    }

    @Test("standard input and output through pipes; the output ends when the child exits")
    func pipes() async throws {
        let input = try SpawnedProcess.pipe()
        let output = try SpawnedProcess.pipe()
        let cat = try SpawnedProcess(executable: "/bin/cat", arguments: [], standardInput: .descriptor(input.read), standardOutput: .descriptor(output.write))
        close(input.read)
        close(output.write)
        let received = Watched([UInt8]())
        let ended = Watched(false)
        SpawnedProcess.readToEnd(output.read, name: "cat stdout") { chunk in
            if chunk.isEmpty { ended.update { $0 = true } } else { received.update { $0 += chunk } }
        }
        let text = Array("drone 7 ready\n".utf8)
        #expect(text.withUnsafeBytes { write(input.write, $0.baseAddress, $0.count) } == text.count)
        #expect(await received.wait(timeout: .seconds(20), until: { $0 == text }))
        close(input.write)
        #expect(await cat.waitForExit() == 0)
        #expect(await ended.wait(timeout: .seconds(20), until: { $0 }))
    }

    @Test("a program that does not exist is a thrown failure naming it")
    func missingProgram() {
        #expect(throws: SpawnedProcess.Failure.self) { try SpawnedProcess(executable: "/nonexistent/clever-msg", arguments: []) }
    }
}
