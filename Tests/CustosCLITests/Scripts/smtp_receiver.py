"""A mail relay for the notification tests, on Debian's python3-aiosmtpd: STARTTLS (required before
AUTH and mail) on one port and implicit TLS on another, AUTH PLAIN and LOGIN for one user. Each message is
parsed with Python's email package (the comparison for Custos' MIME encoder) and logged as a JSON line:
envelope, the authenticated user, headers, the text part and attachments.

usage: smtp_receiver.py STARTTLS_PORT TLS_PORT CERT KEY USER PASSWORD LOG_FILE"""
import asyncio
import email
import email.policy
import json
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

starttls_port, tls_port, cert, key, user, password, log_file = sys.argv[1:8]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
        and auth_data.password.decode() == password
    # handled=False: aiosmtpd itself answers 535 to a refused login.
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)


class Handler:
    def __init__(self, transport):
        self.transport = transport

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text, attachments = None, []
        for part in message.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                attachments.append({"filename": part.get_filename(), "type": part.get_content_type(),
                                    "content": part.get_content() if part.get_content_maintype() == "text" else None})
            elif part.get_content_type() == "text/plain":
                text = part.get_content()
        with open(log_file, "a") as log:
            log.write(json.dumps({
                "transport": self.transport, "from": envelope.mail_from, "to": envelope.rcpt_tos,
                "user": session.auth_data if session.authenticated else None,
                "authenticated": bool(session.authenticated), "tls": server.transport.get_extra_info("ssl_object") is not None,
                "subject": str(message["Subject"]), "messageId": str(message["Message-ID"]),
                "text": text, "attachments": attachments,
            }) + "\n")
        return "250 OK"


common = dict(hostname="127.0.0.1", authenticator=authenticator, auth_exclude_mechanism=[])
starttls = Controller(Handler("starttls"), port=int(starttls_port), tls_context=context, require_starttls=True,
                      auth_require_tls=True, **common)
# aiosmtpd counts only STARTTLS as TLS for auth_require_tls; this port is TLS from the first byte.
implicit = Controller(Handler("tls"), port=int(tls_port), ssl_context=context, auth_require_tls=False, **common)
starttls.start()
implicit.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
