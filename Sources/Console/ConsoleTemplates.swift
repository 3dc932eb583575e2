/// The console's Mustache templates. `{{name}}` escapes HTML (every stored value goes through it);
/// `{{{content}}}` is used only for the page the layout wraps, which was rendered escaped itself.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout, "signin": signin, "dashboard": dashboard, "cas": cas, "ca": ca,
        "certificates": certificates, "certificate": certificate, "error": error, "audit": audit,
        "requests": requests, "portalSignin": portalSignin, "portal": portal, "bulkRevoke": bulkRevoke,
        "listing": listing, "record": record, "newRequest": newRequest, "policy": policy, "secret": secret,
        "credentials": credentials,
    ]

    static let layout = """
        <!DOCTYPE html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Custos</title>
        <link rel="stylesheet" href="/ui/console.css">
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header>
        <span class="brand">Custos</span>
        {{#session}}
        <nav aria-label="{{t.navigation}}"><ul>
        {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
        </ul></nav>
        <form method="post" action="{{signOut}}" class="signout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span>{{t.signedInAs}} <span class="who">{{actor}}</span> ({{role}})</span>
        <button type="submit" id="sign-out">{{t.signOut}}</button>
        </form>
        {{/session}}
        <a class="language" id="language" href="/ui/language/{{otherLang}}?back={{back}}" hreflang="{{otherLang}}" \
        lang="{{otherLang}}">{{t.otherLanguage}}</a>
        </header>
        <main id="main" tabindex="-1">
        {{{content}}}
        </main>
        </body>
        </html>
        """

    static let signin = """
        <h1>{{t.signInTitle}}</h1>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <form method="post" action="/ui/signin" class="panel">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="token">{{t.tokenLabel}}</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus \
        aria-describedby="token-hint{{#error}} token-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}>
        {{#error}}<p class="field-error" id="token-error" role="alert">{{error}}</p>{{/error}}
        <p class="hint" id="token-hint">{{t.tokenHint}}</p>
        <button type="submit" id="sign-in">{{t.signIn}}</button>
        </form>
        {{#certificate}}<form method="post" action="/ui/signin" class="panel" id="certificate-signin">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="method" value="certificate">
        <p>{{t.certificateOffer}} <span class="mono">{{certificate.subject}}</span></p>
        <button type="submit" id="sign-in-certificate">{{t.signInWithCertificate}}</button>
        </form>{{/certificate}}
        """

    static let dashboard = """
        <h1>{{t.dashboard}}</h1>
        <p class="hint" id="counted">{{t.countedAt}} {{counted}}</p>
        <div class="grid">
        <section aria-labelledby="expiring-title" class="panel">
        <h2 id="expiring-title">{{t.expiringTitle}}</h2>
        <svg class="chart" role="img" aria-labelledby="expiring-title" width="420" height="{{chartHeight}}" \
        viewBox="0 0 420 {{chartHeight}}">
        {{#expiring}}<text x="0" y="{{textY}}">{{label}}</text>\
        <rect class="bar" x="170" y="{{barY}}" width="{{width}}" height="20"></rect>\
        <text x="{{valueX}}" y="{{textY}}" class="value">{{count}}</text>{{/expiring}}
        </svg>
        <table class="visually-hidden" id="expiring">
        <tbody>{{#expiring}}<tr><th scope="row">{{label}}</th><td class="number">{{count}}</td></tr>{{/expiring}}</tbody>
        </table>
        {{#expiringReports}}<p class="downloads" id="expiring-reports">{{t.reportsCSV}}         {{#expiring}}<a href="/ui/reports/expiring.csv?days={{days}}" download>{{label}}</a> {{/expiring}}</p>{{/expiringReports}}
        </section>
        <section aria-labelledby="hsm-title" class="panel">
        <h2 id="hsm-title">{{t.hsmTitle}}</h2>
        <dl id="hsm">
        <dt>{{t.token}}</dt><dd>{{hsm.token}}</dd>
        <dt>{{t.sessionsOpen}}</dt><dd>{{hsm.sessionsOpen}}</dd>
        <dt>{{t.inUse}}</dt><dd>{{hsm.inUse}}</dd>
        <dt>{{t.waiters}}</dt><dd>{{hsm.waiters}}</dd>
        <dt>{{t.failures}}</dt><dd>{{hsm.failures}}</dd>
        </dl>
        </section>
        </div>
        <section aria-labelledby="counts-title">
        <h2 id="counts-title">{{t.countsTitle}}</h2>
        {{#hasCounts}}<table id="counts">
        <thead><tr><th scope="col">{{t.ca}}</th><th scope="col">{{t.category}}</th><th scope="col">{{t.status}}</th>\
        <th scope="col" class="number">{{t.count}}</th></tr></thead>
        <tbody>{{/hasCounts}}{{#counts}}<tr><td><a href="{{caHref}}">{{ca}}</a></td><td>{{category}}</td>\
        <td><span class="status {{statusClass}}">{{status}}</span></td><td class="number">{{count}}</td></tr>{{/counts}}
        {{#hasCounts}}</tbody></table>{{/hasCounts}}
        {{^counts}}<p>{{t.nothingYet}}</p>{{/counts}}
        </section>
        <section aria-labelledby="crl-title">
        <h2 id="crl-title">{{t.crlTitle}}</h2>
        <table id="crls">
        <thead><tr><th scope="col">{{t.ca}}</th><th scope="col">{{t.crlNumber}}</th>\
        <th scope="col">{{t.nextUpdate}}</th></tr></thead>
        <tbody>{{#crls}}<tr><td>{{ca}}</td><td>{{number}}</td><td>{{nextUpdate}}{{#overdue}} \
        <span class="status revoked">{{t.overdue}}</span>{{/overdue}}</td></tr>{{/crls}}</tbody>
        </table>
        </section>
        {{#showAudit}}
        <section aria-labelledby="audit-title">
        <h2 id="audit-title">{{t.auditTitle}}</h2>
        <table id="audit">
        <thead><tr><th scope="col">#</th><th scope="col">{{t.time}}</th><th scope="col">{{t.actor}}</th>\
        <th scope="col">{{t.action}}</th><th scope="col">{{t.object}}</th><th scope="col">{{t.outcome}}</th></tr></thead>
        <tbody>{{#audit}}<tr><td>{{sequence}}</td><td>{{time}}</td><td>{{actor}}</td><td>{{action}}</td>\
        <td>{{object}}</td><td>{{outcome}}</td></tr>{{/audit}}</tbody>
        </table>
        </section>
        {{/showAudit}}
        """

    static let cas = """
        <h1>{{t.cas}}</h1>
        {{#hasCas}}<table id="cas">
        <thead><tr><th scope="col">{{t.caID}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.kind}}</th>\
        <th scope="col">{{t.state}}</th><th scope="col">{{t.notAfter}}</th></tr></thead>
        <tbody>{{/hasCas}}{{#cas}}<tr><td class="depth-{{depth}}"><a href="{{href}}">{{id}}</a></td><td>{{subject}}</td>\
        <td>{{kind}}</td><td>{{state}}</td><td>{{notAfter}}</td></tr>{{/cas}}
        {{#hasCas}}</tbody></table>{{/hasCas}}
        {{^cas}}<p>{{t.nothingYet}}</p>{{/cas}}
        {{#canCreate}}
        <h2 id="create-title">{{t.createCA}}</h2>
        <form method="post" action="/ui/cas" class="panel" id="create-ca" aria-labelledby="create-title">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#error}}<p class="field-error" role="alert" id="create-error">{{error}}</p>{{/error}}
        <div class="fields">
        <div><label for="id">{{t.caID}}</label>\
        <input id="id" name="id" value="{{form.id}}" required aria-describedby="id-hint{{#errors.id}} id-error{{/errors.id}}"\
        {{#errors.id}} aria-invalid="true"{{/errors.id}}>\
        {{#errors.id}}<p class="field-error" id="id-error">{{errors.id}}</p>{{/errors.id}}\
        <p class="hint" id="id-hint">{{t.caIDHint}}</p></div>
        <div><label for="subject">{{t.subject}}</label>\
        <input id="subject" name="subject" value="{{form.subject}}" required \
        aria-describedby="subject-hint{{#errors.subject}} subject-error{{/errors.subject}}"\
        {{#errors.subject}} aria-invalid="true"{{/errors.subject}}>\
        {{#errors.subject}}<p class="field-error" id="subject-error">{{errors.subject}}</p>{{/errors.subject}}\
        <p class="hint" id="subject-hint">{{t.subjectHint}}</p></div>
        <div><label for="algorithm">{{t.algorithm}}</label><select id="algorithm" name="algorithm">\
        {{#algorithms}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/algorithms}}\
        </select>{{#errors.algorithm}}<p class="field-error" id="algorithm-error">{{errors.algorithm}}</p>{{/errors.algorithm}}</div>
        <div><label for="parent">{{t.parent}}</label><select id="parent" name="parent">\
        <option value="">{{t.noParent}}</option>\
        {{#parents}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/parents}}</select>\
        {{#errors.parent}}<p class="field-error" id="parent-error">{{errors.parent}}</p>{{/errors.parent}}</div>
        <div><label for="validityDays">{{t.validityDays}}</label>\
        <input id="validityDays" name="validityDays" inputmode="numeric" value="{{form.validityDays}}" \
        aria-describedby="validity-hint{{#errors.validityDays}} validity-error{{/errors.validityDays}}"\
        {{#errors.validityDays}} aria-invalid="true"{{/errors.validityDays}}>\
        {{#errors.validityDays}}<p class="field-error" id="validity-error">{{errors.validityDays}}</p>{{/errors.validityDays}}\
        <p class="hint" id="validity-hint">{{t.validityHint}}</p></div>
        </div>
        <button type="submit" id="create-button">{{t.createCA}}</button>
        </form>
        {{/canCreate}}
        """

    static let ca = """
        <h1>{{t.ca}} {{ca.id}}</h1>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <dl class="panel" id="ca-details">
        <dt>{{t.subject}}</dt><dd>{{ca.subject}}</dd>
        <dt>{{t.kind}}</dt><dd>{{ca.kind}}</dd>
        <dt>{{t.state}}</dt><dd>{{ca.state}}</dd>
        {{#ca.parent}}<dt>{{t.parent}}</dt><dd><a href="{{ca.parentHref}}">{{ca.parent}}</a></dd>{{/ca.parent}}
        {{#ca.tenant}}<dt>{{t.tenant}}</dt><dd>{{ca.tenant}}</dd>{{/ca.tenant}}
        <dt>{{t.notBefore}}</dt><dd>{{ca.notBefore}}</dd>
        <dt>{{t.notAfter}}</dt><dd>{{ca.notAfter}}</dd>
        </dl>
        <h2>{{t.downloads}}</h2>
        {{#ca.hasCertificate}}<ul class="downloads">
        <li><a href="{{ca.href}}/certificate.pem" download>{{t.certificatePEM}}</a></li>
        <li><a href="{{ca.href}}/certificate.der" download>{{t.certificateDER}}</a></li>
        <li><a href="{{ca.href}}/chain.pem" download>{{t.chainPEM}}</a></li>
        <li><a href="{{ca.href}}/crl.der" download>{{t.crlDER}}</a></li>
        </ul>{{/ca.hasCertificate}}
        {{^ca.hasCertificate}}<p>{{t.noCertificateYet}}</p>{{/ca.hasCertificate}}
        <p><a href="/ui/certificates?ca={{ca.id}}">{{t.issuedCertificates}}</a></p>
        """

    static let audit = """
        <h1>{{t.audit}}</h1>
        <form method="get" action="/ui/audit" class="panel search" id="audit-filter">
        <div class="fields">
        <div><label for="action">{{t.action}}</label>\
        <input id="action" name="action" value="{{form.action}}" aria-describedby="action-hint">\
        <p class="hint" id="action-hint">{{t.actionHint}}</p></div>
        <div><label for="actor">{{t.actor}}</label><input id="actor" name="actor" value="{{form.actor}}"></div>
        <div><label for="q">{{t.auditText}}</label><input id="q" name="q" value="{{form.q}}"></div>
        </div>
        {{#error}}<p class="field-error" role="alert" id="audit-error">{{error}}</p>{{/error}}
        <button type="submit" id="filter-button">{{t.search}}</button>
        </form>
        <form method="get" action="/ui/audit" id="verify">
        <input type="hidden" name="verify" value="1">
        <button type="submit" id="verify-button">{{t.verifyChain}}</button>
        </form>
        {{#verified}}{{#intact}}<p class="notice" role="status" id="verification">\
        {{t.chainIntact}} {{verifiedEntries}}</p>{{/intact}}\
        {{^intact}}<p class="field-error" role="alert" id="verification">{{t.chainBroken}} {{brokenAt}}: \
        {{brokenReason}}</p>{{/intact}}{{/verified}}
        {{#hasEntries}}<table id="entries">
        <thead><tr><th scope="col">#</th><th scope="col">{{t.time}}</th><th scope="col">{{t.actor}}</th>\
        <th scope="col">{{t.action}}</th><th scope="col">{{t.object}}</th><th scope="col">{{t.outcome}}</th></tr></thead>
        <tbody>{{/hasEntries}}{{#entries}}<tr><td>{{sequence}}</td><td>{{time}}</td><td>{{actor}}</td><td>{{action}}</td>\
        <td class="mono">{{object}}</td><td>{{outcome}}</td></tr>{{/entries}}
        {{#hasEntries}}</tbody></table>{{/hasEntries}}
        {{^entries}}<p id="no-entries">{{t.nothingFound}}</p>{{/entries}}
        {{#olderHref}}<p><a href="{{olderHref}}" rel="next" id="older">{{t.olderEntries}}</a></p>{{/olderHref}}
        """

    static let newRequest = """
        <h1>{{t.newRequest}}</h1>
        <p class="hint">{{t.newRequestIntro}}</p>
        {{#hasProfiles}}
        <form method="post" action="/ui/requests/new" class="panel" id="new-request">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="profile">{{t.profile}}</label><select id="profile" name="profile">{{#profiles}}\
        <option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/profiles}}</select>
        <label for="csr">{{t.csr}}</label>
        <textarea id="csr" name="csr" rows="10" class="mono" \
        aria-describedby="csr-hint{{#error}} request-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}>{{form.csr}}</textarea>
        <p class="hint" id="csr-hint">{{t.csrPasteHint}}</p>
        {{#error}}<p class="field-error" role="alert" id="request-error">{{error}}</p>{{/error}}
        <button type="submit" id="submit-request">{{t.sendRequest}}</button>
        </form>
        {{/hasProfiles}}
        {{^hasProfiles}}<p id="no-profiles">{{t.noConsoleProfiles}}</p>{{/hasProfiles}}
        """

    static let requests = """
        <h1>{{t.requests}}</h1>
        {{#canRequest}}<p><a href="/ui/requests/new" id="new-request-link">{{t.newRequest}}</a></p>{{/canRequest}}
        <nav aria-label="{{t.requests}}" class="tabs"><ul>\
        {{#states}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/states}}\
        </ul></nav>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        {{#error}}<p class="field-error" role="alert" id="request-error">{{error}}</p>{{/error}}
        {{#hasRequests}}<table id="requests">
        <thead><tr><th scope="col">{{t.created}}</th><th scope="col">{{t.profile}}</th><th scope="col">{{t.protocol}}</th>\
        <th scope="col">{{t.client}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.decision}}</th></tr></thead>
        <tbody>{{/hasRequests}}{{#requests}}<tr id="request-{{id}}"><td>{{created}}</td><td>{{profile}}</td><td>{{protocol}}</td>\
        <td>{{client}}</td><td>{{subject}}</td><td>\
        {{#canDecide}}{{#own}}<span class="hint own">{{t.awaitingOtherOfficer}}</span>{{/own}}\
        {{^own}}<form method="post" action="/ui/requests/{{id}}/approve" class="inline">\
        <input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit" class="approve" aria-label="{{t.approve}} {{subject}}">{{t.approve}}</button></form>{{/own}}\
        <form method="post" action="/ui/requests/{{id}}/reject" class="inline">\
        <input type="hidden" name="csrf" value="{{csrf}}">\
        <label for="reason-{{id}}">{{t.reason}}</label><input id="reason-{{id}}" name="reason" maxlength="512">\
        <button type="submit" class="danger reject">{{t.reject}}</button></form>{{/canDecide}}\
        {{#decidedBy}}{{decidedBy}}{{/decidedBy}}{{#reason}}: {{reason}}{{/reason}}{{#serial}} ({{serial}}){{/serial}}\
        {{#awaitingUpstream}}{{t.awaitingUpstream}}{{/awaitingUpstream}}</td></tr>{{/requests}}
        {{#hasRequests}}</tbody></table>{{/hasRequests}}
        {{^requests}}<p id="no-requests">{{t.nothingFound}}</p>{{/requests}}
        """

    static let portalSignin = """
        <h1>{{t.portalTitle}}</h1>
        <p>{{t.portalIntro}}</p>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <form method="post" action="/portal/signin" class="panel">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#error}}<p class="field-error" role="alert" id="signin-error">{{error}}</p>{{/error}}
        <label for="profile">{{t.profile}}</label><input id="profile" name="profile" value="{{form.profile}}" required>
        <label for="user">{{t.userName}}</label>\
        <input id="user" name="user" value="{{form.user}}" autocomplete="username" aria-describedby="user-hint">
        <p class="hint" id="user-hint">{{t.userHint}}</p>
        <label for="password">{{t.enrollmentPassword}}</label>\
        <input id="password" name="password" type="password" required autocomplete="off">
        <button type="submit" id="sign-in">{{t.signIn}}</button>
        </form>
        """

    static let portal = """
        <h1>{{t.portalTitle}}: {{profile}}</h1>
        {{#description}}<p>{{description}}</p>{{/description}}
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}\
        {{#issuedHref}} <a href="{{issuedHref}}" id="issued-download" download>{{t.download}}</a>{{/issuedHref}}</p>{{/notice}}
        <section aria-labelledby="request-title" class="panel">
        <h2 id="request-title">{{t.requestCertificate}}</h2>
        {{#approval}}<p class="hint">{{t.portalNeedsApproval}}</p>{{/approval}}
        <form method="post" action="/portal/request" id="request">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#renewing}}<p class="notice" id="renewing">{{t.portalRenewing}} <span class="mono">{{serial}}</span> ({{subject}})</p>\
        <input type="hidden" name="renews" value="{{serial}}">{{/renewing}}
        <label for="common-name">{{t.commonName}}</label>\
        <input id="common-name" name="commonName" value="{{form.commonName}}" aria-describedby="cn-hint">
        <p class="hint" id="cn-hint">{{t.commonNameHint}}</p>
        <button type="button" id="browser-key" hidden data-need-name="{{t.needName}}" data-done="{{t.browserKeyDone}}" \
        data-failed="{{t.browserKeyFailed}}">{{t.browserKey}}</button>
        <p id="browser-key-status" role="status" aria-live="polite"></p>
        <p><a id="key-download" hidden download="private-key.pem">{{t.saveKey}}</a></p>
        <label for="csr">{{t.csr}}</label>\
        <textarea id="csr" name="csr" rows="8" class="mono" \
        aria-describedby="csr-hint{{#error}} request-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}>{{form.csr}}</textarea>
        <p class="hint" id="csr-hint">{{t.csrHint}}</p>
        {{#error}}<p class="field-error" role="alert" id="request-error">{{error}}</p>{{/error}}
        <button type="submit" id="request-button">{{t.sendRequest}}</button>
        </form>
        <script src="/portal/portal.js"></script>
        </section>
        <h2>{{t.yourCertificates}}</h2>
        {{#hasCertificates}}<table id="my-certificates">
        <thead><tr><th scope="col">{{t.serial}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.status}}</th>\
        <th scope="col">{{t.notAfter}}</th><th scope="col">{{t.downloads}}</th></tr></thead>
        <tbody>{{/hasCertificates}}{{#certificates}}<tr><td class="mono">{{serial}}</td><td>{{subject}}</td>\
        <td><span class="status {{statusClass}}">{{status}}</span></td><td>{{notAfter}}</td>\
        <td><a href="{{href}}" download>{{t.download}}</a>\
        {{#valid}} · <a href="{{renewHref}}" class="renew">{{t.renew}}</a>\
        <form method="post" action="{{href}}/revoke" class="inline revoke">\
        <input type="hidden" name="csrf" value="{{csrf}}">\
        <label for="reason-{{serial}}">{{t.reason}}</label><select id="reason-{{serial}}" name="reason">\
        {{#reasons}}<option value="{{.}}">{{.}}</option>{{/reasons}}</select>\
        <button type="submit" class="danger">{{t.revoke}}</button></form>{{/valid}}</td></tr>{{/certificates}}
        {{#hasCertificates}}</tbody></table>{{/hasCertificates}}
        {{^certificates}}<p>{{t.nothingYet}}</p>{{/certificates}}
        <h2>{{t.yourRequests}}</h2>
        {{#hasRequests}}<table id="my-requests">
        <thead><tr><th scope="col">{{t.created}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.state}}</th>\
        <th scope="col">{{t.reason}}</th></tr></thead>
        <tbody>{{/hasRequests}}{{#requests}}<tr><td>{{created}}</td><td>{{subject}}</td><td>{{state}}</td>\
        <td>{{reason}}</td></tr>{{/requests}}
        {{#hasRequests}}</tbody></table>{{/hasRequests}}
        {{^requests}}<p>{{t.nothingYet}}</p>{{/requests}}
        """

    static let error = """
        <h1>{{heading}}</h1>
        <p class="field-error" role="alert" id="error-message">{{message}}</p>
        <p><a href="/ui/">{{t.backToDashboard}}</a></p>
        """
}
