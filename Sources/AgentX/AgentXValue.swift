/// An object identifier as its sub-identifiers (`1.3.6.1.4.1.32473`).
public typealias OID = [UInt32]

/// A value of a variable binding (RFC 2741 section 5.4), with the three exceptions a subagent answers
/// for objects it does not have.
public enum AgentXValue: Sendable, Hashable {
    case integer(Int32)
    case octets([UInt8])
    case null
    case objectIdentifier(OID)
    case ipAddress([UInt8])
    case counter32(UInt32)
    case gauge32(UInt32)
    case timeTicks(UInt32)
    case opaque([UInt8])
    case counter64(UInt64)
    case noSuchObject
    case noSuchInstance
    case endOfMibView

    /// Text as octets.
    public static func string(_ text: String) -> AgentXValue { .octets(Array(text.utf8)) }

    /// The type field of a VarBind.
    var tag: UInt16 {
        switch self {
        case .integer: 2
        case .octets: 4
        case .null: 5
        case .objectIdentifier: 6
        case .ipAddress: 64
        case .counter32: 65
        case .gauge32: 66
        case .timeTicks: 67
        case .opaque: 68
        case .counter64: 70
        case .noSuchObject: 128
        case .noSuchInstance: 129
        case .endOfMibView: 130
        }
    }
}

/// One variable binding.
public struct VarBind: Sendable, Hashable {
    public var name: OID
    public var value: AgentXValue

    public init(_ name: OID, _ value: AgentXValue) {
        self.name = name
        self.value = value
    }
}

extension OID {
    /// `1.3.6.1.4.1.32473.1` as dotted text.
    public var dotted: String { map(String.init).joined(separator: ".") }

    /// Parses dotted text; nil for anything else.
    public init?(dotted text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        self = parts.map { $0! }
    }

    /// Lexicographic order of sub-identifiers (the order GetNext walks).
    public static func precedes(_ lhs: OID, _ rhs: OID) -> Bool { lhs.lexicographicallyPrecedes(rhs) }
}
