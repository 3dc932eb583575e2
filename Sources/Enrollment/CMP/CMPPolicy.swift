/// How a profile answers CMP (RFC 9483); every field has a default, so a profile offering `cmp` needs
/// none of them.
public struct CMPPolicy: Codable, Sendable, Hashable {
    /// Grant implicit confirmation when a request asks for it (the certificate counts as accepted
    /// without a certConf). Default true.
    public var implicitConfirm: Bool
    /// A request's messageTime may differ from the server's clock by this much (seconds). Default 600.
    public var messageTimeSkewSeconds: Int
    /// The checkAfter of a pollRep while a request waits for an officer (seconds). Default 60.
    public var checkAfterSeconds: Int
    /// How long a transaction waits for its certConf before it is closed (seconds). Default 600.
    public var confirmWaitSeconds: Int

    public init(
        implicitConfirm: Bool = true,
        messageTimeSkewSeconds: Int = 600,
        checkAfterSeconds: Int = 60,
        confirmWaitSeconds: Int = 600
    ) {
        self.implicitConfirm = implicitConfirm
        self.messageTimeSkewSeconds = messageTimeSkewSeconds
        self.checkAfterSeconds = checkAfterSeconds
        self.confirmWaitSeconds = confirmWaitSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        implicitConfirm = try container.decodeIfPresent(Bool.self, forKey: .implicitConfirm) ?? true
        messageTimeSkewSeconds = try container.decodeIfPresent(Int.self, forKey: .messageTimeSkewSeconds) ?? 600
        checkAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .checkAfterSeconds) ?? 60
        confirmWaitSeconds = try container.decodeIfPresent(Int.self, forKey: .confirmWaitSeconds) ?? 600
    }

    func validate() throws(EnrollmentError) {
        guard (10...86_400).contains(messageTimeSkewSeconds) else {
            throw EnrollmentError(.invalidInput, "cmp.messageTimeSkewSeconds must be from 10 to 86400")
        }
        guard (1...86_400).contains(checkAfterSeconds) else {
            throw EnrollmentError(.invalidInput, "cmp.checkAfterSeconds must be from 1 to 86400")
        }
        guard (10...86_400).contains(confirmWaitSeconds) else {
            throw EnrollmentError(.invalidInput, "cmp.confirmWaitSeconds must be from 10 to 86400")
        }
    }
}
