/// A SCEP message that cannot be answered as asked: the failInfo its CertRep carries and why. When the
/// message could not be read far enough to answer it (no transactionID, no signer), `failInfo` still
/// says what was wrong but the server can only answer over HTTP.
public struct SCEPError: Error, Sendable, CustomStringConvertible {
    public let failInfo: SCEPFailInfo
    public let reason: String

    public init(_ failInfo: SCEPFailInfo, _ reason: String) {
        self.failInfo = failInfo
        self.reason = reason
    }

    public var description: String { "\(failInfo.name): \(reason)" }
}
