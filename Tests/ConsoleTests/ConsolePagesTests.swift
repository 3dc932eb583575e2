import Testing

@testable import Console

@Suite struct ConsolePagesTests {
    let pages: ConsolePages
    init() throws { pages = try ConsolePages() }

    @Test func theLanguageIsTheChoiceElseTheBestOfAcceptLanguageElseEnglish() {
        #expect(ConsoleLanguage.pick(chosen: "de", acceptLanguage: "en-US") == .de)
        #expect(ConsoleLanguage.pick(chosen: "fr", acceptLanguage: "de-DE,de;q=0.9") == .de)
        #expect(ConsoleLanguage.pick(chosen: nil, acceptLanguage: "fr-FR, en;q=0.5, de;q=0.8") == .de)
        #expect(ConsoleLanguage.pick(chosen: nil, acceptLanguage: "de;q=0, en;q=0.1") == .en)
        #expect(ConsoleLanguage.pick(chosen: nil, acceptLanguage: "fr, it") == .en)
        #expect(ConsoleLanguage.pick(chosen: nil, acceptLanguage: nil) == .en)
        #expect(ConsoleLanguage.pick(chosen: nil, acceptLanguage: "DE-at") == .de)
    }

    @Test func everyWordATemplateUsesExistsInBothLanguages() throws {
        let pattern = /\{\{t\.(\w+)\}\}/
        var used = Set<String>()
        for text in ConsoleTemplates.all.values {
            for match in text.matches(of: pattern) { used.insert(String(match.output.1)) }
        }
        #expect(used.count > 50)
        #expect(used.subtracting(ConsoleText.keys).isEmpty, "\(used.subtracting(ConsoleText.keys))")
        for language in ConsoleLanguage.allCases {
            let words = ConsoleText.words(language)
            #expect(words.values.allSatisfy { !$0.isEmpty })
        }
        #expect(ConsoleText.words(.de)["dashboard"] == "Übersicht")
        #expect(ConsoleTemplates.all.count == ConsolePage.allCases.count + 1)
    }

    @Test func storedValuesAreEscapedInTextAndAttributes() {
        let hostile = #"<script>alert(1)</script>" onmouseover="x" 'y' & z"#
        let frame = ConsoleFrame(
            language: .en,
            title: hostile,
            session: .init(actor: hostile, role: "admin", csrf: "token", navigation: []),
            path: "/ui/certificates"
        )
        let html = pages.render(
            .certificate,
            frame: frame,
            values: [
                "cert": [
                    "serial": hostile, "subject": hostile, "ca": hostile, "caHref": hostile, "href": hostile,
                    "metadata": [["key": hostile, "value": hostile]], "hasMetadata": true,
                ] as [String: Any],
                "canRevoke": true, "reasons": [hostile], "error": hostile,
            ]
        )
        #expect(!html.contains("<script>"))
        #expect(!html.contains(#"" onmouseover"#))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot; onmouseover=&quot;x&quot;"))
        // Each hostile value shows up escaped wherever it was placed: title, actor, and the page's fields.
        #expect(html.components(separatedBy: "&lt;script&gt;").count - 1 >= 9, "\(html)")
    }

    @Test func theFrameShowsTheNavigationOfTheSessionAndTheLanguageSwitch() {
        let frame = ConsoleFrame(
            language: .de,
            title: "dashboard",
            session: .init(
                actor: "credential/abc",
                role: "officer",
                csrf: "csrf-123",
                navigation: [
                    .init(href: "/ui/", label: "dashboard", current: true),
                    .init(href: "/ui/cas", label: "cas", current: false),
                ]
            ),
            path: "/ui/cas/line-ca"
        )
        let html = pages.render(.error, frame: frame, values: ["heading": "H", "message": "M"])
        #expect(html.contains(#"<html lang="de">"#))
        #expect(html.contains("<title>Übersicht · Custos</title>"))
        #expect(html.contains(#"<a href="/ui/" aria-current="page">Übersicht</a>"#))
        #expect(html.contains(#"<a href="/ui/cas">Zertifizierungsstellen</a>"#))
        #expect(html.contains(#"name="csrf" value="csrf-123""#))
        #expect(html.contains(#"href="/ui/language/en?back=/ui/cas/line-ca""#))
        let anonymous = pages.render(
            .signin,
            frame: ConsoleFrame(language: .en, title: "signIn", session: nil, path: "/ui/signin"),
            values: ["csrf": "c"]
        )
        #expect(!anonymous.contains("<nav"))
        #expect(!anonymous.contains("/ui/signout"))
        #expect(anonymous.contains(#"<label for="token">Credential token</label>"#))
    }
}
