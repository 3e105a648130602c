import Testing

@testable import CleverMessaging

/// Token files: a shared token, `id token` lines, and what is refused.
@Suite("Token files")
struct TokenStoreTests {
    @Test("one word is a shared token; `id token` lines are per peer; blank lines and comments are skipped")
    func kinds() throws {
        #expect(try TokenStore.parse("\n  s3cret \n").tokens == .shared("s3cret"))
        let store = try TokenStore.parse("# drones\ncopter-1 one\n\ncopter-2\ttwo\r\n")
        #expect(store.tokens == .perPeer(["copter-1": "one", "copter-2": "two"]))
        #expect(store.isPerPeer)
        #expect(store.key(for: "copter-1") != nil)
        #expect(store.key(for: "copter-3") == nil)
        #expect(store.key(for: nil) == nil)
        #expect(try TokenStore.parseClientToken("# mine\nabc\nignored line\n") == "abc")
    }

    @Test("malformed files name the line and the fault")
    func malformed() {
        #expect(throws: TokenFileError(line: nil, reason: "no token in the file")) { try TokenStore.parse("\n# nothing\n") }
        #expect(throws: TokenFileError(line: 2, reason: "a shared token and `id token` lines cannot be mixed")) { try TokenStore.parse("a b\nc\n") }
        #expect(throws: TokenFileError(line: 2, reason: "id a has two tokens")) { try TokenStore.parse("a b\na c\n") }
        #expect(throws: TokenFileError(line: 1, reason: "expected `token` or `id token`, found 3 words")) { try TokenStore.parse("a b c\n") }
        #expect(throws: TokenFileError(line: 1, reason: "expected one token on the line, found 2 words")) { try TokenStore.parseClientToken("a b\n") }
        #expect(throws: TokenFileError(line: nil, reason: "no token in the file")) { try TokenStore.parseClientToken("") }
        do {
            _ = try TokenStore.load(path: "/nonexistent/tokens")
            Issue.record("loaded")
        } catch {
            #expect(error.description == "token file /nonexistent/tokens: cannot read: No such file or directory")
        }
    }

    @Test("proofs: each side's proof checks only as that side's, with those nonces and that id")
    func proofs() {
        let key = TokenStore(sharedToken: "t").key(for: nil)!
        let other = TokenStore(sharedToken: "u").key(for: nil)!
        let proof = TokenProof.proof(.client, key: key, serverNonce: "s", clientNonce: "c", id: "a")
        #expect(proof.count == 64)
        #expect(TokenProof.verify(proof, .client, key: key, serverNonce: "s", clientNonce: "c", id: "a"))
        #expect(!TokenProof.verify(proof, .server, key: key, serverNonce: "s", clientNonce: "c", id: "a"))
        #expect(!TokenProof.verify(proof, .client, key: other, serverNonce: "s", clientNonce: "c", id: "a"))
        #expect(!TokenProof.verify(proof, .client, key: key, serverNonce: "s2", clientNonce: "c", id: "a"))
        #expect(!TokenProof.verify(proof, .client, key: key, serverNonce: "s", clientNonce: "c", id: "b"))
        #expect(!TokenProof.verify("zz", .client, key: key, serverNonce: "s", clientNonce: "c", id: "a"))
        #expect(TokenProof.nonce() != TokenProof.nonce())
    }
}
