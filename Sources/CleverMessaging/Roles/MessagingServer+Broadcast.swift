import OrderedCollections
import NIOCore

extension MessagingServer {
    /// How many connections one flush task of a broadcast covers.
    static let flushChunk = 256

    /// Sends one action to every connected peer, encoding it once.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: one result per connected peer, in the order they were accepted:
    ///   a receipt, or why it could not be queued.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    @discardableResult
    public func broadcast(
        _ action: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:]
    ) throws(MessagingError) -> [(connection: Connection, result: Result<SendReceipt, MessagingError>)] {
        try broadcast(action, arguments: .values(args: args, kwargs: kwargs))
    }

    /// Sends one action to every connected peer, encoding it once (see ``broadcast(_:args:kwargs:)``).
    func broadcast(
        _ action: String,
        arguments: ActionArguments
    ) throws(MessagingError) -> [(connection: Connection, result: Result<SendReceipt, MessagingError>)] {
        let bytes = try Self.encodeAction(action, arguments: arguments)
        // The table as it is, unsorted: the frames go out first, the results are ordered after.
        let snapshot = state.withLockedValue { Array($0.connections.values) }
        var results = enqueue(bytes, on: snapshot, action: (action, arguments)).filter {
            // A link that is down (and keeps no queue) is not a connected peer: it is left out, as ``connections`` leaves it out.
            if case .failure(.notConnected) = $0.result { return false } else { return true }
        }
        // Sorted through indices: comparing the results themselves would copy (and retain) them at every step.
        let numbers = results.map(\.connection.number)
        results = numbers.indices.sorted { numbers[$0] < numbers[$1] }.map { results[$0] }
        return results
    }

    /// Sends one action to every connected peer, its arguments encoded once
    /// (see ``broadcast(_:args:kwargs:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - arguments: encoded to JSON: an object becomes the keyword arguments
    ///     (`kwargs`), an array the positional ones (`args`).
    /// - Returns: one result per connected peer, in the order they were accepted.
    /// - Throws: ``MessagingError/decoding(_:)`` when the arguments encode to
    ///   neither an object nor an array, ``MessagingError/encoding(_:)`` when the
    ///   frame cannot be encoded (then nothing is sent).
    @discardableResult
    public func broadcast(
        _ action: String,
        arguments: some Encodable
    ) throws(MessagingError) -> [(connection: Connection, result: Result<SendReceipt, MessagingError>)] {
        try broadcast(action, arguments: .encoded(EncodedArguments(arguments, of: action)))
    }

    /// One action frame, encoded once for many connections.
    static func encodeAction(_ action: String, arguments: ActionArguments) throws(MessagingError) -> ByteBuffer {
        var bytes = ByteBuffer()
        let writer = FrameWriter()
        do throws(FrameEncodingError) {
            try writer.writeAction(action, arguments: arguments, into: &bytes)
        } catch {
            throw .encoding(error)
        }
        return bytes
    }

    /// Queues encoded frames on each of `connections`.
    /// - Parameter action: when `bytes` is one action, its parts: a link with
    ///   acknowledged delivery gets it numbered (encoded again for it).
    /// - Returns: one result per connection, in the order given.
    func enqueue(
        _ bytes: ByteBuffer,
        on connections: [Connection],
        action: (name: String, arguments: ActionArguments)? = nil
    ) -> [(connection: Connection, result: Result<SendReceipt, MessagingError>)] {
        // One flush task per event loop and per chunk of its connections: far fewer
        // tasks (and cross-thread wake-ups) than one per connection, and the loops
        // start writing while the rest is still being queued. A server has a few
        // loops: they are found by a look along this short list, not by hashing.
        var batches: [(loop: any EventLoop, connections: [Connection])] = []
        func flush(_ loop: any EventLoop, _ connections: [Connection]) {
            loop.execute {
                // One clock reading for the whole chunk: it is written in one go.
                let now = loop.now
                for connection in connections { connection.flushOutbound(now: now) }
            }
        }
        var results: [(connection: Connection, result: Result<SendReceipt, MessagingError>)] = []
        results.reserveCapacity(connections.count)
        for connection in connections {
            let result: Result<(receipt: SendReceipt, needsFlush: Bool), MessagingError>
            do throws(MessagingError) {
                if let action, connection.deliveryRole != nil {
                    result = .success(try connection.enqueueActionDeferringFlush(bytes, action: action.name, arguments: action.arguments))
                } else {
                    result = .success(try connection.enqueueEncodedDeferringFlush(bytes))
                }
            } catch {
                result = .failure(error)
            }
            if case .success((_, true)) = result {
                let loop = connection.eventLoop
                let index = batches.firstIndex { $0.loop === loop } ?? {
                    batches.append((loop, []))
                    return batches.count - 1
                }()
                batches[index].connections.append(connection)
                if batches[index].connections.count >= Self.flushChunk {
                    flush(loop, batches[index].connections)
                    batches[index].connections = []
                }
            }
            results.append((connection, result.map(\.receipt)))
        }
        for batch in batches where !batch.connections.isEmpty { flush(batch.loop, batch.connections) }
        return results
    }
}
