"""The words of ``toytls --help``, in English and Chinese, and its usage errors in Chinese.

Text only, kept apart from the parser (:mod:`.parser`) so that the parser
reads as flags and the help reads as prose. The parser is written in
English; :data:`ZH` gives each English text its Chinese (used by
:func:`.parser_lang.localise`), and :data:`ERRORS` puts argparse's usage
errors into Chinese. The Chinese uses the article's terms (数字证书,
数字签名, 摘要, 公钥/私钥, 证书链, 根证书, 中间人, 偷梁换柱, 证书调包).

Each command's exit statuses are in :data:`EXIT_STATUSES`, one table per
command, listing only what that command can return (a test reads each
command's module and checks).
"""

from __future__ import annotations

# ----------------------------------------------------------------- English

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

In Chinese: --lang zh, before or after the command (`toytls --lang zh demo`),
or TOYTLS_LANG=zh in the environment, for the help and the narration.
The locale (LANG) is not read, so output does not change with the desktop.
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
Run the story of HTTPS in one terminal, for real: an honest connection
with its chain of trust checked link by link, then the man in the middle
who swaps the server's public key (偷梁换柱) — rejected by a client that
checks certificates, successful against one that does not. Every scenario
but one runs a real client, server and (for the attacks) proxy over
loopback TCP, the article's first lessons too, with their own toy
protocols; lesson 4 times RSA against AES in memory. Each scenario ends
with one line naming the sockets it used (with --json: "transport").

example:
  toytls demo
  toytls demo --lang zh --only 6,12
"""

SERVER_HELP = """\
Serve toytls/1 to many clients at once.

  --app echo   return every byte received (default)
  --app chat   show what each client says; type a line to answer all,
               or "@N text" to answer client N
  --app http   an HTTP/1.1 server whose page shows each visitor their own
               connection: chain, key X's fingerprint, and their request as
               an eavesdropper saw it (JSON at /api/session)
  --forward HOST:PORT
               the server end of a tunnel: decrypt and pass the data to a
               plain TCP service (see `toytls tunnel`)

what you see:
  at every level, -q included: one log line per connection event —
  connected, handshake done (the name, the cipher, key X's fingerprint),
  how it ended (disconnected, or failed with the alert and its meaning)
  with the bytes in and out. The app adds its own lines: chat each line a
  client says, http each request line, --forward the service it forwards
  to; echo none.
  by default, also each connection's handshake in the article's six steps
  as the server sees them (it sends the chain holding B+, then unlocks key
  X with its private key B−), one line for each piece of data received or
  sent (its size, not its content), and each side's close_notify.
  -v adds every message's fields and the keys (key X itself included) and
  the data's content; -vv every record. -q keeps only the log lines.
  --forward tells the steps only from -v: a relay may carry megabytes.
  --plaintext has no handshake to tell: only the log lines.

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
server, and try one of the article's attacks. The server's key pair is
B+/B−; the attacker's own is M+/M−.

modes:
  watch        relay and decode every record: the data is ciphertext (in
               front of a --plaintext server it reads everything; --rewrite
               OLD=NEW changes what the client sends, on the way to the
               server; replies pass unchanged, so an HTTP body keeps its
               Content-Length)
  swap-key     偷梁换柱: the real certificate with the attacker's public key
               M+ in place of the server's B+; the CA's signature kept
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

# ---------------------------------------------------------- exit statuses

#: Meanings several commands share, as (English, Chinese).
_CUT = (
    "the output was cut off (stdout closed, as by `| head`)",
    "输出被截断（标准输出被关掉了，比如接了 `| head`）",
)
_CTRL_C = ("stopped by Ctrl-C (SIGINT)", "按 Ctrl-C（SIGINT）中断")
_SIGTERM = ("stopped by SIGTERM, the same way", "收到 SIGTERM 时同样停止")
_CUTS_EACH = (
    "stopped by Ctrl-C (SIGINT); each open connection is cut,\n"
    "not closed: a relay cannot tell whether all the data got through",
    "按 Ctrl-C（SIGINT）停止：每条未关闭的连接都被直接切断，而不是正常关闭，\n"
    "因为中转的一方不知道数据是否都已送到",
)
_CANNOT_LISTEN = {
    flag: (
        f"cannot listen on {flag} (in use, or not allowed)",
        f"无法在 {flag} 的地址上监听（已被占用，或没有权限）",
    )
    for flag in ("--accept", "--listen")
}

#: Each command's exit statuses (None: ``toytls`` itself): status → (English, Chinese).
#: Only what the command can return; a "\n" starts a continuation line.
EXIT_STATUSES: dict[str | None, dict[int, tuple[str, str]]] = {
    None: {
        0: ("success", "成功"),
        1: (
            "failure: a server, tunnel or proxy cannot listen, a demo\n"
            "scenario did not go as predicted, client --http got 400 or more…\n"
            "(each command's --help says which)",
            "失败：server、tunnel 或 proxy 无法监听，demo 有场景和预期不符，\n"
            "client --http 收到 400 及以上的状态码……（详见各命令的 --help）",
        ),
        2: ("usage: bad flags, missing files", "用法错误：参数不对，或文件缺失"),
        3: ("certificate rejected (client)", "数字证书被拒绝（client）"),
        4: (
            "connection or protocol failure (client; a server that does not\n"
            "finish the handshake within 10 s included)",
            "连接或协议失败（client；服务器 10 秒内没有完成握手也算）",
        ),
        130: ("stopped by Ctrl-C (SIGINT)", "按 Ctrl-C（SIGINT）中断"),
        143: (
            "stopped by SIGTERM (demo, server, client, tunnel, proxy)",
            "收到 SIGTERM 而停止（demo、server、client、tunnel、proxy）",
        ),
    },
    "certs": {
        0: ("the certificates and keys were written", "数字证书和密钥都已写好"),
        1: _CUT,
        2: (
            "usage: bad flags; files already there (without --force);\n"
            "a directory that cannot be written",
            "用法错误：参数不对；文件已经存在（又没加 --force）；目录无法写入",
        ),
        130: _CTRL_C,
    },
    "demo": {
        0: (
            "every scenario behaved as the article predicts (and --list)",
            "每个场景都和文章预言的一样（--list 也返回 0）",
        ),
        1: (
            "some scenario did not, or the output was cut off (stdout\nclosed, as by `| head`)",
            "有场景和预言不符，或输出被截断（比如接了 `| head`）",
        ),
        2: (
            "usage: bad flags or --only; the PKI directory or the --html\nreport cannot be written",
            "用法错误：参数或 --only 不对；证书目录或 --html 报告无法写入",
        ),
        130: (
            "stopped by Ctrl-C (SIGINT); everything the demo started is stopped",
            "按 Ctrl-C（SIGINT）中断；demo 启动的一切都会停下",
        ),
        143: _SIGTERM,
    },
    "server": {
        1: _CANNOT_LISTEN["--accept"],
        2: (
            "usage: bad flags or address; the certificate chain or key\n"
            "missing or unreadable (run `toytls certs` first)",
            "用法错误：参数或地址不对；证书链或私钥缺失、无法读取\n（请先运行 `toytls certs`）",
        ),
        130: (
            "stopped by Ctrl-C (SIGINT), after sending close_notify on\n"
            "each open connection (within 1 s); --forward cuts each one instead",
            "按 Ctrl-C（SIGINT）停止：先在每条未关闭的连接上发出 close_notify\n"
            "（1 秒之内）；--forward 则直接切断每条连接",
        ),
        143: _SIGTERM,
    },
    "client": {
        0: ("the conversation went through", "对话顺利完成"),
        1: (
            "--http: the server answered 400 or more; or the output was\n"
            "cut off (stdout closed, as by `| head`)",
            "用了 --http，而服务器返回 400 及以上的状态码；或输出被截断\n（比如接了 `| head`）",
        ),
        2: (
            "usage: bad flags or address, a --cafile or --trust file missing\nor unreadable",
            "用法错误：参数或地址不对，--cafile 或 --trust 指定的文件缺失或无法读取",
        ),
        3: (
            "certificate rejected: the chain does not check out (digest\n"
            "T ≠ S, a name that does not match, a root not trusted, expired…)",
            "数字证书被拒绝：证书链验证没通过（摘要 T ≠ S、名字对不上、\n"
            "根证书不受信任、已过期……）",
        ),
        4: (
            "connection or protocol failure: the server cannot be reached,\n"
            "sent an alert or a bad record, or did not finish the handshake\n"
            "within 10 s",
            "连接或协议失败：连不上服务器，对方发来警报（alert）或损坏的记录，\n"
            "或者 10 秒内没有完成握手",
        ),
        130: (
            "stopped by Ctrl-C (SIGINT), after sending close_notify if the\n"
            "connection was up (within 1 s)",
            "按 Ctrl-C（SIGINT）停止：连接还在的话，先发出 close_notify（1 秒之内）",
        ),
        143: _SIGTERM,
    },
    "tunnel": {
        1: _CANNOT_LISTEN["--accept"],
        2: (
            "usage: bad flags, address or server name; a --cafile or\n"
            "--trust file missing or unreadable",
            "用法错误：参数、地址或服务器名字不对；--cafile 或 --trust\n指定的文件缺失或无法读取",
        ),
        130: _CUTS_EACH,
        143: _SIGTERM,
    },
    "proxy": {
        1: _CANNOT_LISTEN["--listen"],
        2: (
            "usage: bad flags, address or --rewrite rule; the attacker's\n"
            "files missing (run `toytls certs`); a --pcap file that cannot\n"
            "be written",
            "用法错误：参数、地址或 --rewrite 规则不对；攻击者的文件缺失\n"
            "（请先运行 `toytls certs`）；--pcap 文件无法写入",
        ),
        130: _CUTS_EACH,
        143: _SIGTERM,
    },
    "inspect": {
        0: ("the certificates were shown", "已显示数字证书"),
        1: _CUT,
        2: (
            "usage: bad flags; a file that cannot be read or holds no\ncertificate",
            "用法错误：参数不对；文件无法读取，或里面没有数字证书",
        ),
        130: _CTRL_C,
    },
    "decode": {
        0: ("the capture was read and told", "抓包文件已读完并解读"),
        1: (
            "the key log or key given opens none of the conversations;\n"
            "or the output was cut off (stdout closed, as by `| head`)",
            "给出的密钥日志或私钥一条对话也解不开；或输出被截断\n（比如接了 `| head`）",
        ),
        2: (
            "usage: bad flags; a capture, key log or key that cannot be\nread or used",
            "用法错误：参数不对；抓包文件、密钥日志或私钥无法读取或无法使用",
        ),
        130: _CTRL_C,
    },
    "wireshark": {
        0: ("the path was printed", "已打印插件的路径"),
        1: (
            "the dissector is missing from this installation; or the output\n"
            "was cut off (stdout closed, as by `| head`)",
            "安装里缺少这个解析插件；或输出被截断（比如接了 `| head`）",
        ),
        2: ("usage: bad flags", "用法错误：参数不对"),
        130: _CTRL_C,
    },
}

_EXIT_HEADINGS = {
    "en": ("exit status:", "exit status (each command's --help lists its own):"),
    "zh": ("退出状态：", "退出状态（每个命令的 --help 里列出它自己的）："),
}


def exit_statuses(command: str | None, lang: str = "en") -> str:
    """The exit-status table of ``command`` (None: ``toytls`` itself), in ``lang``."""
    lines = [_EXIT_HEADINGS[lang][command is None]]
    for status, meanings in EXIT_STATUSES[command].items():
        first, *rest = meanings[lang == "zh"].split("\n")
        lines.append(f"  {status}  {first}")
        indent = " " * (len(str(status)) + 4)
        lines.extend(indent + line for line in rest)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- Chinese

_DESCRIPTION_ZH = """\
toytls 让 HTTPS 看得见：一个小而真实的安全协议（toytls/1），有数字证书、
数字签名、证书链，还有一个想插到中间的攻击者（中间人）。

先看这个：  toytls demo
或者开三个终端：
  1$ toytls certs && toytls server
  2$ toytls proxy --mode swap-key
  3$ toytls client --connect 127.0.0.1:8443 --message "hello"
也能让真实的程序跑在上面（浏览器里的 HTTP、任意 TCP 服务）：
  toytls server --app http & toytls tunnel，然后打开 http://127.0.0.1:8080/

中文：在命令名前后加 --lang zh（如 `toytls --lang zh demo`），或者设置
环境变量 TOYTLS_LANG=zh，帮助和讲解就都是中文。程序不读 LANG 等区域设置，
所以输出不会随桌面的语言而变。
"""

_CERTS_HELP_ZH = """\
生成演示用的 PKI：一个根 CA、一个中间 CA（类似现实中的“R3”）、服务器的
数字证书，以及攻击者的材料（他自己的根证书、用这个根证书为服务器名字签发
的数字证书、一张自签名证书，以及由真 CA 为 attacker.test 签发的一张真证书）。
私钥文件的权限是 0600。

示例：
  toytls certs --dir certs --name localhost
"""

_DEMO_HELP_ZH = """\
在一个终端里，把 HTTPS 的故事真刀真枪地跑一遍：先是一次正常的连接，证书链
一环一环地验证；然后中间人把服务器的公钥换掉（偷梁换柱）——会验证数字证书
的客户端识破了它，不验证的客户端则上当受骗。除了一个场景，每个场景都让真实
的客户端、服务器（攻击场景里还有代理）通过本机回环的 TCP 连接通信，文章开头
那几课也一样，用的是它们各自的玩具协议；第 4 课只是在内存里比较 RSA 和 AES
的速度。每个场景最后用一行说明它用了哪些套接字（加 --json 时是 "transport"）。

示例：
  toytls demo
  toytls demo --lang zh --only 6,12
"""

_SERVER_HELP_ZH = """\
同时为多个客户端提供 toytls/1 服务。

  --app echo   把收到的每个字节原样发回（默认）
  --app chat   显示每个客户端说的话；输入一行就回复所有人，
               输入“@N 文字”只回复第 N 个客户端
  --app http   一个 HTTP/1.1 服务器，页面给每位访客看他自己这条连接：
               证书链、密钥 X 的指纹，以及窃听者眼中的他的请求
               （JSON 版在 /api/session）
  --forward HOST:PORT
               隧道的服务器一端：解密后把数据交给一个明文 TCP 服务
               （见 `toytls tunnel`）

你会看到什么：
  任何级别（包括 -q）：每个连接事件一行日志——连上、握手完成（名字、
  加密算法、密钥 X 的指纹）、怎样结束（断开，或者失败，附上警报和它的
  含义），以及收发的字节数。各个应用还会加上自己的行：chat 显示客户端
  说的每一行，http 显示每个请求行，--forward 显示转发到哪个服务；
  echo 不加。
  默认：再按文章的六个步骤讲每条连接的握手，从服务器这边看（它发出装着
  B+ 的证书链，再用自己的私钥 B− 解开密钥 X）；收到或发出的每段数据
  各一行（只说大小，不显示内容）；以及双方的 close_notify。
  -v 再加上每条消息的字段和各个密钥（包括密钥 X 本身），以及数据的内容；
  -vv 显示每一条记录。-q 只留日志行。
  --forward 要到 -v 才讲这些步骤：转发的连接可能有好几 MB 的数据。
  --plaintext 没有握手可讲：只有日志行。

示例：
  toytls server
  toytls server --accept 127.0.0.1:4433 --app chat -v
  toytls server --plaintext        # 完全不加密，配合 proxy 观察
  toytls server --app http         # 然后：toytls tunnel，再开浏览器
  toytls server --forward 127.0.0.1:8000   # 挡在 python -m http.server 前面
"""

_CLIENT_HELP_ZH = """\
连接 toytls 服务器，验证它的证书链（每一环都算出文章里的摘要 S 和 T），
用服务器的公钥 B+ 加密密钥 X 发过去，然后对话。用 --message 时，发一段
文字、打印回复，然后关闭；不用时，把你输入的每一行发出去。

示例：
  toytls client --message "hello"
  toytls client --connect 127.0.0.1:8443 --message "hi"   # 经过 proxy
  toytls client --insecure --message "hi"                 # 什么都不检查
  toytls client --trust certs/attacker-root.pem           # 装了一张流氓根证书
  toytls client --http GET /api/session                   # 对方用 --app http

用 --http 时，响应头逐行打印，每行以“< ”开头，响应体原样输出；状态码为
400 及以上时，退出状态是 1。
"""

_TUNNEL_HELP_ZH = """\
让任何 TCP 程序原封不动地跑在 toytls 上：在 --accept 上监听明文 TCP，
每条连接各用一条 toytls/1 连接送到 --connect，并且像 `toytls client`
一样验证服务器的数字证书（除非加 --insecure，否则一定验证）。另一端配上
`toytls server --forward HOST:PORT`，或者直接连 `toytls server --app http`，
再用浏览器打开页面。

连不上服务器、或者服务器的数字证书被拒绝时，这条连接会被立刻重置（这是
失败，不是一个空的回答），日志里写明原因；隧道继续服务下一条连接。

示例：
  python3 -m http.server 8000 --bind 127.0.0.1 &
  toytls server --forward 127.0.0.1:8000 &
  toytls tunnel --accept 127.0.0.1:8080 --connect 127.0.0.1:4433 &
  curl http://127.0.0.1:8080/

  toytls server --app http &
  toytls tunnel            # 然后在浏览器里打开 http://127.0.0.1:8080/
"""

_PROXY_HELP_ZH = """\
中间人攻击者：等客户端连上来，转发给真正的服务器，并尝试文章里的一种攻击。
服务器的密钥对是 B+/B−，攻击者自己的是 M+/M−。

模式：
  watch        转发并解读每一条记录：看到的数据都是密文（如果服务器用了
               --plaintext，就什么都看得见；--rewrite OLD=NEW 会改掉客户端
               发往服务器的内容；回复原样放行，所以 HTTP 响应体的
               Content-Length 仍然对得上）
  swap-key     偷梁换柱：真证书不动，只把里面服务器的公钥 B+ 换成攻击者
               的公钥 M+；CA 的数字签名原样保留
  tamper-cert  改动证书签名部分里的主体名称
  swap-cert    证书调包：出示攻击者自己的真证书，由同一个 CA 为
               attacker.test 签发
  self-signed  出示一张写着服务器名字、由攻击者自己签名的证书
  own-ca       像 mitmproxy 那样：用攻击者自己的根 CA 为这个名字签发证书
               （只有客户端信任这个根证书时才能得手）
  flip         握手之后，把一条数据记录翻转一位
  replay       把一条数据记录再发一次
  truncate     传了一些数据后切断连接，不发 close_notify

代理能读到的内容（明文，或者攻击得手之后的一切）都会在经过时显示出来；
HTTP 显示为请求行、状态行以及各自的头部。

示例：
  toytls proxy --listen 127.0.0.1:8443 --upstream 127.0.0.1:4433 --mode swap-key
"""

_INSPECT_HELP_ZH = """\
透视一张数字证书，就像 `openssl x509 -text`，但用文章的说法：它属于谁、
谁签发的、它的公钥（服务器的是 B+，CA 的是 A+）和 RSA 模数、它的数字
签名——以及用签发者的公钥 A+ 解开这个签名后得到的 PKCS#1 v1.5 数据块
00 01 ff…ff 00 ‖ DigestInfo ‖ T，旁边是 S = 签名部分的 SHA-256 摘要。
签发者取 --issuer，否则取文件里的下一张证书；自签名的证书就用它自己。
PEM 和 DER 格式的数字证书都可以。

示例：
  toytls inspect certs/server.pem --issuer certs/intermediate.pem
  toytls inspect certs/chain.pem --lang zh
  toytls inspect certs/root.pem --json
"""

_DECODE_HELP_ZH = """\
读一个抓包文件（经典 pcap 格式：来自 `toytls proxy --pcap`，或者在回环接口
上用 tcpdump、tshark 抓的），把每条 TCP 对话重新拼起来，逐条解读其中的
toytls/1 记录和握手消息。除非你交出密钥，应用数据始终是密文：密钥日志
（来自 --keylog 或 TOYTLS_KEYLOGFILE）直接给出密钥 X；服务器的私钥 B−
能解开 ClientKeyExchange，从而得到 X——对任何录下来的对话都行。

示例：
  toytls decode cap.pcap
  toytls decode cap.pcap --keylog keys.log
  toytls decode cap.pcap --key certs/server.key
"""

_WIRESHARK_HELP_ZH = """\
打印 Wireshark 用的 toytls/1 解析插件在哪里（toytls 自带的一个 Lua 插件），
以及怎样加载它。它的过滤器名字是 `toytls`；默认挂在 TCP 端口 4433 上，
其他端口可以在“Decode As”里选它。

示例：
  wireshark -X lua_script:"$(toytls wireshark)" -r cap.pcap
  tshark -X lua_script:"$(toytls wireshark)" -r cap.pcap -d tcp.port==8443,toytls
"""

#: Every English text of the parser → its Chinese. An English text missing
#: here stays English in ``--lang zh`` help (and the zh help test fails).
ZH: dict[str, str] = {
    # argparse's own
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示这份帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    # the descriptions
    DESCRIPTION: _DESCRIPTION_ZH,
    CERTS_HELP: _CERTS_HELP_ZH,
    DEMO_HELP: _DEMO_HELP_ZH,
    SERVER_HELP: _SERVER_HELP_ZH,
    CLIENT_HELP: _CLIENT_HELP_ZH,
    TUNNEL_HELP: _TUNNEL_HELP_ZH,
    PROXY_HELP: _PROXY_HELP_ZH,
    INSPECT_HELP: _INSPECT_HELP_ZH,
    DECODE_HELP: _DECODE_HELP_ZH,
    WIRESHARK_HELP: _WIRESHARK_HELP_ZH,
    # the commands, as the top-level help lists them
    "make the demo certificates and keys": "生成演示用的数字证书和密钥",
    "watch HTTPS being built and attacked, in one terminal": (
        "在一个终端里看 HTTPS 怎样一步步搭起来，又怎样被攻击"
    ),
    "serve toytls/1 (echo, chat, an HTTP page, or forward to a service)": (
        "提供 toytls/1 服务（回显、聊天、HTTP 页面，或转发给别的服务）"
    ),
    "connect to a server, check it, talk": "连接服务器，验证它，然后对话",
    "plain TCP in, toytls out (like stunnel)": "明文 TCP 进，toytls 出（类似 stunnel）",
    "the attacker in the middle": "中间人攻击者",
    "see through a certificate: its key, its signature opened": (
        "透视一张数字证书：里面的公钥，以及解开的数字签名"
    ),
    "tell the toytls/1 conversations in a capture": "解读抓包文件里的 toytls/1 对话",
    "where the Wireshark dissector is": "Wireshark 解析插件在哪里",
    # the top level, and flags several commands share
    "language of the help and of the command's output: en or zh "
    "(default: %(default)s; the environment variable TOYTLS_LANG sets it)": (
        "帮助和命令输出用的语言：en 或 zh（默认：%(default)s；也可以用环境变量 TOYTLS_LANG 设置）"
    ),
    "output": "输出",
    "more detail: -v every message's fields and the keys, -vv every record": (
        "讲得更细：-v 显示每条消息的字段和各个密钥，-vv 显示每一条记录"
    ),
    "only outcomes, not the steps": "只显示结果，不讲步骤",
    "narration language: en or zh (default: %(default)s)": (
        "讲解用的语言：en 或 zh（默认：%(default)s）"
    ),
    "narration language (default: en)": "讲解用的语言（默认：en）",
    "language: en or zh (default: %(default)s)": "语言：en 或 zh（默认：%(default)s）",
    "language (default: en)": "语言（默认：en）",
    "annotate every record byte by byte": "逐字节注解每一条记录",
    "one JSON object per event on stdout, for tools": (
        "每个事件在标准输出上打印成一个 JSON 对象，供程序读取"
    ),
    "no colours": "不用颜色",
    "the name to ask for and check the certificate against (default: localhost)": (
        "要访问的名字，也用它来核对数字证书（默认：localhost）"
    ),
    "the trusted root, holding A+ (default: %(default)s)": (
        "信任的根证书，里面装着 CA 的公钥 A+（默认：%(default)s）"
    ),
    "trust one more root (as if someone installed it on your computer)": (
        "再多信任一张根证书（就像有人把它装进了你的电脑）"
    ),
    "skip ALL certificate checks (shows what an attacker gains)": (
        "跳过所有数字证书检查（看看攻击者能得到什么）"
    ),
    KEYLOG_HELP: (
        "为每条连接往 FILE 追加一行 CLIENT_RANDOM <客户端随机数> <密钥 X>"
        "（也可以用环境变量 TOYTLS_KEYLOGFILE）。拿到这个文件的人，"
        "能解密其中列出的每一段录下来的对话：只用于调试"
    ),
    # certs
    "where (default: certs)": "写到哪个目录（默认：certs）",
    "the server's name (default: localhost)": "服务器的名字（默认：localhost）",
    "replace existing files": "覆盖已有的文件",
    # demo
    "use (or create) the PKI here": "使用这个目录里的 PKI（没有就在这里生成）",
    "run only these scenarios, e.g. --only 6,12": "只跑这几个场景，例如 --only 6,12",
    "wait for Enter before each scenario": "每个场景开始前，等你按回车",
    "print the scenarios (number and title) and exit": "列出所有场景（编号和标题）后退出",
    "one JSON object per scenario result": "每个场景的结果打印成一个 JSON 对象",
    "also write a one-file report with diagrams": "另外写一份带图示的单文件报告",
    # server
    "HOST:PORT to listen on (default: %(default)s)": "监听的 HOST:PORT（默认：%(default)s）",
    "the chain to present, leaf first (default: %(default)s)": (
        "要出示的证书链，服务器自己的证书在最前（默认：%(default)s）"
    ),
    "the leaf's private key B− (default: %(default)s)": (
        "服务器证书对应的私钥 B−（默认：%(default)s）"
    ),
    "what to do with data (default: echo)": "怎样处理收到的数据（默认：echo）",
    "pass each connection's data to this TCP service, like stunnel": (
        "像 stunnel 那样，把每条连接的数据转交给这个 TCP 服务"
    ),
    "no TLS at all: plain TCP": "完全不用 TLS：明文 TCP",
    "seconds a client has to finish the handshake (default: 10)": (
        "客户端必须在几秒内完成握手（默认：10）"
    ),
    "serve with N processes sharing the port (SO_REUSEPORT), one per core (default: 1)": (
        "用 N 个进程共享同一个端口（SO_REUSEPORT）来服务，每个 CPU 核一个（默认：1）"
    ),
    # client
    "HOST:PORT (default: %(default)s)": "服务器的 HOST:PORT（默认：%(default)s）",
    "send this text, print the reply, close": "发送这段文字，打印回复，然后关闭",
    "send one HTTP/1.1 request (e.g. GET /) and print the answer": (
        "发一个 HTTP/1.1 请求（例如 GET /），并打印响应"
    ),
    # tunnel
    "HOST:PORT where local programs connect, in plain TCP (default: %(default)s)": (
        "本机程序用明文 TCP 连接的 HOST:PORT（默认：%(default)s）"
    ),
    "the toytls server, HOST:PORT (default: %(default)s)": (
        "toytls 服务器的 HOST:PORT（默认：%(default)s）"
    ),
    # proxy
    "HOST:PORT for clients (default: %(default)s)": (
        "供客户端连接的 HOST:PORT（默认：%(default)s）"
    ),
    "the real server (default: %(default)s)": "真正的服务器（默认：%(default)s）",
    "the attack: one of the modes above": "攻击方式：上面列出的模式之一",
    "where the attacker's key M− and certificates are (default: certs)": (
        "攻击者的私钥 M− 和证书所在的目录（默认：certs）"
    ),
    "in plaintext from the client to the server, replace OLD with NEW (watch mode)": (
        "在客户端发往服务器的明文里，把 OLD 换成 NEW（watch 模式）"
    ),
    "write every byte relayed with the clients to FILE, as a pcap for Wireshark": (
        "把和客户端之间转发的每个字节写进 FILE，存成 Wireshark 能打开的 pcap"
    ),
    # inspect
    "a PEM or DER file": "PEM 或 DER 格式的文件",
    "the certificate of whoever signed it": "签发者的数字证书",
    "the x-ray as one JSON object": "把透视结果打印成一个 JSON 对象",
    # decode
    "a classic pcap file": "经典格式的 pcap 文件",
    "a key log: CLIENT_RANDOM lines give key X": "密钥日志：其中的 CLIENT_RANDOM 行给出密钥 X",
    "the server's private key B−: opens X": "服务器的私钥 B−：用它解开 X",
    "only TCP conversations with this port": "只看用到这个端口的 TCP 对话",
    "one JSON object per record": "每条记录打印成一个 JSON 对象",
    # wireshark
    "language of this help: en or zh (default: %(default)s)": (
        "这份帮助的语言：en 或 zh（默认：%(default)s）"
    ),
    # each command's exit statuses
    **{exit_statuses(command): exit_statuses(command, "zh") for command in EXIT_STATUSES},
}

#: argparse's usage errors (Python 3.11 to 3.13), as (regular expression
#: matching the whole English message, Chinese with \\1… for its groups).
#: "argument X: …" is handled around these by :func:`.parser_lang.translate_error`.
ERRORS: tuple[tuple[str, str], ...] = (
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"one of the arguments (.*) is required", r"以下参数必须给出一个：\1"),
    (r"not allowed with argument (.*)", r"不能和参数 \1 一起用"),
    (r"expected one argument", "后面要跟一个值"),
    (r"expected at most one argument", "后面最多跟一个值"),
    (r"expected at least one argument", "后面至少要跟一个值"),
    (r"expected (\d+) arguments?", r"后面要跟 \1 个值"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"无效的选择：\1（可选：\2）"),
    (r"invalid float value: (.*)", r"\1 不是一个数"),
    (r"invalid int value: (.*)", r"\1 不是整数"),
    (r"invalid (\S+) value: (.*)", r"无效的 \1 值：\2"),
    (r"ambiguous option: (\S+) could match (.*)", r"选项 \1 有歧义，可能是：\2"),
    (r"ignored explicit argument (.*)", r"多余的参数值：\1"),
    (r"must be a whole number of at least 1, not (.*)", r"必须是不小于 1 的整数，而不是 \1"),
)
