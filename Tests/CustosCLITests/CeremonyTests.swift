// Over 400 lines: every ceremony type end to end through the CLI, with openssl and pkilint checks of each output.
import Ceremony
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Key ceremonies with `custos ceremony` against a fresh SoftHSM2 token: PIN shares, strict ceremony
/// files, root, intermediate, cross-certificate, OCSP-signer, CRL, key and CSR ceremonies whose outputs openssl and pkilint accept, refusals (existing
/// outputs, existing labels, too few or bad shares) and a tampered transcript.
@Suite struct CeremonyTests {
    @Test func pinSharesReconstructWithTheThresholdOnly() throws {
        let pin = Array("4711-ceremony".utf8)
        var generator = SystemRandomNumberGenerator()
        let random = { (count: Int) in (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) } }
        let shares = try PINSharing.split(pin, threshold: 3, count: 5, random: random)
        #expect(Set(shares.map(\.x)) == [1, 2, 3, 4, 5])
        // Every 3 of the 5 give the PIN back, through the text form.
        for a in 0..<5 {
            for b in (a + 1)..<5 {
                for c in (b + 1)..<5 {
                    let parsed = try [a, b, c].map { try PINShare(text: shares[$0].description) }
                    #expect(try PINSharing.combine(parsed) == pin)
                }
            }
        }
        #expect(throws: CeremonyError.self) { try PINSharing.combine(Array(shares.prefix(2))) }
        #expect(throws: CeremonyError.self) { try PINSharing.combine([shares[0], shares[0], shares[1]]) }
        // A typo fails the checksum; a share of another splitting is refused.
        var typo = Array(shares[1].description)
        typo[typo.count - 12] = typo[typo.count - 12] == "a" ? "b" : "a"
        #expect(throws: CeremonyError.self) { try PINShare(text: String(typo)) }
        let other = try PINSharing.split(pin, threshold: 3, count: 5, random: random)
        #expect(throws: CeremonyError.self) { try PINSharing.combine([shares[0], shares[1], other[2]]) }
        // Resharing keeps the PIN: new 2-of-3 shares from 3 old ones.
        let reshared = try PINSharing.split(
            try PINSharing.combine(Array(shares.suffix(3))),
            threshold: 2,
            count: 3,
            random: random
        )
        #expect(try PINSharing.combine([reshared[2], reshared[0]]) == pin)
    }

    @Test func everyCeremonyTypeProducesCheckedOutputsAndSignedTranscripts() async throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "cer")
        let directory = try makeTemporaryDirectory("ceremony")
        try Data((token.userPIN + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/pin"))
        let split = try custos(
            [
                "ceremony", "split-pin", "--threshold", "2", "--shares", "3", "--pin-file", "\(directory)/pin",
                "--out-dir",
                "\(directory)/shares",
            ]
        )
        #expect(split.status == 0, "\(split)")
        let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/shares/share-2.txt")[
            .posixPermissions
        ]
        #expect(mode as? Int == 0o600)

        func ceremonyFile(_ name: String, _ body: String) throws -> String {
            let path = "\(directory)/\(name).yaml"
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let root = try ceremonyFile(
            "root",
            """
            type: root
            officers: [Alice Martin, Bob Chen]
            hsm:
              profile: softhsm2
              token: \(token.label)
              pinShares: [shares/share-1.txt, shares/share-3.txt]
            key:
              algorithm: ec-p384
              label: acme-root-2026
            certificate:
              subject: CN=Acme Root CA 2026,O=Acme,C=DE
              validityDays: 7300
              pathLength: 1
            outputs:
              publicKey: root.pub.pem
              certificate: root.pem
              transcript: root.transcript.json
            """
        )
        let check = try custos(["ceremony", "check", root])
        #expect(check.status == 0 && check.stdout.contains("self-sign a root certificate"), "\(check)")
        let run = try custos(["ceremony", "run", root])
        #expect(run.status == 0 && run.stdout.contains("ceremony complete"), "\(run)")

        // openssl accepts the root; pkilint finds nothing; the public key file is the certificate's key.
        let verify = try runCommand("openssl", ["verify", "-CAfile", "\(directory)/root.pem", "\(directory)/root.pem"])
        #expect(verify.status == 0 && verify.stdout.contains("OK"), "\(verify)")
        let lint = try runCommand("lint_pkix_cert", ["lint", "-s", "WARNING", "-f", "CSV", "\(directory)/root.pem"])
        #expect(lint.stdout.split(separator: "\n").dropFirst().isEmpty, "\(lint.stdout) \(lint.stderr)")
        let certificateKey = try runCommand("openssl", ["x509", "-in", "\(directory)/root.pem", "-noout", "-pubkey"])
        #expect(certificateKey.stdout == (try String(contentsOfFile: "\(directory)/root.pub.pem", encoding: .utf8)))
        let text = try runCommand("openssl", ["x509", "-in", "\(directory)/root.pem", "-noout", "-text"]).stdout
        #expect(text.contains("CA:TRUE, pathlen:1") && text.contains("NIST CURVE: P-384"), "\(text)")

        // The transcript verifies; changed, it does not.
        let transcriptPath = "\(directory)/root.transcript.json"
        let verified = try custos(["ceremony", "verify-transcript", transcriptPath])
        #expect(verified.status == 0 && verified.stdout.contains("verifies"), "\(verified)")
        let transcript = try String(contentsOfFile: transcriptPath, encoding: .utf8)
        #expect(transcript.contains("Alice Martin") && transcript.contains(token.label), "\(transcript)")
        let tampered = "\(directory)/tampered.json"
        try transcript.replacingOccurrences(of: "Bob Chen", with: "Eve").write(
            toFile: tampered,
            atomically: true,
            encoding: .utf8
        )
        let refused = try custos(["ceremony", "verify-transcript", tampered])
        #expect(refused.status != 0 && refused.stderr.contains("does not verify"), "\(refused)")
        let wrongKey = try custos([
            "ceremony", "verify-transcript", transcriptPath, "--audit-key", String(repeating: "0", count: 64),
        ])
        #expect(wrongKey.status != 0 && wrongKey.stderr.contains("not the expected"), "\(wrongKey)")

        // Running it again refuses to overwrite; with new outputs, the existing label refuses.
        let again = try custos(["ceremony", "run", root])
        #expect(again.status != 0 && again.stderr.contains("never overwrites"), "\(again)")
        let relabelled = try ceremonyFile(
            "root-again",
            try String(contentsOfFile: root, encoding: .utf8).replacingOccurrences(of: "root.", with: "root2.")
        )
        let sameLabel = try custos(["ceremony", "run", relabelled])
        #expect(sameLabel.status != 0 && sameLabel.stderr.contains("acme-root-2026 exists"), "\(sameLabel)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/root2.pem"))

        // An intermediate: the root's key on the token signs a sub-CA certificate for a CSR.
        let csr = try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/issuing.key", "-subj", "/CN=ignored", "-out", "\(directory)/issuing.csr",
            ]
        )
        #expect(csr.status == 0, "\(csr)")
        func intermediate(_ name: String, csr: String, days: Int = 1825, policy: String = "2.23.140.1.2.1") throws
            -> String
        {
            try ceremonyFile(
                name,
                """
                type: intermediate
                officers: [Alice Martin, Bob Chen]
                hsm:
                  profile: softhsm2
                  token: \(token.label)
                  pinShares: [shares/share-1.txt, shares/share-2.txt]
                issuer:
                  label: acme-root-2026
                  certificate: root.pem
                subjectKey:
                  csr: \(csr)
                certificate:
                  subject: CN=Acme Issuing CA 1,O=Acme,C=DE
                  validityDays: \(days)
                  pathLength: 0
                  crlURL: http://crl.acme.example/root.crl
                  issuersURL: http://ca.acme.example/root.crt
                  policies: [\(policy)]
                  extendedKeyUsages: [serverAuth, clientAuth]
                outputs:
                  certificate: \(name).pem
                  transcript: \(name).transcript.json
                """
            )
        }
        let issuing = try intermediate("issuing", csr: "issuing.csr")
        let issued = try custos(["ceremony", "run", issuing])
        #expect(issued.status == 0 && issued.stdout.contains("intermediate certificate written"), "\(issued)")
        let chain = try runCommand(
            "openssl",
            ["verify", "-CAfile", "\(directory)/root.pem", "\(directory)/issuing.pem"]
        )
        #expect(chain.status == 0 && chain.stdout.contains("OK"), "\(chain)")
        let subLint = try runCommand(
            "lint_pkix_cert",
            ["lint", "-s", "WARNING", "-f", "CSV", "\(directory)/issuing.pem"]
        )
        #expect(subLint.stdout.split(separator: "\n").dropFirst().isEmpty, "\(subLint.stdout) \(subLint.stderr)")
        let subText = try runCommand("openssl", ["x509", "-in", "\(directory)/issuing.pem", "-noout", "-text"]).stdout
        #expect(subText.contains("CA:TRUE, pathlen:0") && subText.contains("crl.acme.example"), "\(subText)")
        #expect(
            subText.contains("Policy: 2.23.140.1.2.1") && subText.contains("TLS Web Server Authentication"),
            "\(subText)"
        )
        let badPolicy = try custos([
            "ceremony", "check", try intermediate("bad-policy", csr: "issuing.csr", policy: "x.1"),
        ])
        #expect(badPolicy.status != 0 && badPolicy.stderr.contains("certificate.policies"), "\(badPolicy)")
        #expect(try custos(["ceremony", "verify-transcript", "\(directory)/issuing.transcript.json"]).status == 0)
        // Over the sub-CA cap, and a CSR whose signature was changed: check refuses, naming why.
        let tooLong = try custos(["ceremony", "check", try intermediate("too-long", csr: "issuing.csr", days: 4000)])
        #expect(tooLong.status != 0 && tooLong.stderr.contains("certificate.validityDays"), "\(tooLong)")
        let pem = try String(contentsOfFile: "\(directory)/issuing.csr", encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var der = Array(try #require(Data(base64Encoded: body)))
        der[der.count - 3] ^= 0x01
        try
            ("-----BEGIN CERTIFICATE REQUEST-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END CERTIFICATE REQUEST-----\n").write(
                toFile: "\(directory)/bad.csr",
                atomically: true,
                encoding: .utf8
            )
        let badCSR = try custos(["ceremony", "check", try intermediate("bad-csr", csr: "bad.csr")])
        #expect(badCSR.status != 0 && badCSR.stderr.contains("subjectKey.csr"), "\(badCSR)")

        // A delegated OCSP signer for the root, and a cross-certificate for another PKI's root.
        for arguments in [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(directory)/ocsp.key"],
            ["pkey", "-in", "\(directory)/ocsp.key", "-pubout", "-out", "\(directory)/ocsp.pub.pem"],
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/partner.key", "-subj", "/CN=Partner Root/O=Partner", "-days", "3650", "-out",
                "\(directory)/partner.pem", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ] {
            let made = try runCommand("openssl", arguments)
            #expect(made.status == 0, "\(made)")
        }
        func signedByRoot(_ name: String, type: String, subjectKey: String, certificate: String) throws -> String {
            try ceremonyFile(
                name,
                """
                type: \(type)
                officers: [Alice Martin, Bob Chen]
                hsm:
                  profile: softhsm2
                  token: \(token.label)
                  pinShares: [shares/share-1.txt, shares/share-2.txt]
                issuer:
                  label: acme-root-2026
                  certificate: root.pem
                subjectKey:
                  \(subjectKey)
                certificate:
                \(certificate)
                outputs:
                  certificate: \(name).pem
                  transcript: \(name).transcript.json
                """
            )
        }
        let signerFile = try signedByRoot(
            "ocsp-signer",
            type: "ocsp-signer",
            subjectKey: "publicKey: ocsp.pub.pem",
            certificate: "  subject: CN=Acme Root OCSP Responder,O=Acme\n  validityDays: 30"
        )
        let signer = try custos(["ceremony", "run", signerFile])
        #expect(signer.status == 0, "\(signer)")
        let signerVerify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "\(directory)/root.pem", "\(directory)/ocsp-signer.pem"]
        )
        #expect(signerVerify.status == 0, "\(signerVerify)")
        let signerText = try runCommand("openssl", ["x509", "-in", "\(directory)/ocsp-signer.pem", "-noout", "-text"])
        #expect(
            signerText.stdout.contains("OCSP Signing") && signerText.stdout.contains("OCSP No Check"),
            "\(signerText)"
        )
        let signerLint = try runCommand(
            "lint_pkix_cert",
            ["lint", "-s", "WARNING", "-f", "CSV", "\(directory)/ocsp-signer.pem"]
        )
        #expect(signerLint.stdout.split(separator: "\n").dropFirst().isEmpty, "\(signerLint.stdout)")
        let longSigner = try signedByRoot(
            "long-signer",
            type: "ocsp-signer",
            subjectKey: "publicKey: ocsp.pub.pem",
            certificate: "  subject: CN=Too Long,O=Acme\n  validityDays: 91"
        )
        let refusedSigner = try custos(["ceremony", "check", longSigner])
        #expect(refusedSigner.status != 0 && refusedSigner.stderr.contains("cap of 90 days"), "\(refusedSigner)")

        let crossFile = try signedByRoot(
            "cross",
            type: "cross-certificate",
            subjectKey: "certificate: partner.pem",
            certificate: "  validityDays: 1000\n  pathLength: 0"
        )
        let cross = try custos(["ceremony", "run", crossFile])
        #expect(cross.status == 0, "\(cross)")
        let crossVerify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "\(directory)/root.pem", "\(directory)/cross.pem"]
        )
        #expect(crossVerify.status == 0, "\(crossVerify)")
        let crossSubject = try runCommand(
            "openssl",
            ["x509", "-in", "\(directory)/cross.pem", "-noout", "-subject", "-issuer"]
        )
        #expect(
            crossSubject.stdout.contains("CN = Partner Root") && crossSubject.stdout.contains("CN = Acme Root CA 2026"),
            "\(crossSubject)"
        )
        // A chain through the cross-certificate: the partner's root key signs, Acme's root anchors.
        let partnerChild = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/child.key", "-subj", "/CN=child", "-days", "30", "-CA", "\(directory)/partner.pem",
                "-CAkey", "\(directory)/partner.key", "-out", "\(directory)/child.pem",
            ]
        )
        #expect(partnerChild.status == 0, "\(partnerChild)")
        let throughCross = try runCommand(
            "openssl",
            [
                "verify", "-CAfile", "\(directory)/root.pem", "-untrusted", "\(directory)/cross.pem",
                "\(directory)/child.pem",
            ]
        )
        #expect(throughCross.status == 0, "\(throughCross)")

        // A crl ceremony: the root revokes the intermediate (keyCompromise); openssl sees it revoked.
        let crlFile = try ceremonyFile(
            "root-crl",
            """
            type: crl
            officers: [Alice Martin, Bob Chen]
            hsm:
              profile: softhsm2
              token: \(token.label)
              pinShares: [shares/share-3.txt, shares/share-1.txt]
            issuer:
              label: acme-root-2026
              certificate: root.pem
            crl:
              number: 1
              nextUpdateDays: 365
              revoked:
                - certificate: issuing.pem
                  reason: keyCompromise
            outputs:
              crl: root-1.crl
              transcript: root-crl.transcript.json
            """
        )
        let crlRun = try custos(["ceremony", "run", crlFile])
        #expect(crlRun.status == 0 && crlRun.stdout.contains("CRL 1 written"), "\(crlRun)")
        let crlVerify = try runCommand(
            "openssl",
            [
                "crl", "-inform", "DER", "-in", "\(directory)/root-1.crl", "-CAfile", "\(directory)/root.pem", "-noout",
                "-verify", "-text",
            ]
        )
        #expect((crlVerify.stdout + crlVerify.stderr).contains("verify OK"), "\(crlVerify)")
        #expect(
            crlVerify.stdout.contains("Key Compromise") && crlVerify.stdout.contains("X509v3 CRL Number"),
            "\(crlVerify)"
        )
        let crlPEM = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", "\(directory)/root-1.crl", "-out", "\(directory)/root-1.crl.pem"]
        )
        #expect(crlPEM.status == 0)
        let revokedCheck = try runCommand(
            "openssl",
            [
                "verify", "-crl_check", "-CAfile", "\(directory)/root.pem", "-CRLfile", "\(directory)/root-1.crl.pem",
                "\(directory)/issuing.pem",
            ]
        )
        #expect(
            revokedCheck.status != 0 && (revokedCheck.stdout + revokedCheck.stderr).contains("revoked"),
            "\(revokedCheck)"
        )
        let crlLint = try runCommand(
            "lint_crl",
            ["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", "-f", "CSV", "\(directory)/root-1.crl"]
        )
        #expect(crlLint.status == 0 && crlLint.stdout.split(separator: "\n").dropFirst().isEmpty, "\(crlLint.stdout)")
        // An entry not issued by the issuer is refused by check, naming it.
        let foreign = try ceremonyFile(
            "foreign-crl",
            try String(contentsOfFile: crlFile, encoding: .utf8)
                .replacingOccurrences(of: "certificate: issuing.pem", with: "certificate: partner.pem")
                .replacingOccurrences(of: "root-1.crl", with: "root-2.crl")
                .replacingOccurrences(of: "root-crl.transcript", with: "root-crl-2.transcript")
        )
        let foreignCheck = try custos(["ceremony", "check", foreign])
        #expect(
            foreignCheck.status != 0 && foreignCheck.stderr.contains("crl.revoked[0].certificate"),
            "\(foreignCheck)"
        )

        // A key ceremony: public key out, nothing else.
        let key = try ceremonyFile(
            "key",
            """
            type: key
            officers: [Carol Diaz]
            hsm:
              profile: softhsm2
              token: \(token.label)
              pinShares: [shares/share-2.txt, shares/share-3.txt]
            key:
              algorithm: rsa-3072
              label: acme-issuing-2026
              id: 0a1b2c3d
            outputs:
              publicKey: issuing-key.pub.pem
              transcript: issuing-key.transcript.json
            """
        )
        let keyRun = try custos(["ceremony", "run", key])
        #expect(keyRun.status == 0, "\(keyRun)")
        let modulus = try runCommand(
            "openssl",
            ["pkey", "-pubin", "-in", "\(directory)/issuing-key.pub.pem", "-noout", "-text"]
        )
        #expect(modulus.stdout.contains("3072 bit"), "\(modulus)")
        #expect(try custos(["ceremony", "verify-transcript", "\(directory)/issuing-key.transcript.json"]).status == 0)

        // A csr ceremony: a new key and a CSR, signed in the HSM, for an external parent.
        let request = try ceremonyFile(
            "external",
            """
            type: csr
            officers: [Carol Diaz]
            hsm:
              profile: softhsm2
              token: \(token.label)
              pinShares: [shares/share-2.txt, shares/share-3.txt]
            key:
              algorithm: ec-p256
              label: acme-external-sub
            request:
              subject: CN=Acme Sub CA under Partner Root,O=Acme
              pathLength: 0
            outputs:
              csr: external.csr
              transcript: external.transcript.json
            """
        )
        let requested = try custos(["ceremony", "run", request])
        #expect(requested.status == 0 && requested.stdout.contains("CSR written"), "\(requested)")
        let csrCheck = try runCommand(
            "openssl",
            ["req", "-in", "\(directory)/external.csr", "-verify", "-noout", "-subject"]
        )
        #expect(csrCheck.status == 0 && (csrCheck.stdout + csrCheck.stderr).contains("verify OK"), "\(csrCheck)")
        #expect(csrCheck.stdout.contains("Acme Sub CA under Partner Root"), "\(csrCheck)")
    }

    @Test func badSharesFailBeforeLoginAndBadFilesFailCheckNamingTheField() async throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "cer")
        let directory = try makeTemporaryDirectory("ceremony-bad")
        try Data(token.userPIN.utf8).write(to: URL(fileURLWithPath: "\(directory)/pin"))
        for set in ["a", "b"] {
            let split = try custos(
                [
                    "ceremony", "split-pin", "--threshold", "2", "--shares", "2", "--pin-file", "\(directory)/pin",
                    "--out-dir", "\(directory)/\(set)",
                ]
            )
            #expect(split.status == 0, "\(split)")
        }
        let share = try String(contentsOfFile: "\(directory)/a/share-2.txt", encoding: .utf8)
        try share.replacingOccurrences(of: ".2.", with: ".3.").write(
            toFile: "\(directory)/a/typo.txt",
            atomically: true,
            encoding: .utf8
        )
        func keyCeremony(_ shares: String, label: String = "k1", extra: String = "", algorithm: String = "ec-p256")
            -> String
        {
            """
            type: key
            officers: [Dana]
            hsm:
              profile: softhsm2
              token: \(token.label)
              pinShares: [\(shares)]
            key:
              algorithm: \(algorithm)
              label: \(label)
            outputs:
              publicKey: \(label).pub.pem
              transcript: \(label).json
            \(extra)
            """
        }
        let cases: [(String, String)] = [
            (keyCeremony("a/share-1.txt, a/typo.txt"), "fails its checksum"),
            (keyCeremony("a/share-1.txt, b/share-2.txt"), "different splittings"),
            (keyCeremony("a/share-1.txt, a/share-1.txt"), "needs 2"),
        ]
        for (index, (body, message)) in cases.enumerated() {
            let path = "\(directory)/shares-\(index).yaml"
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try custos(["ceremony", "run", path])
            #expect(result.status != 0 && result.stderr.contains(message), "\(message): \(result)")
            // Refused before any HSM call: no login line, no key, no output.
            #expect(!result.stdout.contains("logged in"), "\(result.stdout)")
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/k1.pub.pem"))
        }

        let invalid: [(String, String)] = [
            (keyCeremony("a/share-1.txt, a/share-2.txt", extra: "colour: red"), "unknown key \"colour\""),
            (keyCeremony("a/share-1.txt, a/share-2.txt", algorithm: "rsa-2048"), "key.algorithm"),
            (keyCeremony("a/share-1.txt"), "hsm.pinShares"),
            (
                keyCeremony("a/share-1.txt, a/share-2.txt").replacingOccurrences(of: "  label: k1\n", with: ""),
                "key.label: required key is missing"
            ),
            (
                keyCeremony("a/share-1.txt, a/share-2.txt").replacingOccurrences(of: "type: key", with: "type: root")
                    + "certificate:\n  subject: CN=Too Long\n  validityDays: 10000\n",
                "certificate.validityDays"
            ),
            (
                keyCeremony("a/share-1.txt, a/share-2.txt").replacingOccurrences(of: "type: key", with: "type: crl"),
                "a crl ceremony has none"
            ),
            (
                keyCeremony("a/share-1.txt, a/share-2.txt").replacingOccurrences(of: "softhsm2", with: "softhsm9"),
                "hsm.profile: invalid profile: no profile \"softhsm9\""
            ),
        ]
        for (index, (body, message)) in invalid.enumerated() {
            let path = "\(directory)/invalid-\(index).yaml"
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try custos(["ceremony", "check", path])
            #expect(result.status != 0 && result.stderr.contains(message), "\(message): \(result)")
        }
        // With good shares the same file runs, and its steps go into a Custos audit log.
        let good = "\(directory)/good.yaml"
        try keyCeremony("b/share-2.txt, b/share-1.txt").write(toFile: good, atomically: true, encoding: .utf8)
        let (_, created) = try await CustosStore.open(dataDirectory: "\(directory)/data")
        created.shutdown()
        // Run from the ceremony's folder with no profiles directory: the profile is the built-in one.
        let checked = try custos(
            ["ceremony", "check", good],
            environment: ["CUSTOS_PROFILES_DIR": ""],
            directory: directory
        )
        #expect(
            checked.status == 0 && checked.stdout.contains("HSM profile softhsm2: OpenDNSSEC SoftHSM 2"),
            "\(checked)"
        )
        let result = try custos(
            ["ceremony", "run", "good.yaml", "--audit-data-dir", "\(directory)/data"],
            environment: ["CUSTOS_PROFILES_DIR": ""],
            directory: directory
        )
        #expect(result.status == 0 && result.stdout.contains("logged in"), "\(result)")
        let (schema, writer) = try await CustosStore.open(dataDirectory: "\(directory)/data")
        defer { writer.shutdown() }
        let entries = try await LMDBBackend(schema: schema, writer: writer).read {
            try $0.records(AuditEntry.self, after: nil, limit: .max)
        }
        let actions = entries.map(\.event.action)
        #expect(actions.contains("ceremony.generate") && actions.last == "ceremony.complete", "\(actions)")
        #expect(entries.allSatisfy { $0.event.actor == "ceremony" }, "\(entries)")
    }

    @Test func aCeremonyRootGoesIntoServiceByReference() async throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "cer")
        let directory = try makeTemporaryDirectory("ceremony-import")
        try Data((token.userPIN + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/pin"))
        let file = "\(directory)/root.yaml"
        try """
        type: root
        officers: [Alice Martin]
        hsm:
          profile: softhsm2
          token: \(token.label)
          pinFile: pin
        key:
          algorithm: ec-p256
          label: offline-root
        certificate:
          subject: CN=Offline Root,O=Acme
          validityDays: 3650
          pathLength: 1
        outputs:
          certificate: root.pem
          transcript: root.transcript.json
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let ran = try custos(["ceremony", "run", file])
        #expect(ran.status == 0 && ran.stdout.contains("use shares for a production ceremony"), "\(ran)")

        let server = try ServeProcess(
            [
                "--port", "0", "--token", token.label, "--pin-file", "\(directory)/pin", "--data-dir",
                "\(directory)/data",
            ],
            directory: directory
        )
        #expect(try await server.waitFor("press Ctrl-C to stop"), "\(server.text)")
        let port = try #require(server.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let api = ["--url", "http://127.0.0.1:\(port)", "--token-file", "\(directory)/data/admin.token"]
        // A changed transcript is refused; the genuine one puts the root into service.
        let transcript = try String(contentsOfFile: "\(directory)/root.transcript.json", encoding: .utf8)
        try transcript.replacingOccurrences(of: "Alice Martin", with: "Mallory").write(
            toFile: "\(directory)/forged.json",
            atomically: true,
            encoding: .utf8
        )
        let forged = try custos(
            [
                "ca", "import-ceremony", "--id", "offline", "--transcript", "\(directory)/forged.json", "--certificate",
                "\(directory)/root.pem",
            ] + api
        )
        #expect(forged.status != 0 && forged.stderr.contains("invalid_transcript"), "\(forged)")
        let imported = try custos(
            [
                "ca", "import-ceremony", "--id", "offline", "--transcript", "\(directory)/root.transcript.json",
                "--certificate", "\(directory)/root.pem",
            ] + api
        )
        #expect(imported.status == 0 && imported.stdout.contains("in service"), "\(imported)")
        // The adopted root issues: a device certificate signed by the ceremony's key, by reference.
        let csr = try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/device.key", "-subj", "/CN=device-1", "-out", "\(directory)/device.csr",
            ]
        )
        #expect(csr.status == 0)
        let issued = try custos(
            [
                "cert", "issue", "--ca", "offline", "--csr", "\(directory)/device.csr", "--category", "device", "--out",
                "\(directory)/device.pem",
            ] + api
        )
        #expect(issued.status == 0, "\(issued)")
        let verified = try runCommand(
            "openssl",
            ["verify", "-CAfile", "\(directory)/root.pem", "\(directory)/device.pem"]
        )
        #expect(verified.status == 0, "\(verified)")
        #expect(try await server.stop(SIGTERM) == 0)
    }
}
