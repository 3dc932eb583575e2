public import SwiftASN1

/// The DER bytes of an X.509 value (a certificate, a name, a public key), for storing, hashing and
/// answering it.
public func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(value)
    return serializer.serializedBytes
}
