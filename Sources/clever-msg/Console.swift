import ArgumentParser
import CleverMessaging
import Foundation
import NIOCore

/// The ground-station console's commands (see `clever-msg serve --help`).
struct Console: Sendable {
    let station: GroundStation
    let out: LinePrinter
    let timeout: Duration

    /// Runs one command line; returns `false` for `quit`.
    func execute(_ line: String) async throws -> Bool {
        let words = Self.split(line, maxWords: 4)
        guard let command = words.first else { return true }
        do {
            switch command {
            case "quit", "exit": return false
            case "drones": drones()
            case "wait": try await wait(words)
            case "send": try await send(words)
            case "request": try await request(words)
            case "push": try await push(words)
            case "pull": try await pull(words)
            case "help": out.print(["help": .string(Serve.configuration.discussion)], text: Serve.configuration.discussion)
            default: throw ConsoleError("unknown command \(command) (try help)")
            }
        } catch {
            out.print(["error": .string("\(error)"), "command": .string(line)], text: "error: \(error)")
        }
        return true
    }

    private func drones() {
        let list = station.drones
        if list.isEmpty { out.print(["drones": []], text: "no drones") }
        for d in list {
            out.print(
                ["id": .string(d.id), "address": .string(d.address), "connected": .bool(d.isConnected), "since": .double(d.since)],
                text: "\(d.id)  \(d.address)  \(d.isConnected ? "connected" : "disconnected")  since \(Date(timeIntervalSince1970: d.since))"
            )
        }
    }

    private func wait(_ words: [String]) async throws {
        guard words.count >= 2, let count = Int(words[1]) else { throw ConsoleError("usage: wait N [TIMEOUT]") }
        let seconds = words.count > 2 ? Double(words[2]) ?? 30 : 30
        let ok: Bool
        do {
            try await station.waitForDrones(count, timeout: .milliseconds(Int(seconds * 1000)))
            ok = true
        } catch {
            ok = false
        }
        let connected = station.connectedIDs.count
        out.print(["wait": .integer(count), "connected": .integer(connected), "ok": .bool(ok)],
                  text: ok ? "\(connected) drones connected" : "timed out: \(connected) of \(count) drones connected")
    }

    private func targets(_ word: String) throws -> [String] {
        let ids = word == "all" ? station.connectedIDs : word.split(separator: ",").map(String.init)
        if ids.isEmpty { throw ConsoleError("no drones match \(word)") }
        return ids
    }

    private func kwargs(_ words: [String], at index: Int) throws -> JSONObject {
        guard words.count > index else { return [:] }
        guard case .object(let object) = try JSONParser.parse(words[index]) else {
            throw ConsoleError("kwargs must be a JSON object")
        }
        return object
    }

    private func send(_ words: [String]) async throws {
        guard words.count >= 3 else { throw ConsoleError("usage: send TARGET ACTION [KWARGS_JSON]") }
        let kwargs = try self.kwargs(words, at: 3)
        let results = try await station.send(words[2], arguments: JSONValue.object(kwargs), to: try targets(words[1]))
        for sent in results {
            switch sent.result {
            case .success:
                out.print(["id": .string(sent.droneID), "sent": .string(words[2])], text: "\(sent.droneID): sent \(words[2])")
            case .failure(let error):
                out.print(["id": .string(sent.droneID), "error": .string("\(error)")], text: "\(sent.droneID): error: \(error)")
            }
        }
    }

    private func request(_ words: [String]) async throws {
        guard words.count >= 3 else { throw ConsoleError("usage: request TARGET NAME [KWARGS_JSON]") }
        let kwargs = try self.kwargs(words, at: 3)
        let name = words[2]
        let ids = try targets(words[1])
        // One fan-out for all targets: no task, promise or thread hop per drone.
        let results = try await station.requestAll(name, arguments: JSONValue.object(kwargs), from: ids.sorted(), as: JSONValue.self, timeout: timeout)
        for answer in results {
            let id = answer.droneID
            switch answer.result {
            case .success(let value):
                out.print(["id": .string(id), "value": value], text: "\(id): \(value)")
            case .failure(let error):
                var kind: JSONValue = "error"
                if case .timedOut = error { kind = "timeout" }
                out.print(["id": .string(id), "error": .string("\(error)"), "kind": kind], text: "\(id): \(kind): \(error)")
            }
        }
    }

    private func push(_ words: [String]) async throws {
        guard words.count >= 4 else { throw ConsoleError("usage: push TARGET LOCAL REMOTE") }
        for id in try targets(words[1]) {
            do {
                guard let connection = station.connection(for: id) else { throw MessagingError.notConnected }
                let bar = out.json ? nil : ProgressBar("push \(words[2]) → \(id)")
                let result = try await connection.pushFile(words[2], to: words[3], progress: bar?.handler)
                out.print(
                    ["id": .string(id), "pushed": .string(words[3]), "bytes": .integer(Int(result.bytes)), "delivery": .string("\(result.delivery)")],
                    text: "\(id): pushed \(result.bytes) bytes to \(words[3]) (\(result.delivery))"
                )
            } catch {
                let message = Self.explain(error)
                out.print(["id": .string(id), "error": .string(message)], text: "\(id): error: \(message)")
            }
        }
    }

    /// The error's text, with a hint when the drone refused a file because it has no file root.
    static func explain(_ error: any Error) -> String {
        let text = "\(error)"
        guard text.contains(FilePolicyError.notConfigured.description) else { return text }
        return text + " (the drone was started without --root)"
    }

    private func pull(_ words: [String]) async throws {
        guard words.count >= 4 else { throw ConsoleError("usage: pull ID REMOTE LOCAL") }
        let id = words[1]
        guard let connection = station.connection(for: id) else { throw MessagingError.notConnected }
        let bar = out.json ? nil : ProgressBar("pull \(words[2]) ← \(id)")
        let result: FileTransferResult
        do {
            result = try await connection.pullFile(words[2], to: words[3], progress: bar?.handler)
        } catch {
            throw ConsoleError(Self.explain(error))
        }
        out.print(["id": .string(id), "pulled": .string(words[2]), "bytes": .integer(Int(result.bytes)), "path": .string(words[3])],
                  text: "\(id): pulled \(result.bytes) bytes into \(words[3])")
    }

    /// Splits off up to `maxWords - 1` words at white space; the rest of the line is the last word.
    static func split(_ line: String, maxWords: Int) -> [String] {
        var words: [String] = []
        var rest = Substring(line).drop { $0 == " " || $0 == "\t" }
        while !rest.isEmpty {
            if words.count == maxWords - 1 {
                words.append(String(rest).trimmingCharacters(in: .whitespaces))
                break
            }
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            words.append(String(word))
            rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        }
        return words
    }
}

/// A console usage error.
struct ConsoleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
