import Codecs
public import X509

/// A certificate list in PEM, as uploaded chains and TLS files carry it: every block must be a
/// `CERTIFICATE` that parses. Read with `Codecs.PEM`, so a block cut off before its END line is an
/// error rather than a shorter list.
public enum PEMCertificates {
    /// Why a text is not a PEM certificate list; `description` says which block and what.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The certificates in `text`, in order; an empty list when it holds no block.
    public static func parse(_ text: String) throws(Failure) -> [Certificate] {
        let blocks: [PEM.Block]
        do { blocks = try PEM.blocks(text) } catch { throw Failure(description: error.description) }
        var certificates: [Certificate] = []
        for (index, block) in blocks.enumerated() {
            guard block.label == "CERTIFICATE" else {
                throw Failure(description: "block \(index + 1) is a PEM \(block.label), not a CERTIFICATE")
            }
            do { certificates.append(try Certificate(derEncoded: block.der)) } catch {
                throw Failure(description: "block \(index + 1) does not parse as a certificate: \(error)")
            }
        }
        return certificates
    }
}
