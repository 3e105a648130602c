/// The header keys of acknowledged delivery, typed in ``FrameHeader`` when
/// their value is a non-negative JSON integer.
enum DeliveryHeaderKey {
    /// `x-clever-seq`: ``FrameHeader/deliverySequence``.
    case sequence
    /// `x-clever-acked`: ``FrameHeader/deliveryAcknowledgement``.
    case acknowledged

    /// The key's text.
    var name: String {
        switch self {
        case .sequence: return ExtensionHeader.sequence
        case .acknowledged: return ExtensionHeader.acknowledged
        }
    }

    /// The key named `name`, if it is one.
    init?(name: String) {
        switch name {
        case ExtensionHeader.sequence: self = .sequence
        case ExtensionHeader.acknowledged: self = .acknowledged
        default: return nil
        }
    }

    /// The key whose UTF-8 bytes are `bytes`, without allocating.
    static func match(_ bytes: UnsafeRawBufferPointer) -> DeliveryHeaderKey? {
        switch bytes.count {
        case 12: return bytes.equals("x-clever-seq") ? .sequence : nil
        case 14: return bytes.equals("x-clever-acked") ? .acknowledged : nil
        default: return nil
        }
    }
}

extension FrameHeader {
    /// Stores the last value of a delivery key read from a header: typed when
    /// it is a non-negative JSON integer, else kept in ``extra`` as any other
    /// key (a repeated key counts by its last value alone, as in Python).
    mutating func setDelivery(_ key: DeliveryHeaderKey, _ value: JSONValue) {
        let number: UInt64?
        if case .integer(let integer) = value, integer >= 0 { number = UInt64(integer) } else { number = nil }
        switch key {
        case .sequence: deliverySequence = number
        case .acknowledged: deliveryAcknowledgement = number
        }
        if number == nil {
            extra.updateValue(value, forKey: key.name)
        } else if !extra.isEmpty {
            extra.removeValue(forKey: key.name)
        }
    }

    /// Whether `key`, among ``extra``, is one whose typed field is set (and is
    /// written from that field instead).
    func typesDeliveryKey(_ key: String) -> Bool {
        guard deliverySequence != nil || deliveryAcknowledgement != nil else { return false }
        switch DeliveryHeaderKey(name: key) {
        case .sequence?: return deliverySequence != nil
        case .acknowledged?: return deliveryAcknowledgement != nil
        case nil: return false
        }
    }
}
