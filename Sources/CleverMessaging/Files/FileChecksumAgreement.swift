/// How two peers of this library agree on a file transfer's ``FileChecksum``,
/// as pure functions of the frames' fields (tested without a link).
///
/// The side that will send the bytes learns the receiver's choice before the
/// body, so that both hash with the same algorithm as the bytes stream:
///
/// * A push: the pusher's destination check (``FileDestinationCheck``) carries
///   the offer (``offerKey``: the checks the pusher accepts besides SHA-256, in
///   its order of preference); the receiver answers `{"checksum": name}` with
///   the one it picks, or `true` (as a receiver that knows no offer does):
///   SHA-256.
/// * A pull: the `filetransfer` request carries the offer; the serving side
///   picks and names its pick in the file's header.
///
/// The file's header then says the digest follows the body
/// (``ExtensionHeader/sha256Trailer``) and, for any check but SHA-256, which
/// one (``ExtensionHeader/checksum``); the trailer carries the digest under the
/// check's name (``FileChecksum/headerKey``). A reference peer never sees an
/// offer and always gets SHA-256, in the header, as the reference sends it.
package enum FileChecksumAgreement {
    /// The key of the offer in a destination check's or a file request's kwargs:
    /// an array of check names.
    package static let offerKey = "x-clever-checksums"
    /// The key of the pick in a destination check's answer.
    package static let answerKey = "checksum"

    /// The kwargs an asking side adds for its preference (none for SHA-256).
    package static func offer(_ preference: FileChecksum) -> JSONObject {
        guard preference != .sha256 else { return [:] }
        return [offerKey: .array([.string(preference.rawValue)])]
    }

    /// The check a side that prefers `preference` picks from a request's kwargs:
    /// its preference when the offer names it, SHA-256 otherwise.
    package static func pick(offered kwargs: JSONObject, preference: FileChecksum) -> FileChecksum {
        guard preference != .sha256, case .array(let names)? = kwargs[offerKey] else { return .sha256 }
        return names.contains(.string(preference.rawValue)) ? preference : .sha256
    }

    /// A destination check's answer for the pick: `true` for SHA-256 (what a
    /// receiver that knows no offer answers), `{"checksum": name}` otherwise.
    package static func answer(_ pick: FileChecksum) -> JSONValue {
        pick == .sha256 ? .bool(true) : .object([answerKey: .string(pick.rawValue)])
    }

    /// The check a destination check's answer names, when it is one the pusher
    /// offered (`preference`); SHA-256 for `true` or anything else.
    package static func agreed(answer value: JSONValue, preference: FileChecksum) -> FileChecksum {
        guard let name = value[answerKey]?.stringValue, name == preference.rawValue else { return .sha256 }
        return preference
    }

    /// The header fields of a file frame whose digest follows in a trailer.
    package static func trailerAnnouncement(_ checksum: FileChecksum) -> JSONObject {
        var extra: JSONObject = [ExtensionHeader.sha256Trailer: .bool(true)]
        if checksum != .sha256 { extra[ExtensionHeader.checksum] = .string(checksum.rawValue) }
        return extra
    }

    /// The check a file frame's header announces for its trailer: SHA-256 when it
    /// names none, `nil` when it names one this side does not know.
    package static func announced(in extra: JSONObject) -> FileChecksum? {
        guard let name = extra[ExtensionHeader.checksum] else { return .sha256 }
        return name.stringValue.flatMap(FileChecksum.init(rawValue:))
    }

    /// The digest a trailer frame's header carries, under the name of its check.
    package static func trailerDigest(in extra: JSONObject) -> String? {
        for checksum in FileChecksum.allCases {
            if let digest = extra[checksum.headerKey]?.stringValue { return digest }
        }
        return nil
    }
}
