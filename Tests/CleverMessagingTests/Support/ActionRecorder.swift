import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers

/// Records the actions a registry receives, for tests to wait on.
final class ActionRecorder: Sendable {
    struct Received: Sendable, Hashable {
        var action: String
        var args: [JSONValue]
        var kwargs: JSONObject
    }

    private let received = Watched<[Received]>([])

    /// Registers a recording handler for each name in `actions` on `registry`.
    init(recording actions: [String], on registry: HandlerRegistry) {
        for name in actions {
            registry.onAction(name) { [received] _, args, kwargs in
                received.update { $0.append(Received(action: name, args: args, kwargs: kwargs)) }
            }
        }
    }

    var all: [Received] { received.value }

    /// Waits until `count` actions have arrived; returns them.
    @discardableResult
    func waitFor(count: Int, timeout: Duration = .seconds(15)) async throws -> [Received] {
        await received.wait(timeout: timeout) { $0.count >= count }
        let now = all
        guard now.count >= count else {
            throw PythonPeer.Failure(description: "waited for \(count) actions, got \(now.count)")
        }
        return now
    }
}

/// A registry with the request handlers the tests use on the Swift side.
func makeTestRegistry() -> HandlerRegistry {
    let registry = HandlerRegistry()
    registry.onRequest("echo") { _, args, kwargs in ["args": .array(args), "kwargs": .object(kwargs)] }
    registry.onRequest("id") { _, _, _ in "swiftcopter" }
    registry.onRequest("fail") { _, _, _ in throw PythonPeer.Failure(description: "this handler always fails") }
    registry.onRequest("slow") { (_, args, kwargs) async throws -> JSONValue in
        // A tagged request is held until the test releases its tag (or its task is
        // cancelled): the caller decides when the reply goes out, no timer does.
        if let tag = kwargs["tag"]?.stringValue {
            slowHandlerTags.update { _ = $0.started.insert(tag) }
            try await slowHandlerTags.waitCancellably { $0.released.contains(tag) }
            slowHandlerTags.update { _ = $0.finished.insert(tag) }
        }
        return ["args": .array(args), "kwargs": .object(kwargs)]
    }
    return registry
}

/// Values of every JSON kind, including what only Python's dialect has.
let everyJSONKind: JSONObject = [
    "null": nil,
    "true": true,
    "false": false,
    "int": 42,
    "negative": -7,
    "float": 3.5,
    "integral_float": 1.0,
    "nan": .double(.nan),
    "inf": .double(.infinity),
    "ninf": .double(-.infinity),
    "big": .bigInteger("123456789012345678901234567890"),
    "negative_big": .bigInteger("-98765432109876543210"),
    "text": "Дрон №7 ✈ 🚁 \"quoted\" \\ \n\t",
    "list": [1, "two", [3.0, nil], [:]],
    "object": ["nested": ["deep": [true]]],
]
