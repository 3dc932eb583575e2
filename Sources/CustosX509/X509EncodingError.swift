/// A value that this module cannot encode (a signature algorithm it has no identifier for): a bug or an
/// unsupported key, never the requester's input.
public struct X509EncodingError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
