extension ConsoleTemplates {
    /// A table of records (keys, profiles, vault namespaces and secrets): `columns` (words), `rows` of
    /// `cells` (`text`, optional `href`, `mono`).
    static let listing = """
        <h1>{{heading}}</h1>
        {{#intro}}<p class="hint">{{intro}}</p>{{/intro}}
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        {{#error}}<p class="field-error" role="alert" id="page-error">{{error}}</p>{{/error}}
        {{#hasRows}}<table id="{{tableID}}">
        <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
        <tbody>{{/hasRows}}{{#rows}}<tr>{{#cells}}<td{{#mono}} class="mono"{{/mono}}>{{#href}}<a href="{{href}}">{{/href}}\
        {{text}}{{#href}}</a>{{/href}}</td>{{/cells}}</tr>{{/rows}}
        {{#hasRows}}</tbody></table>{{/hasRows}}
        {{^rows}}<p id="nothing">{{t.nothingYet}}</p>{{/rows}}
        {{#nextHref}}<p><a href="{{nextHref}}" rel="next">{{t.nextPage}}</a></p>{{/nextHref}}
        """

    /// One record: its `fields`, an optional related table, and the API's JSON of it (the expert view).
    static let record = """
        <h1>{{heading}}</h1>
        <dl class="panel" id="record">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        {{#related}}<h2>{{title}}</h2>
        {{#hasRows}}<table id="related">
        <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
        <tbody>{{/hasRows}}{{#rows}}<tr>{{#cells}}<td>{{text}}</td>{{/cells}}</tr>{{/rows}}{{#hasRows}}</tbody></table>{{/hasRows}}
        {{^rows}}<p id="no-related">{{t.nothingYet}}</p>{{/rows}}{{/related}}
        <details><summary>{{t.expertView}}</summary><pre class="mono" id="record-json">{{json}}</pre></details>
        """

    static let policy = """
        <h1>{{t.policies}}</h1>
        <form method="get" action="/ui/policies" class="panel search" id="policy-choice">
        <div class="fields">
        <div><label for="ca">{{t.ca}}</label><select id="ca" name="ca">{{#caOptions}}<option value="{{id}}"\
        {{#selected}} selected{{/selected}}>{{label}}</option>{{/caOptions}}</select></div>
        <div><label for="category">{{t.category}}</label><select id="category" name="category">{{#categories}}\
        <option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/categories}}</select></div>
        </div>
        <button type="submit" id="show-policy">{{t.show}}</button>
        </form>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <p id="policy-source">{{source}}</p>
        <h2>{{t.rules}}</h2>
        <dl class="panel" id="rules">{{#rules}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/rules}}</dl>
        {{#canEdit}}
        <h2 id="edit-title">{{t.editPolicy}}</h2>
        <form method="post" action="/ui/policies" class="panel" id="policy-form" aria-labelledby="edit-title">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="ca" value="{{chosenCA}}">
        <input type="hidden" name="category" value="{{chosenCategory}}">
        <label for="document">{{t.policyJSON}}</label>
        <textarea id="document" name="document" rows="22" class="mono" \
        aria-describedby="document-hint{{#error}} document-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}>{{document}}</textarea>
        <p class="hint" id="document-hint">{{t.policyHint}}</p>
        {{#error}}<p class="field-error" id="document-error" role="alert">{{error}}</p>{{/error}}
        <button type="submit" id="save-policy">{{t.save}}</button>
        </form>
        {{/canEdit}}
        {{^canEdit}}<details><summary>{{t.expertView}}</summary><pre class="mono" id="record-json">{{document}}</pre></details>{{/canEdit}}
        """

    static let secret = """
        <h1>{{t.vault}}: {{namespace}} / <span class="mono">{{path}}</span></h1>
        {{#error}}<p class="field-error" role="alert" id="page-error">{{error}}</p>{{/error}}
        {{#revealed}}<section class="panel" aria-labelledby="value-title">
        <h2 id="value-title">{{t.valueOfVersion}} {{revealed.version}}</h2>
        {{#revealed.text}}<pre class="mono" id="secret-value">{{revealed.text}}</pre>{{/revealed.text}}
        {{^revealed.text}}<p>{{t.binaryValue}}</p><pre class="mono" id="secret-value">{{revealed.base64}}</pre>{{/revealed.text}}
        <p class="hint">{{t.revealAudited}}</p>
        </section>{{/revealed}}
        <table id="versions">
        <thead><tr><th scope="col">{{t.version}}</th><th scope="col">{{t.created}}</th><th scope="col">{{t.size}}</th>\
        <th scope="col">{{t.state}}</th>{{#canReveal}}<th scope="col">{{t.value}}</th>{{/canReveal}}</tr></thead>
        <tbody>{{#versions}}<tr><td>{{version}}</td><td>{{created}}</td><td class="number">{{size}}</td><td>{{state}}</td>\
        {{#canReveal}}<td>{{^archived}}<form method="post" action="{{revealAction}}" class="inline">\
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="path" value="{{path}}">\
        <input type="hidden" name="version" value="{{version}}">\
        <button type="submit" class="reveal" id="reveal-{{version}}">{{t.reveal}}</button></form>{{/archived}}</td>{{/canReveal}}\
        </tr>{{/versions}}</tbody>
        </table>
        <p><a href="{{backHref}}">{{t.backToNamespace}}</a></p>
        """

    static let credentials = """
        <h1>{{t.credentials}}</h1>
        {{#created}}<section class="panel notice" role="status" id="created-credential">
        <p>{{t.credentialCreated}}</p><pre class="mono" id="new-token">{{created.token}}</pre></section>{{/created}}
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <table id="credentials">
        <thead><tr><th scope="col">ID</th><th scope="col">{{t.role}}</th><th scope="col">{{t.scope}}</th>\
        <th scope="col">{{t.tenant}}</th><th scope="col">{{t.created}}</th><th scope="col">{{t.state}}</th>\
        <th scope="col">{{t.clientCertificates}}</th>{{#canManage}}<th scope="col"></th>{{/canManage}}</tr></thead>
        <tbody>{{#credentials}}<tr id="credential-{{id}}"><td class="mono">{{id}}</td><td>{{role}}</td><td>{{scope}}</td>\
        <td>{{tenant}}</td><td>{{created}}</td><td>{{state}}</td>\
        <td class="mono">{{#certificates}}<span class="certificate">{{short}}</span>{{#canManage}}\
        <form method="post" action="/ui/credentials/{{credential}}/certificates/{{hash}}/unbind" class="inline">\
        <input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit" class="danger unbind" aria-label="{{t.unbind}} {{short}}">{{t.unbind}}</button></form>\
        {{/canManage}} {{/certificates}}</td>{{#canManage}}<td>{{^revoked}}{{^self}}\
        <form method="post" action="/ui/credentials/{{id}}/revoke" class="inline">\
        <input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit" class="danger" aria-label="{{t.revoke}} {{id}}">{{t.revoke}}</button></form>\
        {{/self}}{{/revoked}}</td>{{/canManage}}</tr>{{/credentials}}</tbody>
        </table>
        {{#canManage}}
        <h2 id="create-title">{{t.createCredential}}</h2>
        <form method="post" action="/ui/credentials" class="panel" id="create-credential" aria-labelledby="create-title">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="fields">
        <div><label for="role">{{t.role}}</label><select id="role" name="role">{{#roles}}<option value="{{value}}"\
        {{#selected}} selected{{/selected}}>{{value}}</option>{{/roles}}</select></div>
        <div><label for="patterns">{{t.scope}}</label><input id="patterns" name="patterns" value="{{form.patterns}}" \
        aria-describedby="patterns-hint"><p class="hint" id="patterns-hint">{{t.scopeHint}}</p></div>
        <div><label for="tenant">{{t.tenant}}</label><input id="tenant" name="tenant" value="{{form.tenant}}"></div>
        </div>
        {{#error}}<p class="field-error" role="alert" id="credential-error">{{error}}</p>{{/error}}
        <button type="submit" id="create-credential-button">{{t.createCredential}}</button>
        </form>
        <h2 id="bind-title">{{t.bindCertificate}}</h2>
        <form method="post" action="/ui/credentials/certificates" class="panel" id="bind-certificate" aria-labelledby="bind-title">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="bind-credential">{{t.credentials}}</label><select id="bind-credential" name="credential">\
        {{#credentials}}{{^revoked}}<option value="{{id}}">{{id}} ({{role}})</option>{{/revoked}}{{/credentials}}</select>
        <label for="bind-pem">{{t.certificatePEMField}}</label>
        <textarea id="bind-pem" name="certificate" rows="8" class="mono" aria-describedby="bind-hint"></textarea>
        <p class="hint" id="bind-hint">{{t.bindHint}}</p>
        {{#bindError}}<p class="field-error" role="alert" id="bind-error">{{bindError}}</p>{{/bindError}}
        <button type="submit" id="bind-button">{{t.bindCertificate}}</button>
        </form>
        {{/canManage}}
        """
}
