/// Why an access decision or a credential change was refused. The server answers `invalidInput` with
/// 400 and `forbidden` with 403; the CLI prints the message.
public struct AccessError: Error, Sendable, CustomStringConvertible {
    /// A stable code, as the API documents it.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A field of a credential request is malformed or out of range.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// The credential may not do what it asked.
        public static let forbidden = Code(rawValue: "forbidden")
    }

    public var code: Code
    /// What is wrong, for people.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
