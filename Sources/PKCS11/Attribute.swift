internal import CPKCS11
import Glibc

/// An attribute type (`CK_ATTRIBUTE_TYPE`).
public struct AttributeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let objectClass = AttributeType(rawValue: 0x0000)
    public static let token = AttributeType(rawValue: 0x0001)
    public static let `private` = AttributeType(rawValue: 0x0002)
    public static let label = AttributeType(rawValue: 0x0003)
    public static let value = AttributeType(rawValue: 0x0011)
    public static let keyType = AttributeType(rawValue: 0x0100)
    public static let id = AttributeType(rawValue: 0x0102)
    public static let sensitive = AttributeType(rawValue: 0x0103)
    public static let encrypt = AttributeType(rawValue: 0x0104)
    public static let decrypt = AttributeType(rawValue: 0x0105)
    public static let wrap = AttributeType(rawValue: 0x0106)
    public static let unwrap = AttributeType(rawValue: 0x0107)
    public static let sign = AttributeType(rawValue: 0x0108)
    public static let signRecover = AttributeType(rawValue: 0x0109)
    public static let verify = AttributeType(rawValue: 0x010A)
    public static let verifyRecover = AttributeType(rawValue: 0x010B)
    public static let derive = AttributeType(rawValue: 0x010C)
    public static let modulus = AttributeType(rawValue: 0x0120)
    public static let modulusBits = AttributeType(rawValue: 0x0121)
    public static let publicExponent = AttributeType(rawValue: 0x0122)
    public static let privateExponent = AttributeType(rawValue: 0x0123)
    public static let prime1 = AttributeType(rawValue: 0x0124)
    public static let prime2 = AttributeType(rawValue: 0x0125)
    public static let exponent1 = AttributeType(rawValue: 0x0126)
    public static let exponent2 = AttributeType(rawValue: 0x0127)
    public static let coefficient = AttributeType(rawValue: 0x0128)
    public static let valueLength = AttributeType(rawValue: 0x0161)
    public static let extractable = AttributeType(rawValue: 0x0162)
    public static let local = AttributeType(rawValue: 0x0163)
    public static let neverExtractable = AttributeType(rawValue: 0x0164)
    public static let alwaysSensitive = AttributeType(rawValue: 0x0165)
    public static let modifiable = AttributeType(rawValue: 0x0170)
    public static let ecParams = AttributeType(rawValue: 0x0180)
    public static let ecPoint = AttributeType(rawValue: 0x0181)
    public static let wrapWithTrusted = AttributeType(rawValue: 0x0210)

    public var description: String { "attribute 0x" + String(rawValue, radix: 16) }
}

/// An object class (`CK_OBJECT_CLASS`).
public struct ObjectClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let data = ObjectClass(rawValue: 0)
    public static let certificate = ObjectClass(rawValue: 1)
    public static let publicKey = ObjectClass(rawValue: 2)
    public static let privateKey = ObjectClass(rawValue: 3)
    public static let secretKey = ObjectClass(rawValue: 4)
}

/// A key type (`CK_KEY_TYPE`).
public struct KeyType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let rsa = KeyType(rawValue: 0x00)
    public static let ec = KeyType(rawValue: 0x03)
    public static let genericSecret = KeyType(rawValue: 0x10)
    public static let des3 = KeyType(rawValue: 0x15)
    public static let aes = KeyType(rawValue: 0x1F)
    public static let ecEdwards = KeyType(rawValue: 0x40)
}

/// One attribute with its value encoded exactly as the C API expects: `CK_BBOOL` is one byte and
/// `CK_ULONG` is `MemoryLayout<CK_ULONG>.size` bytes in host order (a wrong size silently matches
/// nothing or fails).
public struct Attribute: Sendable, Hashable {
    public var type: AttributeType
    public var value: [UInt8]

    public init(_ type: AttributeType, bytes: [UInt8]) {
        self.type = type
        self.value = bytes
    }

    public static func bool(_ type: AttributeType, _ value: Bool) -> Attribute {
        Attribute(type, bytes: [value ? 1 : 0])
    }

    public static func ulong(_ type: AttributeType, _ value: UInt) -> Attribute {
        Attribute(type, bytes: withUnsafeBytes(of: CK_ULONG(value)) { Array($0) })
    }

    public static func bytes(_ type: AttributeType, _ value: [UInt8]) -> Attribute { Attribute(type, bytes: value) }

    public static func string(_ type: AttributeType, _ value: String) -> Attribute {
        Attribute(type, bytes: Array(value.utf8))
    }

    public static func objectClass(_ value: ObjectClass) -> Attribute { .ulong(.objectClass, value.rawValue) }
    public static func keyType(_ value: KeyType) -> Attribute { .ulong(.keyType, value.rawValue) }
    public static func label(_ value: String) -> Attribute { .string(.label, value) }
    public static func id(_ value: [UInt8]) -> Attribute { .bytes(.id, value) }
}

extension Attribute {
    /// Decodes a `CK_BBOOL` value.
    public static func decodeBool(_ bytes: [UInt8]) -> Bool? { bytes.count == 1 ? bytes[0] != 0 : nil }

    /// Decodes a `CK_ULONG` value.
    public static func decodeULong(_ bytes: [UInt8]) -> UInt? {
        guard bytes.count == MemoryLayout<CK_ULONG>.size else { return nil }
        return bytes.withUnsafeBytes { UInt($0.loadUnaligned(as: CK_ULONG.self)) }
    }
}

/// An ordered list of attributes that owns its value buffers.
public struct AttributeTemplate: Sendable, Hashable, ExpressibleByArrayLiteral {
    public var attributes: [Attribute]

    public init(_ attributes: [Attribute]) { self.attributes = attributes }
    public init(arrayLiteral elements: Attribute...) { self.attributes = elements }

    public mutating func append(_ attribute: Attribute) { attributes.append(attribute) }

    /// Sets `attribute`, replacing an attribute of the same type.
    public mutating func set(_ attribute: Attribute) {
        if let index = attributes.firstIndex(where: { $0.type == attribute.type }) {
            attributes[index] = attribute
        } else {
            attributes.append(attribute)
        }
    }

    /// The value of the attribute of `type`, if present.
    public subscript(type: AttributeType) -> [UInt8]? { attributes.first { $0.type == type }?.value }

    /// Overwrites every value with zeros where it is stored, for templates that carried key material
    /// or a PIN. The arrays are cleared through their shared storage, not through a mutable view:
    /// that would copy a buffer another reference still holds and clear only the copy.
    public func wipe() {
        for attribute in attributes {
            attribute.value.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                explicit_bzero(UnsafeMutableRawPointer(mutating: base), bytes.count)
            }
        }
    }

    /// Overwrites the bytes of `value` with zeros in its shared storage (every copy of the array that
    /// shares it sees zeros), for key material a caller held only for an import or an export.
    public static func wipe(_ value: [UInt8]) {
        AttributeTemplate([Attribute(.value, bytes: value)]).wipe()
    }

    /// Lays the template out as a `CK_ATTRIBUTE` array whose value pointers stay valid during `body`.
    func withUnsafeAttributes<R>(
        _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws(PKCS11Error) -> R
    ) throws(PKCS11Error) -> R {
        let total = attributes.reduce(0) { $0 + $1.value.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
        let array = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(attributes.count, 1))
        defer {
            // Templates can carry PINs or imported key material: clear before freeing.
            storage.initializeMemory(as: UInt8.self, repeating: 0)
            storage.deallocate()
            array.deallocate()
        }
        var offset = 0
        for (index, attribute) in attributes.enumerated() {
            let target = storage.baseAddress! + offset
            attribute.value.withUnsafeBytes { source in
                if let base = source.baseAddress { target.copyMemory(from: base, byteCount: source.count) }
            }
            (array + index).initialize(
                to: CK_ATTRIBUTE(
                    type: attribute.type.rawValue,
                    pValue: attribute.value.isEmpty ? nil : target,
                    ulValueLen: CK_ULONG(attribute.value.count)
                )
            )
            offset += attribute.value.count
        }
        return try body(attributes.isEmpty ? nil : array, CK_ULONG(attributes.count))
    }
}
