/// A CMP message that cannot be answered as asked: the failure bits its error answer carries and why.
public struct CMPError: Error, Sendable, CustomStringConvertible {
    public let failInfo: PKIFailureInfo
    public let reason: String

    public init(_ failInfo: PKIFailureInfo, _ reason: String) {
        self.failInfo = failInfo
        self.reason = reason
    }

    public var description: String { "\(failInfo): \(reason)" }
}
