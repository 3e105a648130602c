import Benchmark
import CleverBench
import Synchronization

/// Messages per benchmark iteration: the counts printed are per this many
/// messages (divide by 1,000 for one message).
let messagesPerIteration = 1000

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .cpuTotal, .wallClock, .throughput],
        warmupIterations: 5,
        maxDuration: .seconds(3),
        maxIterations: 2000
    )

    loopback("one-way actions ×\(messagesPerIteration)") { try await $0.oneWayActions(messagesPerIteration) }
    loopback("pipelined requests ×\(messagesPerIteration)") { try await $0.pipelinedRequests(messagesPerIteration) }
    loopback("sequential requests ×\(messagesPerIteration)") { try await $0.sequentialRequests(messagesPerIteration) }
    loopback("typed actions ×\(messagesPerIteration)") { try await $0.typedActions(messagesPerIteration) }
    loopback("typed actions through trees ×\(messagesPerIteration)") { try await $0.typedActions(messagesPerIteration, throughTrees: true) }
    loopback("typed requests ×\(messagesPerIteration)") { try await $0.typedRequests(messagesPerIteration) }
    loopback("typed requests through trees ×\(messagesPerIteration)") { try await $0.typedRequests(messagesPerIteration, throughTrees: true) }
}

/// A benchmark on its own loopback pair, started before its first iteration
/// and stopped after its last (neither is counted).
func loopback(_ name: String, _ run: @escaping @Sendable (LoopbackWorkload) async throws -> Void) {
    let pair = WorkloadHolder()
    Benchmark(name) { benchmark in
        guard let workload = pair.workload else { return benchmark.error("no loopback pair") }
        for _ in benchmark.scaledIterations {
            do {
                try await run(workload)
            } catch {
                benchmark.error("\(name): \(error)")
                return
            }
        }
    } setup: {
        pair.workload = try await LoopbackWorkload.start()
    } teardown: {
        try await pair.workload?.stop()
        pair.workload = nil
    }
}

/// The workload a benchmark's setup started, for its closure and teardown.
final class WorkloadHolder: Sendable {
    private let held = Mutex<LoopbackWorkload?>(nil)

    var workload: LoopbackWorkload? {
        get { held.withLock { $0 } }
        set { held.withLock { $0 = newValue } }
    }
}
