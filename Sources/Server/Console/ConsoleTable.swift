import Foundation

/// The values of the console's generic pages: a table of records (`listing`) and one record with the
/// API's JSON of it (`record`).
enum ConsoleTable {
    /// One cell: its text, a link, and whether it is an identifier (monospaced).
    static func cell(_ text: String, href: String? = nil, mono: Bool = false) -> [String: Any] {
        var cell: [String: Any] = ["text": text, "mono": mono]
        if let href { cell["href"] = href }
        return cell
    }

    /// The values of a `listing` page.
    static func listing(
        heading: String,
        tableID: String,
        columns: [String],
        rows: [[[String: Any]]],
        intro: String? = nil
    ) -> [String: Any] {
        var values: [String: Any] = [
            "heading": heading, "tableID": tableID, "columns": columns,
            "rows": rows.map { ["cells": $0] }, "hasRows": !rows.isEmpty,
        ]
        if let intro { values["intro"] = intro }
        return values
    }

    /// The API's JSON of `model`, indented with sorted keys, for a page's expert view.
    static func json(_ model: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(model)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
