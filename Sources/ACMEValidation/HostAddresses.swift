import ACME
import Codecs
import NIOCore

extension DNSResolver {
    /// The addresses to connect to for an identifier: an IP identifier's own, a name's A then AAAA
    /// records (CNAMEs followed). A name without any is a `dns` problem.
    func addresses(of identifier: ACMEIdentifier, port: Int) async throws(ACMEProblem) -> [SocketAddress] {
        if identifier.kind == .ip {
            guard let address = try? SocketAddress(ipAddress: identifier.value, port: port) else {
                throw ACMEProblem(.malformed, "\(identifier.value) is not an address")
            }
            return [address]
        }
        return try await addresses(ofHost: identifier.authorizationValue, port: port)
    }

    func addresses(ofHost host: String, port: Int) async throws(ACMEProblem) -> [SocketAddress] {
        if let bytes = ACMEIdentifier.addressBytes(host),
            let address = try? SocketAddress(
                ipAddress: ACMEIdentifier.addressText(bytes),
                port: port
            )
        {
            return [address]
        }
        var addresses: [SocketAddress] = []
        var failures: [String] = []
        for type in [DNSMessage.RecordType.a, .aaaa] {
            do {
                let response = try await lookup(host, type)
                if response.responseCode == 3 {
                    throw ACMEProblem(.dns, "\(host) does not exist (NXDOMAIN)")
                }
                for record in response.records(type, for: host) where record.data.count == (type == .a ? 4 : 16) {
                    if let address = try? SocketAddress(ipAddress: ACMEIdentifier.addressText(record.data), port: port)
                    {
                        addresses.append(address)
                    }
                }
            } catch let problem as ACMEProblem {
                throw problem
            } catch {
                failures.append("\(type): \(error)")
            }
        }
        guard !addresses.isEmpty else {
            throw ACMEProblem(
                .dns,
                "no A or AAAA record for \(host)"
                    + (failures.isEmpty ? "" : " (" + failures.joined(separator: "; ") + ")")
            )
        }
        return addresses
    }
}
