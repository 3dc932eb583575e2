extension ConsoleTemplates {
    static let certificates = """
        <h1>{{t.certificates}}</h1>
        <form method="get" action="/ui/certificates" class="panel search" id="search">
        <div class="fields">
        <div><label for="ca">{{t.ca}}</label><select id="ca" name="ca"><option value="">{{t.any}}</option>\
        {{#caOptions}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/caOptions}}</select></div>
        <div><label for="status">{{t.status}}</label><select id="status" name="status"><option value="">{{t.any}}</option>\
        {{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statusOptions}}\
        </select></div>
        <div><label for="q">{{t.text}}</label><input id="q" name="q" value="{{form.q}}"></div>
        <div><label for="category">{{t.category}}</label><input id="category" name="category" value="{{form.category}}"></div>
        <div><label for="serial">{{t.serial}}</label><input id="serial" name="serial" value="{{form.serial}}"></div>
        <div><label for="expiresAfter">{{t.expiresAfter}}</label>\
        <input id="expiresAfter" name="expiresAfter" type="date" value="{{form.expiresAfter}}"></div>
        <div><label for="expiresBefore">{{t.expiresBefore}}</label>\
        <input id="expiresBefore" name="expiresBefore" type="date" value="{{form.expiresBefore}}"></div>
        <div><label for="metadata">{{t.metadata}}</label>\
        <textarea id="metadata" name="metadata" rows="2" aria-describedby="metadata-hint">{{form.metadata}}</textarea>\
        <p class="hint" id="metadata-hint">{{t.metadataHint}}</p></div>
        </div>
        {{#error}}<p class="field-error" role="alert" id="search-error">{{error}}</p>{{/error}}
        <button type="submit" id="search-button">{{t.search}}</button>
        </form>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        {{#searched}}
        <h2>{{t.results}}</h2>
        {{#hasResults}}<p class="actions"><a href="{{csvHref}}" id="csv-download" download>{{t.downloadCSV}}</a>        {{#bulkHref}} · <a href="{{bulkHref}}" id="bulk-revoke">{{t.bulkRevoke}}</a>{{/bulkHref}}</p>{{/hasResults}}
        {{#hasResults}}<table id="results">
        <thead><tr><th scope="col">{{t.ca}}</th><th scope="col">{{t.serial}}</th><th scope="col">{{t.subject}}</th>\
        <th scope="col">{{t.category}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.notAfter}}</th></tr></thead>
        <tbody>{{/hasResults}}{{#results}}<tr><td>{{ca}}</td><td class="mono"><a href="{{href}}">{{serial}}</a></td>\
        <td>{{subject}}</td><td>{{category}}</td><td><span class="status {{statusClass}}">{{status}}</span></td>\
        <td>{{notAfter}}</td></tr>{{/results}}
        {{#hasResults}}</tbody></table>{{/hasResults}}
        {{^results}}<p id="no-results">{{t.noResults}}</p>{{/results}}
        {{#nextHref}}<p><a href="{{nextHref}}" rel="next">{{t.nextPage}}</a></p>{{/nextHref}}
        {{/searched}}
        """

    static let certificate = """
        <h1>{{t.certificates}}: <span class="mono">{{cert.serial}}</span></h1>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <dl class="panel" id="certificate-details">
        <dt>{{t.ca}}</dt><dd><a href="{{cert.caHref}}">{{cert.ca}}</a></dd>
        <dt>{{t.subject}}</dt><dd id="subject">{{cert.subject}}</dd>
        <dt>{{t.category}}</dt><dd>{{cert.category}}</dd>
        <dt>{{t.status}}</dt><dd><span class="status {{cert.statusClass}}" id="status">{{cert.status}}</span></dd>
        {{#cert.revokedAt}}<dt>{{t.revokedAt}}</dt><dd>{{cert.revokedAt}} ({{cert.reason}})</dd>{{/cert.revokedAt}}
        <dt>{{t.notBefore}}</dt><dd>{{cert.notBefore}}</dd>
        <dt>{{t.notAfter}}</dt><dd>{{cert.notAfter}}</dd>
        </dl>
        <p><a href="{{cert.href}}/certificate.pem" download>{{t.download}}</a></p>
        <h2>{{t.metadata}}</h2>
        {{#cert.hasMetadata}}<table id="metadata"><tbody>{{/cert.hasMetadata}}\
        {{#cert.metadata}}<tr><th scope="row">{{key}}</th><td>{{value}}</td></tr>{{/cert.metadata}}\
        {{#cert.hasMetadata}}</tbody></table>{{/cert.hasMetadata}}
        {{^cert.metadata}}<p>{{t.nothingYet}}</p>{{/cert.metadata}}
        {{#canChange}}
        <form method="post" action="{{cert.href}}/metadata" class="panel" id="metadata-form" aria-labelledby="metadata-title">
        <h3 id="metadata-title">{{t.metadataEdit}}</h3>
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="fields">
        <div><label for="metadata-key">{{t.metadataKey}}</label><input id="metadata-key" name="key" value="{{metadataForm.key}}"         required{{#metadataError}} aria-invalid="true" aria-describedby="metadata-error"{{/metadataError}}></div>
        <div><label for="metadata-value">{{t.metadataValue}}</label>        <input id="metadata-value" name="value" value="{{metadataForm.value}}" aria-describedby="metadata-hint">        <p class="hint" id="metadata-hint">{{t.metadataValueHint}}</p></div>
        </div>
        {{#metadataError}}<p class="field-error" id="metadata-error" role="alert">{{metadataError}}</p>{{/metadataError}}
        <button type="submit" id="metadata-button">{{t.save}}</button>
        </form>
        {{/canChange}}
        {{#canRenew}}
        <h2 id="renew-title">{{t.renewTitle}}</h2>
        <form method="post" action="{{cert.href}}/renew" class="panel" aria-labelledby="renew-title" id="renew">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="renew-days">{{t.validityDays}}</label>
        <input id="renew-days" name="validityDays" inputmode="numeric" value="{{renewForm.validityDays}}"         aria-describedby="renew-hint{{#renewError}} renew-error{{/renewError}}"{{#renewError}} aria-invalid="true"{{/renewError}}>
        <p class="hint" id="renew-hint">{{t.renewHint}}</p>
        {{#renewError}}<p class="field-error" id="renew-error" role="alert">{{renewError}}</p>{{/renewError}}
        <button type="submit" id="renew-button">{{t.renew}}</button>
        </form>
        {{/canRenew}}
        {{#canRevoke}}
        <h2 id="revoke-title">{{t.revokeTitle}}</h2>
        <form method="post" action="{{cert.href}}/revoke" class="panel" aria-labelledby="revoke-title" id="revoke">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="reason">{{t.reason}}</label>
        <select id="reason" name="reason"{{#error}} aria-invalid="true" aria-describedby="reason-error"{{/error}}>\
        {{#reasons}}<option value="{{.}}">{{.}}</option>{{/reasons}}</select>
        {{#error}}<p class="field-error" id="reason-error" role="alert">{{error}}</p>{{/error}}
        <button type="submit" class="danger" id="revoke-button">{{t.revoke}}</button>
        </form>
        {{/canRevoke}}
        """

    static let bulkRevoke = """
        <h1>{{t.bulkRevokeTitle}}</h1>
        <dl class="panel" id="bulk-filter">
        <dt>{{t.ca}}</dt><dd>{{form.ca}}</dd>
        {{#conditions}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/conditions}}
        </dl>
        {{#error}}<p class="field-error" role="alert" id="bulk-error">{{error}}</p>{{/error}}
        {{#previewed}}
        <p id="bulk-count" class="notice" role="status">{{matchText}}</p>
        {{#hasSample}}<table id="bulk-sample">
        <thead><tr><th scope="col">{{t.serial}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.notAfter}}</th></tr></thead>
        <tbody>{{#sample}}<tr><td class="mono"><a href="{{href}}">{{serial}}</a></td><td>{{subject}}</td>        <td>{{notAfter}}</td></tr>{{/sample}}</tbody></table>
        {{#more}}<p class="hint">{{more}}</p>{{/more}}{{/hasSample}}
        {{#hasSample}}
        <form method="post" action="/ui/certificates/revoke" class="panel" id="bulk-confirm" aria-labelledby="bulk-count">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
        <input type="hidden" name="expected" value="{{count}}">
        <label for="reason">{{t.reason}}</label>
        <select id="reason" name="reason">{{#reasons}}<option value="{{.}}">{{.}}</option>{{/reasons}}</select>
        <button type="submit" class="danger" id="bulk-confirm-button">{{confirmText}}</button>
        </form>
        {{/hasSample}}
        {{/previewed}}
        <p><a href="{{backHref}}">{{t.backToSearch}}</a></p>
        """
}
