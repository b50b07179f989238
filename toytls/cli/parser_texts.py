"""The words of ``toytls --help``: the description, each command's help, exit statuses.

Text only, kept apart from the parser (:mod:`.parser`) so that the parser
reads as flags and the help reads as prose.
"""

from __future__ import annotations

DESCRIPTION = """\
toytls makes HTTPS visible: a small, real, secure protocol (toytls/1) with
certificates, signatures, a chain of trust and an attacker who tries to get
in the middle.

Start with:  toytls demo
Or open three terminals:
  1$ toytls certs && toytls server
  2$ toytls proxy --mode swap-key
  3$ toytls client --connect 127.0.0.1:8443 --message "hello"
Run real programs over it (HTTP in a browser, any TCP service):
  toytls server --app http & toytls tunnel, then open http://127.0.0.1:8080/
"""

EXIT_STATUSES = """\
exit status:
  0  success
  1  failure (a server or proxy could not run)
  2  usage: bad flags, missing files
  3  certificate rejected (client)
  4  connection or protocol failure (client; a server that does not finish
     the handshake within 10 s included)
  130  stopped by Ctrl-C (SIGINT), 143 by SIGTERM: a server or client first
     sends close_notify on each open connection (within 1 s); a relay
     (tunnel, server --forward, proxy) cuts each open one instead
"""

CERTS_HELP = """\
Make the demo PKI: a root CA, an intermediate CA ("R3"-like), a certificate
for the server, and the attacker's material (his own root, a certificate
for the server's name from that root, a self-signed one, and a genuine one
for attacker.test). Private keys are written with mode 0600.

example:
  toytls certs --dir certs --name localhost
"""

DEMO_HELP = """\
Run the story of HTTPS for real over loopback sockets, in one terminal:
an honest connection with its chain of trust checked link by link, then
the man in the middle who swaps the server's public key (偷梁换柱) —
rejected by a client that checks certificates, successful against one
that does not.

exit status: 0 if every scenario behaved as the article predicts, 1 if not.

example:
  toytls demo
"""

SERVER_HELP = """\
Serve toytls/1 to many clients at once. One log line per connection event
(connect, handshake done with the session key's fingerprint, alerts with
their meaning, disconnect), and each connection narrated at the -v level.

  --app echo   return every byte received (default)
  --app chat   show what each client says; type a line to answer all,
               or "@N text" to answer client N
  --app http   an HTTP/1.1 server whose page shows each visitor their own
               connection: chain, key X's fingerprint, and their request as
               an eavesdropper saw it (JSON at /api/session)
  --forward HOST:PORT
               the server end of a tunnel: decrypt and pass the data to a
               plain TCP service (see `toytls tunnel`)

examples:
  toytls server
  toytls server --accept 127.0.0.1:4433 --app chat -v
  toytls server --plaintext        # no TLS at all, to watch with the proxy
  toytls server --app http         # then: toytls tunnel, and a browser
  toytls server --forward 127.0.0.1:8000   # in front of python -m http.server
"""

CLIENT_HELP = """\
Connect to a toytls server, check its certificate chain (the article's
digests S and T for each link), send key X encrypted with the server's
public key B+, then talk. With --message, send one text, print the reply
and close; without, send each line you type.

examples:
  toytls client --message "hello"
  toytls client --connect 127.0.0.1:8443 --message "hi"   # through the proxy
  toytls client --insecure --message "hi"                 # no checks at all
  toytls client --trust certs/attacker-root.pem           # a rogue root installed
  toytls client --http GET /api/session                   # to `toytls server --app http`

With --http, the response's head is printed as "< " lines and its body as
it is; an answer of 400 or more ends with exit status 1.
"""

TUNNEL_HELP = """\
Run any TCP program over toytls, unchanged: listen for plain TCP on
--accept and carry each connection over its own toytls/1 connection to
--connect, checking the server's certificate exactly as `toytls client`
does (verification is on unless you say --insecure). Pair it with
`toytls server --forward HOST:PORT` on the other side, or point it at
`toytls server --app http` and open the page in a browser.

A connection whose server cannot be reached or whose certificate is
rejected is reset at once (a failure, not an empty answer) and logged with
the reason; the tunnel keeps serving the next one.

examples:
  python3 -m http.server 8000 --bind 127.0.0.1 &
  toytls server --forward 127.0.0.1:8000 &
  toytls tunnel --accept 127.0.0.1:8080 --connect 127.0.0.1:4433 &
  curl http://127.0.0.1:8080/

  toytls server --app http &
  toytls tunnel            # then open http://127.0.0.1:8080/ in a browser
"""

PROXY_HELP = """\
The attacker in the middle: listen for the client, forward to the real
server, and try one of the article's attacks.

modes:
  watch        relay and decode every record: the data is ciphertext (in
               front of a --plaintext server it reads everything; --rewrite
               OLD=NEW changes what the client sends, on the way to the
               server; replies pass unchanged, so an HTTP body keeps its
               Content-Length)
  swap-key     偷梁换柱: the real certificate with the attacker's public key
               B+ in place of the server's; the CA's signature kept
  tamper-cert  change the subject's name inside the signed part
  swap-cert    证书调包: the attacker's own genuine certificate, issued by the
               same CA for attacker.test
  self-signed  a certificate for the server's name signed by the attacker
  own-ca       like mitmproxy: a certificate for the name from the
               attacker's own root CA (works only if the client trusts it)
  flip         after the handshake, flip one bit of a data record
  replay       send a data record a second time
  truncate     cut the connection after some data, without close_notify

Whatever the proxy can read (plaintext, or everything after an attack that
worked) is shown as it passes; HTTP is shown as request and status lines
with their headers.

example:
  toytls proxy --listen 127.0.0.1:8443 --upstream 127.0.0.1:4433 --mode swap-key
"""

INSPECT_HELP = """\
See through a certificate, like `openssl x509 -text`, in the article's
words: who holds it, who issued it, its public key (B+ for a server, A+ for
a CA) with the RSA modulus, its digital signature — and that signature
opened with the issuer's public key A+: the PKCS#1 v1.5 block
00 01 ff…ff 00 ‖ DigestInfo ‖ T, next to S = SHA-256 of the signed part.
The issuer is --issuer, the next certificate in the file, or the
certificate itself when it is self-signed. Any PEM or DER certificate.

examples:
  toytls inspect certs/server.pem --issuer certs/intermediate.pem
  toytls inspect certs/chain.pem --lang zh
  toytls inspect certs/root.pem --json
"""

DECODE_HELP = """\
Read a capture (a classic pcap: from `toytls proxy --pcap`, or tcpdump or
tshark on loopback), put each TCP conversation back together and tell
every toytls/1 record and handshake message in it. The application data
stays ciphertext unless you hand over a key: a key log (from --keylog or
TOYTLS_KEYLOGFILE) gives key X directly; the server's private key B− opens
ClientKeyExchange and so X — for any conversation ever recorded.

examples:
  toytls decode cap.pcap
  toytls decode cap.pcap --keylog keys.log
  toytls decode cap.pcap --key certs/server.key
"""

WIRESHARK_HELP = """\
Print where the toytls/1 dissector for Wireshark is (a Lua plugin shipped
with toytls) and how to load it. Its filter name is `toytls`; it is
registered on TCP port 4433 and available in "Decode As" for other ports.

examples:
  wireshark -X lua_script:"$(toytls wireshark)" -r cap.pcap
  tshark -X lua_script:"$(toytls wireshark)" -r cap.pcap -d tcp.port==8443,toytls
"""

KEYLOG_HELP = (
    "append CLIENT_RANDOM <client random> <key X> for each connection to FILE "
    "(also: environment variable TOYTLS_KEYLOGFILE). Anyone holding that file "
    "can decrypt every recorded conversation it lists: for debugging only"
)
