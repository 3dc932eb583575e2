import Codecs
import Foundation
public import HSM
import PKCS11
import SwiftASN1

/// What a ceremony did, in order, signed in the HSM with the ceremony's audit key. The signature
/// covers the JSON encoding of `Transcript` with sorted keys (what `verify` re-creates).
public struct Transcript: Codable, Sendable, Hashable {
    public struct Step: Codable, Sendable, Hashable {
        public var time: String
        public var step: String
        public var outcome: String
    }

    public struct Token: Codable, Sendable, Hashable {
        public var label: String
        public var serial: String
        public var manufacturer: String
        public var model: String
    }

    public struct KeyRecord: Codable, Sendable, Hashable {
        public var label: String
        public var id: String
        public var algorithm: String
        public var publicKey: String
        public var spkiSHA256: String
    }

    public struct Output: Codable, Sendable, Hashable {
        public var field: String
        public var file: String
        public var sha256: String
    }

    public var format = "custos-ceremony-transcript-1"
    public var type: String
    public var configSHA256: String
    public var officers: [String]
    public var token: Token?
    public var steps: [Step] = []
    public var keys: [KeyRecord] = []
    public var outputs: [Output] = []
    public var auditKey: KeyRecord?

    /// The key the ceremony recorded whose SubjectPublicKeyInfo is `spki` (DER), as a token reference.
    public func keyReference(forSPKI spki: [UInt8]) -> (record: KeyRecord, reference: KeyReference)? {
        let fingerprint = Hex.encode(sha256(spki))
        guard let record = keys.first(where: { $0.spkiSHA256 == fingerprint }), let id = Hex.decode(record.id) else {
            return nil
        }
        return (record, KeyReference(label: record.label, id: id))
    }

    mutating func record(_ step: String, _ outcome: String) {
        steps.append(Step(time: Transcript.timestamp(Date()), step: step, outcome: outcome))
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
        )
    }

    /// The bytes the signature covers.
    func signedBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// A transcript with its signature, as written to the transcript file.
public struct SignedTranscript: Codable, Sendable {
    public var transcript: Transcript
    /// `ecdsa-with-SHA256` by the audit key (r ‖ s, base64).
    public var signatureAlgorithm: String
    public var signature: String

    /// Checks the signature with the audit key the transcript names, and, when given, that this key
    /// is the expected one (its SubjectPublicKeyInfo's SHA-256 in hex). Returns the key's fingerprint.
    public static func verify(file: String, expectedAuditKey: String? = nil) throws(CeremonyError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CeremonyError("cannot read the transcript \(file)")
        }
        return try verify(data: Array(data), expectedAuditKey: expectedAuditKey).auditKey?.spkiSHA256 ?? ""
    }

    /// Checks a transcript given as the file's bytes and returns it.
    public static func verify(data: [UInt8], expectedAuditKey: String? = nil) throws(CeremonyError) -> Transcript {
        let signed: SignedTranscript
        do { signed = try JSONDecoder().decode(SignedTranscript.self, from: Data(data)) } catch {
            throw CeremonyError("this is not a ceremony transcript: \(error)")
        }
        guard let auditKey = signed.transcript.auditKey else {
            throw CeremonyError("the transcript names no audit key")
        }
        if let expectedAuditKey, expectedAuditKey.lowercased() != auditKey.spkiSHA256 {
            throw CeremonyError(
                "the transcript is signed by audit key \(auditKey.spkiSHA256), not the expected \(expectedAuditKey)"
            )
        }
        guard signed.signatureAlgorithm == "ecdsa-with-SHA256",
            let signature = Base64.decode(signed.signature),
            let block = try? PEM.block(auditKey.publicKey), block.label == "PUBLIC KEY",
            case let der = block.der,
            Hex.encode(sha256(der)) == auditKey.spkiSHA256
        else {
            throw CeremonyError("the transcript's signature or audit key is malformed")
        }
        do {
            let key = try PublicKey(derRepresentation: der, algorithm: .ecP256)
            guard
                key.isValidSignature(
                    Array(signature),
                    scheme: .ecdsa(.sha256),
                    input: .message(try signed.transcript.signedBytes())
                )
            else {
                throw CeremonyError("the transcript's signature does not verify: it was changed after the ceremony")
            }
        } catch let error as CeremonyError {
            throw error
        } catch {
            throw CeremonyError("cannot check the transcript's signature: \(error)")
        }
        return signed.transcript
    }
}
