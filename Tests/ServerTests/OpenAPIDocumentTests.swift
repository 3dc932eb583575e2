import APIModels
import Foundation
import MetadataStore
import Testing
import Yams

@testable import Server

/// `docs/openapi.yaml` is the contract client generators and the web console work from: it lists
/// exactly the routes the router serves, every reference in it resolves, and every route admits exactly
/// the roles the document names (and public ones need no credential).
@Suite(.serialized, .stopsServers) struct OpenAPIDocumentTests {
    static let methods = ["get", "head", "put", "post", "delete", "patch"]

    static func document() throws -> [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    /// Every operation as (METHOD, path, operation).
    static func operations(_ document: [String: Any]) throws -> [(String, String, [String: Any])] {
        let paths = try #require(document["paths"] as? [String: Any])
        return paths.flatMap { path, value -> [(String, String, [String: Any])] in
            let item = value as? [String: Any] ?? [:]
            return methods.compactMap { method in
                (item[method] as? [String: Any]).map { (method.uppercased(), path, $0) }
            }
        }
    }

    @Test func theDocumentAndTheRouterListTheSameRoutes() async throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
        let server = try await ServerFixture()
        // The router writes a rest-of-path capture as `**`; the document names it {path}. The web console's
        // pages (`/ui`) are HTML for browsers, not API operations.
        let served = Set(
            server.api.router().routes.map { "\($0.method) \($0.path)".replacingOccurrences(of: "**", with: "{path}") }
                .filter {
                    !$0.split(separator: " ")[1].hasPrefix("/ui") && !$0.split(separator: " ")[1].hasPrefix("/portal")
                }
        )
        #expect(server.api.router().routes.contains { $0.path.description == "/ui/signin" })
        let operations = try Self.operations(document)
        let documented = Set(operations.map { "\($0.0) \($0.1)" })
        #expect(
            served.subtracting(documented).isEmpty,
            "served but not documented: \(served.subtracting(documented).sorted())"
        )
        #expect(
            documented.subtracting(served).isEmpty,
            "documented but not served: \(documented.subtracting(served).sorted())"
        )
        #expect(served.count > 60)
        // operationIds are unique, every operation says who may call it and what it answers.
        let ids = operations.compactMap { $0.2["operationId"] as? String }
        #expect(ids.count == operations.count && Set(ids).count == ids.count)
        for (method, path, operation) in operations {
            #expect(!((operation["x-custos-roles"] as? [String]) ?? []).isEmpty, "\(method) \(path): no x-custos-roles")
            #expect(!((operation["responses"] as? [String: Any]) ?? [:]).isEmpty, "\(method) \(path): no responses")
        }
        // Every $ref names a component that exists.
        let components = try #require(document["components"] as? [String: Any])
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(document)
        for reference in Set(references) {
            let parts = reference.split(separator: "/").map(String.init)
            #expect(parts.count == 4 && parts[0] == "#" && parts[1] == "components", "\(reference)")
            let section = components[parts[2]] as? [String: Any]
            #expect(section?[parts[3]] != nil, "\(reference) does not resolve")
        }
        await server.stop()
    }

    @Test func everyRouteAdmitsExactlyTheRolesTheDocumentNames() async throws {
        let document = try Self.document()
        let server = try await ServerFixture()
        var tokens: [String: String] = ["admin": server.adminToken]
        tokens["officer"] = try await server.credential(.officer)
        tokens["signer"] = try await server.credential(.signer, keys: ["*"])
        tokens["auditor"] = try await server.credential(.auditor)
        tokens["vault"] = try await server.credential(.vault, keys: ["*"])
        tokens["trigger"] = try await server.credential(.trigger, keys: ["*"])
        let values = [
            "{ca}": "nosuch", "{name}": "nosuch", "{id}": "nosuch", "{namespace}": "nosuch", "{serial}": "01",
            "{category}": "device", "{file}": "nosuch.crt", "{path}": "a/b", "{profile}": "nosuch",
            "{request}": "nosuch", "{secret}": "nosuch",
        ]
        var checked = 0
        for (method, template, operation) in try Self.operations(document) {
            let path = values.reduce(template) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            let roles = operation["x-custos-roles"] as? [String] ?? []
            let body: Data? = operation["requestBody"] == nil ? nil : Data("{}".utf8)
            if roles == ["public"] {
                let result = try await server.request(method, path, token: nil, body: body)
                #expect(result.status != 401 && result.status != 403, "\(method) \(path) is public: \(result.status)")
                checked += 1
                continue
            }
            let anonymous = try await server.request(method, path, token: nil, body: body)
            #expect(anonymous.status == 401, "\(method) \(path) without a credential: \(anonymous.status)")
            for (role, token) in tokens.sorted(by: { $0.key < $1.key }) {
                let result = try await server.request(method, path, token: token, body: body)
                let label =
                    "\(method) \(path) as \(role) (document: \(roles)): \(result.status) \(result.text.prefix(160))"
                // A role the document admits gets past authorisation (to a 404 for the made-up names,
                // a 400 for the empty body, or an answer); any other is refused.
                if roles.contains(role) {
                    #expect(result.status != 401 && result.status != 403, "\(label)")
                } else {
                    #expect(result.status == 403, "\(label)")
                }
                checked += 1
            }
        }
        #expect(checked > 300)
        await server.stop()
    }

    @Test func everyAPIModelHasTheShapeOfItsSchema() throws {
        let document = try Self.document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        #expect(!allAPIModels.isEmpty)
        for model in allAPIModels {
            let name = String(describing: model)
            let schema = try #require(schemas[name] as? [String: Any], "no schema \(name)")
            let json = try #require(
                try JSONSerialization.jsonObject(with: try encoder.encode(model.example)) as? [String: Any]
            )
            let properties = schema["properties"] as? [String: Any] ?? [:]
            // The example sets every field, so its keys are exactly the schema's properties.
            #expect(
                Set(json.keys) == Set(properties.keys),
                "\(name): \(json.keys.sorted()) against \(properties.keys.sorted())"
            )
            for required in schema["required"] as? [String] ?? [] {
                #expect(json[required] != nil, "\(name).\(required) is required")
            }
            for (key, value) in json {
                let property = properties[key] as? [String: Any] ?? [:]
                let expected = property["type"] as? String ?? (property["$ref"] != nil ? "object" : "?")
                let actual =
                    switch value {
                    case is String: "string"
                    // Foundation on Linux gives booleans their own NSNumber subclass.
                    case is Bool where "\(type(of: value))".hasSuffix("Boolean"): "boolean"
                    case is Int: "integer"
                    case is [Any]: "array"
                    case is [String: Any]: "object"
                    default: "\(type(of: value))"
                    }
                #expect(actual == expected, "\(name).\(key): \(actual), the schema says \(expected)")
            }
        }
    }
}
