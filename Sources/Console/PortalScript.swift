/// The portal's one script, served as `/portal/portal.js`: it makes a key pair in the browser with
/// WebCrypto (ECDSA P-256), builds and signs a PKCS#10 request for it (RFC 2986), puts the request into
/// the form, and offers the private key as a PKCS#8 PEM file to save. The key never reaches the server.
public enum PortalScript {
    public static let source = #"""
        "use strict";
        (function () {
          // DER: a tag, a length, the contents (X.690 8.1).
          function der(tag, bytes) {
            var n = bytes.length, length;
            if (n < 128) { length = [n]; }
            else { length = []; while (n > 0) { length.unshift(n & 255); n >>= 8; } length.unshift(128 | length.length); }
            return [tag].concat(length, Array.prototype.slice.call(bytes));
          }
          function oid(text) {
            var parts = text.split(".").map(Number), out = [40 * parts[0] + parts[1]];
            parts.slice(2).forEach(function (value) {
              var chunk = [value & 127]; value = Math.floor(value / 128);
              while (value > 0) { chunk.unshift(128 | (value & 127)); value = Math.floor(value / 128); }
              out = out.concat(chunk);
            });
            return der(6, out);
          }
          function utf8(text) { return Array.from(new TextEncoder().encode(text)); }
          function integer(bytes) {
            var i = 0; while (i < bytes.length - 1 && bytes[i] === 0) { i++; }
            var value = Array.prototype.slice.call(bytes, i);
            if (value[0] & 128) { value.unshift(0); }
            return der(2, value);
          }
          function base64(bytes) { return btoa(String.fromCharCode.apply(null, bytes)); }
          function pem(label, bytes) {
            var text = base64(bytes).replace(/(.{64})/g, "$1\n");
            return "-----BEGIN " + label + "-----\n" + text + (text.endsWith("\n") ? "" : "\n") + "-----END " + label + "-----\n";
          }

          async function request(commonName) {
            var keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
            var spki = Array.from(new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)));
            var name = der(0x30, der(0x31, der(0x30, oid("2.5.4.3").concat(der(0x0C, utf8(commonName))))));
            var info = der(0x30, der(2, [0]).concat(name, spki, [0xA0, 0]));
            var raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(info)));
            var signature = der(0x30, integer(raw.slice(0, 32)).concat(integer(raw.slice(32))));
            var algorithm = der(0x30, oid("1.2.840.10045.4.3.2"));
            var csr = der(0x30, info.concat(algorithm, der(3, [0].concat(signature))));
            var pkcs8 = Array.from(new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)));
            return { csr: pem("CERTIFICATE REQUEST", csr), key: pem("PRIVATE KEY", pkcs8) };
          }

          var button = document.getElementById("browser-key");
          if (!button) { return; }
          button.hidden = false;
          button.addEventListener("click", async function () {
            var status = document.getElementById("browser-key-status");
            var commonName = document.getElementById("common-name").value.trim();
            if (!commonName) { status.textContent = button.dataset.needName; document.getElementById("common-name").focus(); return; }
            try {
              var made = await request(commonName);
              document.getElementById("csr").value = made.csr;
              var link = document.getElementById("key-download");
              link.href = URL.createObjectURL(new Blob([made.key], { type: "application/x-pem-file" }));
              link.hidden = false;
              status.textContent = button.dataset.done;
            } catch (error) {
              status.textContent = button.dataset.failed + " " + error;
            }
          });
        })();
        """#
}
