/// Random unique tokens for inbox subjects: 22 base-62 characters (about 131 bits).
enum NUID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
