import APIModels
import Foundation
import Hummingbird

extension JSONBody {
    /// `decode`, refusing members the model does not have (a misspelt `recipents` is an error, not a
    /// rule that silently mails nobody). The model's example sets every field, so its encoding lists
    /// every member at every depth; `freeForm` names the paths whose members are the caller's own
    /// (metadata maps).
    static func decodeStrict<T: APIModel>(
        _ type: T.Type,
        from request: Request,
        limit: Int,
        freeForm: Set<String> = []
    ) async throws -> T {
        try requireJSON(request)
        let buffer = try await collect(request, limit: limit)
        let data = Data(buffer: buffer)
        if let sent = try? JSONSerialization.jsonObject(with: data),
            let known = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(T.example))
        {
            try unknownMembers(sent, known, path: "", freeForm: freeForm)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_json", describe(error))
        }
    }

    private static func unknownMembers(_ sent: Any, _ known: Any, path: String, freeForm: Set<String>) throws(APIError)
    {
        guard !freeForm.contains(path) else { return }
        if let sent = sent as? [String: Any], let known = known as? [String: Any] {
            for (name, value) in sent {
                let at = path.isEmpty ? name : "\(path).\(name)"
                guard let model = known[name] else {
                    throw APIError.badRequest(
                        "invalid_json",
                        "\(at): unknown field (allowed: \(known.keys.sorted().joined(separator: ", ")))"
                    )
                }
                try unknownMembers(value, model, path: at, freeForm: freeForm)
            }
        } else if let sent = sent as? [Any], let model = (known as? [Any])?.first {
            for (index, element) in sent.enumerated() {
                _ = index
                try unknownMembers(element, model, path: path, freeForm: freeForm)
            }
        }
    }
}
