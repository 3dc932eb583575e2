/// A CMS structure that could not be read or made: what is wrong, in words a client's operator can act on.
public struct CMSError: Error, Sendable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}
